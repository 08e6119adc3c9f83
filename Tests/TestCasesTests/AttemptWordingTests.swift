import Faults
import Measurements
import Testing
@testable import TestCases

/// What the verdict and the Markdown log say about reconnect attempts and a stopped server.
extension ChecklistTests {
    @Test func theLogGivesEveryAttemptWithItsTime() {
        var restart = window()
        restart.attempts = AttemptSeries(attempts: [10.98, 10.988, 10.995].map { ConnectionAttempt(after: $0, kind: .refused) })
        let markdown = CaseMarkdown.appending(report(RunObservations(windows: [restart], data: match)), to: CaseMarkdown.document(tc004))
        #expect(markdown.contains("- Retry behavior: window 1: 1 attempt (3 connections) at 10.98 s; reconnected 0.50 s after the restore"))

        let single = CaseMarkdown.appending(report(RunObservations(windows: [window()], data: match)), to: CaseMarkdown.document(tc004))
        #expect(single.contains("- Retry behavior: window 1: 2 attempts at 0.20 s, 1.20 s; reconnected"))
    }

    /// Under a service fault the server closing the connection is the server's doing: detection is
    /// the client's reaction, and both are said.
    @Test func aStoppedServerClosingTheConnectionIsNotTheClientsDetection() throws {
        let tc005 = try #require(BuiltinCases.named("TC-005"))
        var stopped = window()
        stopped.fault = FaultSpec(type: .service)
        stopped.detection = Detection(after: 10.98, event: .connAccepted, conn: 2)
        stopped.serverClosed = ServerClose(after: 0.02, conn: 1, code: 1053, message: "Server shutdown in progress")
        let results = Checklist.evaluate(tc005.checklist, RunObservations(windows: [stopped], data: match))
        #expect(results[0].verdict == .pass)
        #expect(results[0].evidence == "the server closed the connection at 0.02 s (1053 Server shutdown in progress);"
            + " the client's first reaction 10.98 s after the fault started (conn_accepted) < 60 s")
        #expect(CaseMarkdown.detectionText(report(RunObservations(windows: [stopped], data: match)))
            == "10.98 seconds (conn_accepted; the server closed the connection at 0.02 s (1053 Server shutdown in progress))")

        // Dated by the client's own log line: it reacted then.
        stopped.detection = Detection(after: 0.031, event: .connClosed, conn: 1, earliest: 0.031, latest: 0.032,
                                      bound: "its own log, to the millisecond, after the server closed the connection",
                                      logLine: "10:00:00,031 ERROR Error during binlog processing", logSource: "etl log d.log")
        let logged = Checklist.evaluate(tc005.checklist, RunObservations(windows: [stopped], data: match))
        #expect(logged[0].verdict == .pass)
        #expect(logged[0].evidence.hasPrefix("the server closed the connection at 0.02 s (1053 Server shutdown in progress);"
            + " the client reacted 0.03 s after the fault started, dated by its own log line"), "\(logged[0].evidence)")

        stopped.detection = nil
        let unseen = Checklist.evaluate(tc005.checklist, RunObservations(windows: [stopped], data: match))
        #expect(unseen[0].verdict == .notObserved)
        #expect(unseen[0].evidence.hasSuffix("; the server closed the connection at 0.02 s (1053 Server shutdown in progress)"))
    }
}
