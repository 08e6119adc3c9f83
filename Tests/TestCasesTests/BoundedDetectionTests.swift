import Faults
import Foundation
import Measurements
import Testing
@testable import TestCases

/// "Detected within N s" when the wire only bounds the moment the client gave up (a connect
/// abandoned under DROP sends nothing): PASS when even the latest moment is within N, FAIL when
/// even the earliest is past it, NOT OBSERVED in between, saying why.
@Suite("Checklist: a detection the wire only bounds")
struct BoundedDetectionTests {
    static let item = ChecklistItem(text: "Client detects the outage within 5 s", measure: .detection, within: 5)

    static func observations(_ detection: Detection) -> RunObservations {
        let timeout = FaultSpec(type: .timeout, backend: .iptables)
        return RunObservations(windows: [WindowReport(
            window: 1, fault: timeout, started: 100, ended: 130, endReason: .up, detection: detection,
            attempts: AttemptSeries(attempts: []), connections: ConnectionSurvival(openAtStart: 0, survived: 0),
            reconnectedAfter: 1, replicationResumedAfter: nil, resume: [])])
    }

    static func bounded(_ earliest: Double, _ latest: Double) -> Detection {
        Detection(after: latest, event: .clientGaveUp, detail: "new attempt from 10.0.0.2:7001", earliest: earliest, latest: latest,
                  bound: "after its last SYN retransmission; its next attempt came at \(latest) s")
    }

    static func judge(_ detection: Detection, _ item: ChecklistItem = item) -> ItemResult {
        Checklist.evaluate(item, observations(detection))
    }

    @Test("the latest within N: PASS, with both ends in the evidence")
    func latestWithin() {
        let result = Self.judge(Self.bounded(3.0, 4.9))
        #expect(result.verdict == .pass)
        #expect(result.evidence == "the client gave up between 3.00 s and 4.90 s after the fault started"
                + " (client_gave_up: after its last SYN retransmission; its next attempt came at 4.9 s) < 5 s", "\(result.evidence)")
    }

    @Test("the earliest past N: FAIL")
    func earliestPast() {
        let result = Self.judge(Self.bounded(5.0, 7.0))
        #expect(result.verdict == .fail)
        #expect(result.evidence.hasSuffix(", not < 5 s"), "\(result.evidence)")
    }

    @Test("N inside the bound: NOT OBSERVED, saying the wire cannot tell and what can")
    func straddling() {
        let result = Self.judge(Self.bounded(3.1, 5.1))
        #expect(result.verdict == .notObserved)
        #expect(result.evidence.contains("between 3.10 s and 5.10 s"))
        #expect(result.evidence.contains("a client that abandons a dropped connect sends nothing, so the wire cannot tell which side of 5 s it was"),
                "\(result.evidence)")
        #expect(result.evidence.contains("--etl-log"))
        // Without a threshold there is nothing to decide: the bound is the evidence.
        let plain = Self.judge(Self.bounded(3.1, 5.1), ChecklistItem(text: "Client detects the outage", measure: .detection))
        #expect(plain.verdict == .pass)
        #expect(plain.evidence.contains("between 3.10 s and 5.10 s"))
    }

    @Test("dated by the client's log: the log's time decides, and the evidence says it came from the log")
    func datedByTheLog() {
        var detection = Self.bounded(4.105, 4.106)
        detection.after = 4.105
        detection.logLine = "2026-12-03 10:00:04,105 ERROR (2003, \"Can't connect to MySQL server (timed out)\")"
        detection.logSource = "etl log /tmp/client.log"
        detection.bound = "its own log, to the millisecond, within what the wire shows: between 3.1 s and 5.1 s"
        let result = Self.judge(detection)
        #expect(result.verdict == .pass)
        #expect(result.evidence.hasPrefix("the client gave up 4.11 s after the fault started, dated by its own log line \"2026-12-03 10:00:04,105"),
                "\(result.evidence)")
        #expect(result.evidence.contains("(etl log /tmp/client.log)"))
        #expect(result.evidence.hasSuffix(" < 5 s"))
        // A log to the second whose second holds N: still cannot be told, and says why.
        var coarse = Self.bounded(4.5, 5.5)
        coarse.after = 4.5
        coarse.logLine = "2026-12-03 10:00:04 MainProcess WARNING: Couldn't connect"
        coarse.logSource = "etl log x"
        let unknown = Self.judge(coarse)
        #expect(unknown.verdict == .notObserved)
        #expect(unknown.evidence.contains("too coarse"), "\(unknown.evidence)")
    }

    @Test("the Test Execution Log's detection time is the bound, or the log's time, never a wrong exact time")
    func executionLogText() {
        func text(_ detection: Detection) -> String {
            var run = RunReport(caseID: "TC-004", title: "t", started: 100, finished: 130, tester: "t", etlTool: "pymysql",
                                toolkitVersion: "1.0.0", pipeline: "external", parameters: [:], verdict: .pass)
            run.observations = Self.observations(detection)
            return CaseMarkdown.detectionText(run)
        }
        #expect(text(Self.bounded(3.1, 5.1)) == "between 3.10 and 5.10 seconds (client_gave_up: after its last SYN retransmission; its next attempt came at 5.1 s)")
        var dated = Self.bounded(4.105, 4.106)
        dated.after = 4.105
        dated.logLine = "2026-12-03 10:00:04,105 ERROR x"
        dated.logSource = "etl log /tmp/client.log"
        #expect(text(dated) == "4.11 seconds (client_gave_up, dated by the client's own log: etl log /tmp/client.log)")
        #expect(text(Detection(after: 0.25, event: .connRefused)) == "0.25 seconds (conn_refused)")
    }

    @Test("no detection while a dropped connect was never followed by another: NOT OBSERVED, saying the wire cannot show it")
    func droppedNeverFollowed() {
        var observations = Self.observations(Self.bounded(1, 2))
        observations.windows[0].detection = nil
        observations.windows[0].attempts = AttemptSeries(attempts: [
            ConnectionAttempt(after: 0.4, kind: .dropped, client: "10.0.0.2:7000", outcome: .dropped)])
        let result = Checklist.evaluate(Self.item, observations)
        #expect(result.verdict == .notObserved)
        #expect(result.evidence == "no giving up was seen on the wire: 1 dropped connect(s), the last 0.40 s after the fault started,"
                + " none followed by another while the fault lasted; a client that abandons a dropped connect sends nothing", "\(result.evidence)")
    }

    @Test("an exact detection is judged as before")
    func exact() {
        let result = Self.judge(Detection(after: 2.4, event: .clientGaveUp, detail: "FIN"))
        #expect(result.verdict == .pass)
        #expect(result.evidence == "first failed attempt 2.40 s after the fault started (client_gave_up) < 5 s")
    }
}
