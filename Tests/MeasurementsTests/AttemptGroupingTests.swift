import Faults
import Foundation
import Measurements
import Testing

/// Reconnect attempts as a person counts them: connects less than 1 s apart are one attempt,
/// every attempt has its time, and a window's attempts end at recovery or `recovery_within`
/// after the restore.
@Suite("Reconnect attempts")
struct AttemptGroupingTests {
    /// Debezium's engine restart: a JDBC connection, then two more within 15 ms.
    @Test func oneRestartThatOpensThreeConnectionsIsOneAttempt() throws {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.faultStarted(1, window: 1, reject)
        script.add(1.002, .connReset, conn: 1)
        script.add(11.98, .connRefused, client: "10.0.0.5:41000")
        script.add(11.988, .connRefused, client: "10.0.0.5:41001")
        script.add(11.995, .connRefused, client: "10.0.0.5:41002")
        script.faultEnded(20, window: 1, reject)
        let report = try #require(script.reports().first)
        #expect(report.attempts.attempts.count == 3)
        #expect(report.attempts.total == 3)
        #expect(report.attempts.groups == [AttemptGroup(after: 10.98, connections: 3, entries: [0, 1, 2])])
        #expect(report.attempts.intervals.isEmpty)
        #expect(report.attempts.pattern == .single)
        #expect(report.attempts.summary == "1 attempt (3 connections) at 10.98 s")
        #expect(report.description.contains("attempts     1 attempt (3 connections) at 10.98 s\n"))
    }

    /// Supervisor and agent killed during a 20 s reject of a replica retrying every second, the agent
    /// started again by the next `up` 33 s later: the attempts before and after are not "fixed
    /// every ~33.7 s"; the window says when no agent was observing.
    @Test func noPatternIsDrawnAcrossTimeNoAgentObserved() throws {
        var script = JournalScript()
        script.faultStarted(0, window: 1, reject)
        for time in [0.05, 1.55, 3.05] { script.add(time, .connRefused, client: "10.0.0.5:4\(Int(time * 100))") }
        script.add(3.10, .note, detail: "the dead agent's last event")
        script.add(35.80, .agentRestarted, detail: "the previous agent (pid 4711) was killed by signal 9")
        script.add(35.85, .connRefused, client: "10.0.0.5:43585")
        script.faultEnded(36, window: 1, reject, reason: .expired)
        let report = try #require(script.reports().first)
        #expect(report.attempts.agentDown == [AgentDownSpan(from: 3.10, to: 35.80, detail: "the previous agent (pid 4711) was killed by signal 9")])
        #expect(areClose(report.attempts.intervals, [1.5, 1.5]), "\(report.attempts.intervals)")
        #expect(report.attempts.pattern == .fixed)
        #expect(report.attempts.summary.hasSuffix("; agent down from 3.10 s (its last event) to 35.80 s (the restart): attempts then were not observed"), "\(report.attempts.summary)")

        // Only one attempt on each side: no interval, no pattern.
        let two = AttemptSeries(attempts: [ConnectionAttempt(after: 0.05, kind: .refused), ConnectionAttempt(after: 33.75, kind: .refused)],
                                agentDown: [AgentDownSpan(from: 0.1, to: 33.7)])
        #expect(two.intervals.isEmpty)
        #expect(two.summary == "2 attempts at 0.05 s, 33.75 s; agent down from 0.10 s (its last event) to 33.70 s (the restart): attempts then were not observed")
        let data = try JSONEncoder().encode(two)
        #expect(try JSONDecoder().decode(AttemptSeries.self, from: data) == two)
    }

    @Test func everyAttemptHasItsTime() throws {
        var script = JournalScript()
        script.faultStarted(0, window: 1, reject)
        for time in [0.04, 1.05, 3.1] { script.add(time, .connRefused, client: "10.0.0.5:4\(Int(time * 100))") }
        script.faultEnded(5, window: 1, reject)
        let report = try #require(script.reports().first)
        #expect(report.attempts.groups.map(\.after) == [0.04, 1.05, 3.1])
        #expect(areClose(report.attempts.intervals, [1.01, 2.05]))
        #expect(report.attempts.summary.hasPrefix("3 attempts at 0.04 s, 1.05 s, 3.10 s, "))

        let one = AttemptSeries(attempts: [ConnectionAttempt(after: 2, kind: .refused)])
        #expect(one.summary == "1 attempt at 2.00 s")
    }

    @Test func manyAttemptsListTenInTextAndAllInJSON() throws {
        let series = AttemptSeries(attempts: (1...25).map { ConnectionAttempt(after: Double($0) * 2, kind: .refused) })
        #expect(series.groups.count == 25)
        #expect(series.summary == "25 attempts at 2.00 s, 4.00 s, 6.00 s, 8.00 s, 10.00 s, 12.00 s, 14.00 s, 16.00 s, 18.00 s, 20.00 s, … (15 more), fixed every ~2.00 s")
        let data = try JSONEncoder().encode(series)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((json["groups"] as? [Any])?.count == 25)
        #expect((json["attempts"] as? [Any])?.count == 25)
        #expect(try JSONDecoder().decode(AttemptSeries.self, from: data) == series)
    }

    /// A summary the agent kept before attempts were grouped decodes with its groups computed.
    @Test func anOlderSummaryDecodesWithGroups() throws {
        let old = #"{"attempts":[{"after":1,"kind":"refused","count":1},{"after":1.01,"kind":"refused","count":1}],"total":2,"intervals":[0.01],"pattern":"fixed","estimated_times":false}"#
        let series = try JSONDecoder().decode(AttemptSeries.self, from: Data(old.utf8))
        #expect(series.groups == [AttemptGroup(after: 1, connections: 2, entries: [0, 1])])
        #expect(series.pattern == .single)
    }

    /// The restart's later connections come right after the reconnect: they belong to the same
    /// attempt; a connect after that does not.
    @Test func theRecoveringAttemptKeepsItsConnections() throws {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.faultStarted(1, window: 1, reject)
        script.add(1.001, .connReset, conn: 1)
        script.add(3, .connRefused, client: "10.0.0.5:41000")
        script.faultEnded(5, window: 1, reject)
        script.connect(6, conn: 2, client: "10.0.0.5:41001")
        script.connect(6.01, conn: 3, client: "10.0.0.5:41002")
        script.connect(40, conn: 4, client: "10.0.0.5:41003")
        let report = try #require(script.reports().first)
        #expect(report.attempts.attempts.map(\.conn) == [nil, 2, 3])
        #expect(report.attempts.summary == "2 attempts (3 connections) at 2.00 s, 5.00 s")
    }

    /// A pipeline that died during the outage, restarted by hand 135 s after the restore: with
    /// `recovery_within` 60 s, that connect is not this window's attempt (it was "backoff 0.007 s → 135.2 s").
    /// No later fault bounds the window: recovery_within does.
    static func manualRestart() -> JournalScript {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.faultStarted(1, window: 1, reject)
        script.add(1.001, .connReset, conn: 1)
        script.add(3, .connRefused, client: "10.0.0.5:41000")
        script.add(3.007, .connRefused, client: "10.0.0.5:41001")
        script.faultEnded(11, window: 1, reject)
        script.connect(146, conn: 2, client: "10.0.0.5:41002")
        return script
    }

    @Test func aManualRestartAfterRecoveryWithinIsNotCounted() throws {
        let events = Self.manualRestart().events
        let report = try #require(JournalTimeline(events, recoveryWithin: 60).reports().first)
        #expect(report.attempts.attempts.count == 2)
        #expect(report.attempts.summary == "1 attempt (2 connections) at 2.00 s")
        #expect(!report.attempts.summary.contains("135"))
        // The reconnect itself is still measured: it is recovery's to judge against recovery_within.
        #expect(isClose(report.reconnectedAfter, 135.02))

        // The agent bounds at the default 300 s; a run applies its case's recovery_within to the agent's report.
        let agent = try #require(JournalTimeline(events).reports().first)
        #expect(agent.attempts.attempts.count == 3)
        #expect(agent.boundingAttempts(recoveryWithin: 60) == report)
    }

    @Test func attemptsEndAtRecoveryWithinAfterTheRestore() throws {
        var script = JournalScript()
        script.faultStarted(0, window: 1, reject)
        script.add(2, .connRefused, client: "10.0.0.5:41000")
        script.faultEnded(10, window: 1, reject)
        script.add(69.9, .connAccepted, conn: 2, client: "10.0.0.5:41001")
        script.add(69.95, .connClosed, conn: 2, detail: "client")
        script.add(70.1, .connAccepted, conn: 3, client: "10.0.0.5:41002")
        script.add(70.2, .connClosed, conn: 3, detail: "client")
        script.add(75, .connRefused, client: "10.0.0.5:41003")
        let report = try #require(JournalTimeline(script.events, recoveryWithin: 60).reports().first)
        // The attempt that started in time keeps its second connection; the one at 75 s is past the bound.
        #expect(report.attempts.attempts.map(\.after) == [2, 69.9, 70.1])
        #expect(report.attempts.summary == "2 attempts (3 connections) at 2.00 s, 69.90 s")
    }
}
