import Faults
import Foundation
import Measurements
import Testing
import Verification
@testable import TestCases
#if canImport(FoundationXML)
import FoundationXML
#endif

/// TC-004 judged for a query-based sync: no binlog dump, reads with SELECTs now and then.
@Suite("A query-based sync's checklist")
struct QueryBasedChecklistTests {
    let tc004 = BuiltinCases.named("TC-004")!
    let refused = ObservedMessage(text: "ERROR sync failed: OperationalError: (2003, \"Can't connect to MySQL server on '127.0.0.1' ([Errno 111] Connection refused)\")",
                                  source: "etl log dlt.log")

    func window(attempts: [ConnectionAttempt] = [ConnectionAttempt(after: 1.5, kind: .refused)], detected: Double? = 1.5,
                readAfter: Double? = 1.2, reads: Int? = nil, rhythm: Double? = 2, duration: Double = 10) -> WindowReport {
        var report = WindowReport(window: 1, fault: FaultSpec(type: .reject), started: 100, ended: 100 + duration, endReason: nil,
                                  detection: detected.map { Detection(after: $0, event: .connRefused) },
                                  attempts: AttemptSeries(attempts: attempts),
                                  connections: ConnectionSurvival(openAtStart: 0, survived: 0),
                                  reconnectedAfter: readAfter.map { $0 - 0.1 }, replicationResumedAfter: nil, resume: [])
        report.tablesReadAfter = readAfter
        report.readsDuringFault = reads
        report.readRhythm = rhythm
        return report
    }

    func data(deletesNotPropagated: Int = 0, extra: Int = 0) -> VerifyReport {
        var table = TableReport(table: "users", key: ["id"], profile: .none)
        table.sourceRows = 100
        table.matched = 100
        table.extra = extra
        table.deletesNotPropagated = deletesNotPropagated
        table.destinationRows = 100 + deletesNotPropagated + extra
        return VerifyReport(tables: [table], notReplicatedTables: [], seconds: 0.1)
    }

    func observations(_ window: WindowReport, data: VerifyReport? = nil, mode: SyncMode = .queries) -> RunObservations {
        var observations = RunObservations(windows: [window], message: refused, data: data ?? self.data(deletesNotPropagated: 3),
                                           recoveryWithin: 60)
        observations.syncMode = mode
        return observations
    }

    @Test("refused at its next run, read again after the restore, no position to judge, deletes reported: PASS")
    func passes() {
        let results = Checklist.evaluate(tc004.checklist, observations(window()))
        #expect(results.map(\.verdict) == [.pass, .pass, .pass, .notApplicable, .pass])
        #expect(results[2].evidence == "the sync read the source's tables again 1.20 s after the restore (reconnected after 1.10 s)")
        #expect(results[3].evidence.hasPrefix("a query-based sync has no binlog position"))
        #expect(results[4].evidence == "100 rows at the destination match the source's 100; 3 rows the run deleted are still there "
                + "(deletes_not_propagated): a query-based sync reads with a cursor and cannot see a delete, reported, not a difference")
        #expect(Checklist.runVerdict(results) == .pass)
    }

    @Test("no read after the restore fails recovery; one later than recovery_within too")
    func recoveryFails() {
        let never = Checklist.evaluate(tc004.checklist, observations(window(readAfter: nil)))
        #expect(never[2].verdict == .fail)
        #expect(never[2].evidence == "the sync never read the source's tables after the restore: no successful SELECT of them within recovery_within 60 s")
        let late = Checklist.evaluate(tc004.checklist, observations(window(readAfter: 75)))
        #expect(late[2].verdict == .fail && late[2].evidence.hasSuffix("later than recovery_within 60 s"))
    }

    @Test("a fault shorter than the sync's rhythm was not tested: the sync did not run during it")
    func notTested() {
        let quiet = window(attempts: [ConnectionAttempt(after: 31, kind: .accepted)], detected: nil, readAfter: 21, rhythm: 30, duration: 10)
        let results = Checklist.evaluate(tc004.checklist, observations(quiet))
        #expect(results[0].verdict == .notObserved)
        #expect(results[0].evidence == "not tested: the sync did not run during the fault (it read every 30.00 s before the fault; "
                + "the fault lasted 10.00 s); it read again 21.00 s after the restore")
    }

    @Test("a binlog reader is judged as before: its position item applies")
    func binlogReader() {
        let results = Checklist.evaluate(tc004.checklist, observations(window(), mode: .binlog))
        #expect(results[3].verdict == .notObserved)
        #expect(results[2].verdict == .fail, "a binlog reader recovers when replication resumes, not when it reads")
    }

    @Test("extra rows that are not the run's deletes stay differences")
    func extraRowsFail() {
        let results = Checklist.evaluate(tc004.checklist, observations(window(), data: data(deletesNotPropagated: 2, extra: 1)))
        #expect(results[4].verdict == .fail)
        #expect(results[4].evidence.contains("1 extra") && results[4].evidence.contains("2 rows the run deleted still there"), "\(results[4].evidence)")
    }

    @Test("rows missing in a second that arrived: the data item fails and says this looks like cursor precision")
    func cursorPrecision() {
        var table = data().tables[0]
        table.matched = 97
        table.missing = 3
        table.destinationRows = 97
        table.missingShareSecondIn = "updated_at"
        let report = VerifyReport(tables: [table], notReplicatedTables: [], seconds: 0.1)
        let results = Checklist.evaluate(tc004.checklist, observations(window(), data: report))
        #expect(results[4].verdict == .fail)
        #expect(results[4].evidence.contains("3 missing"), "\(results[4].evidence)")
        #expect(results[4].evidence.contains("users: all 3 missing rows share their second in updated_at with a row that arrived: "
                + "this looks like cursor precision"), "\(results[4].evidence)")
    }

    @Test("JUnit: NOT APPLICABLE is skipped, saying why")
    func junit() throws {
        var report = RunReport(caseID: "TC-004", title: tc004.title, started: 100, finished: 130, tester: "t",
                               etlTool: "dlt", toolkitVersion: "1.0.0", pipeline: "dlt", parameters: [:], verdict: .pass)
        report.items = Checklist.evaluate(tc004.checklist, observations(window()))
        let xml = JUnitReport.render(report)
        #expect(xml.contains("skipped=\"1\""))
        #expect(xml.contains("<skipped message=\"NOT APPLICABLE: a query-based sync has no binlog position"))
    }
}
