import Faults
import Foundation
import Measurements
import Testing
import Verification
@testable import TestCases

@Suite("What a person saw and decided, marked as theirs")
struct TesterAnswersTests {
    let tc004 = BuiltinCases.named("TC-004")!

    func run(message: ObservedMessage? = nil) -> RunReport {
        let window = WindowReport(window: 1, fault: FaultSpec(type: .reject), started: 100, ended: 110, endReason: nil,
                                  detection: Detection(after: 0.2, event: .connRefused),
                                  attempts: AttemptSeries(attempts: [ConnectionAttempt(after: 0.2, kind: .refused)]),
                                  connections: ConnectionSurvival(openAtStart: 1, survived: 0),
                                  reconnectedAfter: 0.5, replicationResumedAfter: 0.6,
                                  resume: [ResumeReport(client: "server_id 2", serverID: 2, lastForwarded: nil, requested: nil,
                                                        requestedAfter: 10, verdict: .maintained, note: nil)])
        var table = TableReport(table: "users", key: ["id"], profile: .none)
        table.sourceRows = 10
        table.destinationRows = 10
        table.matched = 10
        var report = RunReport(caseID: "TC-004", title: tc004.title, started: 100, finished: 130, tester: "Ann", etlTool: "Hevo",
                               toolkitVersion: "1", pipeline: "external", parameters: [:], verdict: .fail)
        report.observations = RunObservations(windows: [window], message: message,
                                              data: VerifyReport(tables: [table], notReplicatedTables: [], seconds: 0.1))
        report.items = Checklist.evaluate(tc004.checklist, report.observations)
        report.verdict = Checklist.runVerdict(report.items)
        return report
    }

    func answers(observe: [String] = [], items: [String] = [], tester: String = "Ann", at: Double = 1_796_360_000) throws -> TesterAnswers {
        try TesterAnswers.parse(observe: observe, items: items, checklist: tc004.checklist, tester: tester, at: at)
    }

    @Test("a message only the tester saw is the message item's, judged by its pattern, and marked as theirs")
    func messageSeen() throws {
        var report = run()
        #expect(report.items[1].verdict == .notObserved)
        report.judge(tc004, adding: try answers(observe: ["error_message=Connection refused (Fix Now)"]))
        #expect(report.items[1].verdict == .pass)
        #expect(report.items[1].evidence == "\"Connection refused (Fix Now)\" (seen by Ann at \(RunReport.clock(1_796_360_000)) UTC)")
        #expect(report.verdict == .pass)
        #expect(report.observations.testerAnswers?.observed["error_message"]?.tester == "Ann")
    }

    @Test("a person's verdict is the item's; where it differs, the evidence shows both")
    func verdictOverrides() throws {
        var report = run(message: ObservedMessage(text: "Connection refused", source: "etl log"))
        #expect(report.verdict == .pass)
        report.judge(tc004, adding: try answers(items: ["5=FAIL:the dashboard shows 3 rows twice", "1=pass"], tester: "Bo"))
        #expect(report.items[4].verdict == .fail && report.items[4].person?.tester == "Bo")
        let clock = RunReport.clock(1_796_360_000)
        #expect(report.items[4].evidence.hasPrefix("measured PASS → FAIL by Bo at \(clock) UTC: the dashboard shows 3 rows twice; measured: 10 rows"))
        #expect(report.items[0].evidence.hasPrefix("PASS, confirmed by Bo at \(clock) UTC; measured: first failed attempt"))
        #expect(report.verdict == .fail)
        // Judged again later, the answers stay; a later answer replaces an earlier one for its item.
        report.judge(tc004, adding: try answers(items: ["5=PASS:duplicates were the UI's"], tester: "Cy"))
        #expect(report.items[4].verdict == .pass && report.items[0].person?.tester == "Bo" && report.verdict == .pass)
        #expect(report.items[4].evidence.hasPrefix("PASS, confirmed by Cy"))
    }

    @Test("other observations are noted in their item's evidence")
    func noted() throws {
        var report = run(message: ObservedMessage(text: "Connection refused", source: "etl log"))
        report.judge(tc004, adding: try answers(observe: ["detection=the UI showed the error after 2 s"]))
        #expect(report.items[0].verdict == .pass)
        #expect(report.items[0].evidence.hasSuffix("; Ann at \(RunReport.clock(1_796_360_000)) UTC saw: the UI showed the error after 2 s"))
    }

    @Test("a BLOCKED run stays BLOCKED")
    func blocked() throws {
        var report = RunReport.blocked(tc004, reason: "no ETL client", into: run())
        report.judge(tc004, adding: try answers(items: ["1=PASS"]))
        #expect(report.verdict == .blocked && report.items.allSatisfy { $0.verdict == .blocked })
    }

    @Test("bad answers name their flag and what is allowed", arguments: [
        (["speed=3"], [String](), "--observe speed: the case's checklist measures data, detection, error_message, position, recovery"),
        (["error_message"], [], "--observe takes MEASURE=TEXT, got 'error_message'"),
        (["error_message="], [], "--observe error_message= says nothing: give what you saw"),
        ([], ["9=PASS"], "--item 9: the case's checklist has items 1 to 5"),
        ([], ["2=MAYBE"], "--item 2= must be PASS or FAIL (a note after a colon), got 'MAYBE'"),
        ([], ["two=PASS"], "--item takes N=PASS|FAIL[:note], got 'two=PASS'"),
        ([], ["3=NOT OBSERVED"], "--item 3= must be PASS or FAIL (a note after a colon), got 'NOT OBSERVED'"),
    ])
    func refusals(observe: [String], items: [String], expected: String) {
        #expect(throws: TesterAnswers.Invalid.self) { try answers(observe: observe, items: items) }
        do { _ = try answers(observe: observe, items: items) } catch { #expect("\(error)" == expected) }
    }
}
