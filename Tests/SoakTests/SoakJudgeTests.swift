import Foundation
import Faults
import Measurements
import Soak
import Testing
import Verification

/// The soak's checker: the comparison decides, the history classifies and places.
@Suite struct SoakJudgeTests {
    /// Faults 1 (reject 100–110), 2 (reset at 200), 3 (crash 300–320).
    let faults: [SoakFaultRun] = {
        func run(_ number: Int, _ type: SoakFault, _ offset: Int, _ length: Int?) -> SoakFaultRun {
            var fault = SoakFaultRun(number: number, scheduled: SoakWindow(offsetSeconds: offset, type: type, lengthSeconds: length))
            fault.started = Double(offset)
            fault.healed = Double(offset + (length ?? 0))
            return fault
        }
        return [run(1, .reject, 100, 10), run(2, .reset, 200, nil), run(3, .crash, 300, 20)]
    }()

    @Test func aWriteIsBlamedOnTheFaultOpenAtItsCommitElseTheNextOne() {
        #expect(SoakJudge.blame(105, faults: faults)?.number == 1)
        #expect(SoakJudge.blame(50, faults: faults)?.number == 1)
        #expect(SoakJudge.blame(150, faults: faults)?.number == 2)
        // An instant is open for no time: a write right at it goes to it, one after it to the next fault.
        #expect(SoakJudge.blame(200, faults: faults)?.number == 2)
        #expect(SoakJudge.blame(200.5, faults: faults)?.number == 3)
        #expect(SoakJudge.blame(319, faults: faults)?.number == 3)
        #expect(SoakJudge.blame(400, faults: faults) == nil)
        // A fault never started (the soak ended first) takes no blame.
        var unstarted = faults
        unstarted[2].started = nil
        #expect(SoakJudge.blame(250, faults: unstarted) == nil)
    }

    private func differences(missing: [String] = [], extra: [String] = [], changed: [String] = []) -> VerifyReport {
        var table = TableReport(table: "users", key: ["id"], profile: .none)
        table.sourceRows = 100
        table.missing = missing.count
        table.extra = extra.count
        table.changed = changed.count
        table.destinationRows = 100 - missing.count + extra.count
        table.matched = 100 - missing.count - changed.count
        table.examples = ["missing": missing, "extra": extra, "changed": changed].filter { !$0.value.isEmpty }
        return VerifyReport(tables: [table], notReplicatedTables: [], seconds: 0.1)
    }

    private let history: [SoakOperation] = [
        SoakOperation(seq: 1, kind: .insert, id: 11, tag: "soak-x-1@toolkit.test", started: 140, ended: 140.1, outcome: .ok),
        // Never answered, but committed: the source names it by its tag.
        SoakOperation(seq: 2, kind: .insert, id: nil, tag: "soak-x-2@toolkit.test", started: 305, ended: 306, outcome: .indeterminate),
        SoakOperation(seq: 3, kind: .insert, id: nil, tag: "soak-x-3@toolkit.test", started: 306, ended: 306.1, outcome: .failed),
        SoakOperation(seq: 4, kind: .update, id: 11, started: 350, ended: 350.1, outcome: .ok),
        SoakOperation(seq: 5, kind: .insert, id: 13, tag: "soak-x-5@toolkit.test", started: 90, ended: 90.1, outcome: .ok),
        SoakOperation(seq: 6, kind: .delete, id: 13, started: 150, ended: 150.1, outcome: .ok),
    ]

    @Test func theComparisonsRowsArePlacedByTheirLastWrite() {
        let data = differences(missing: ["12", "7"], extra: ["13", "99"], changed: ["11"])
        let placed = SoakJudge.place(data, table: "users", history: history, sourceIDs: ["soak-x-2@toolkit.test": 12], faults: faults)
        let byRow = Dictionary(uniqueKeysWithValues: placed.map { ($0.row, $0) })
        // The indeterminate insert that committed, then never arrived: lost in the crash it was written during.
        #expect(byRow["users id=12"] == PlacedRow(kind: .lost, row: "users id=12", operation: 2, outcome: .indeterminate, at: 306, fault: 3,
                                                   blame: "fault 3 (crash at 0:05:00)"))
        // A row nobody the soak knows wrote (seeded, another writer).
        #expect(byRow["users id=7"]?.blame == "not written by the soak" && byRow["users id=7"]?.operation == nil)
        // Its last write an update after every fault: between faults.
        #expect(byRow["users id=11"]?.kind == .changed && byRow["users id=11"]?.operation == 4 && byRow["users id=11"]?.blame == "between faults")
        // Deleted at the source, kept at the destination: the delete was lost, in the reset that followed it.
        #expect(byRow["users id=13"]?.kind == .notDeleted && byRow["users id=13"]?.fault == 2)
        #expect(byRow["users id=99"]?.kind == .unexpected)
        #expect(SoakJudge.blamedFaults(placed, faults: faults) == ["fault 2 (reset at 0:03:20)", "fault 3 (crash at 0:05:00)", "between faults"])
    }

    private func final(_ data: VerifyReport) -> SoakCheckpoint {
        SoakCheckpoint(number: 2, offsetSeconds: 600, at: 600, final: true, caughtUp: data.verdict == .match, waitedSeconds: 3, data: data)
    }

    @Test func theVerdictIsTheFinalComparisonsUnlessTheSoakCannotVouchForIt() {
        let match = differences()
        #expect(SoakJudge.verdict(final: final(match), placed: [], causes: [], faults: faults).0 == .valid)
        let lost = differences(missing: ["12"])
        let placed = SoakJudge.place(lost, table: "users", history: history, sourceIDs: ["soak-x-2@toolkit.test": 12], faults: faults)
        let (verdict, reason) = SoakJudge.verdict(final: final(lost), placed: placed, causes: [], faults: faults)
        #expect(verdict == .invalid)
        #expect(reason == "1 rows lost at the final comparison; they went wrong after fault 3 (crash at 0:05:00)")
        // A fault the soak did not start: a match still holds what the source committed (and says
        // so); differences may be that fault's doing, so the soak cannot say.
        let causes = ["a fault the soak did not start: window 9 (reject) at 10:00:00 UTC, INCONCLUSIVE"]
        #expect(SoakJudge.verdict(final: final(match), placed: [], causes: causes, faults: faults)
            == (.valid, "the destination holds exactly the source's 100 rows at the final comparison; not the soak's doing: " + causes[0]))
        #expect(SoakJudge.verdict(final: final(lost), placed: placed, causes: causes, faults: faults).0 == .unknown)
        let failed = VerifyReport(tables: [], notReplicatedTables: [], seconds: 0, error: "connection refused")
        #expect(SoakJudge.verdict(final: final(failed), placed: [], causes: [], faults: faults)
            == (.unknown, "the final comparison could not be made: connection refused"))
        #expect(SoakJudge.verdict(final: nil, placed: [], causes: [], faults: faults).0 == .unknown)
    }

    @Test func indeterminateWritesTheSourceHoldsAreCountedCommitted() {
        let counts = SoakHistoryCounts(history, committedInserts: [2])
        #expect(counts.ok == 4 && counts.failed == 1 && counts.indeterminate == 1 && counts.indeterminateCommitted == 1)
        #expect(counts.byKind == ["insert": 4, "update": 1, "delete": 1])
        // The last write of each key: failed writes never reached the server.
        let writes = SoakJudge.lastWrites(history, sourceIDs: ["soak-x-2@toolkit.test": 12, "soak-x-3@toolkit.test": 14])
        #expect(writes[11]?.seq == 4 && writes[12]?.seq == 2 && writes[13]?.seq == 6 && writes[14] == nil)
    }

    @Test func freshnessAndLagComeFromTheHeartbeatSamples() {
        let samples = [LagSample(at: 100, beat: 99), LagSample(at: 102, beat: 101), LagSample(at: 112, beat: 100),
                       LagSample(at: 114, beat: 109), LagSample(at: 116, beat: 115.5), LagSample(at: 118, beat: nil)]
        // Healed at 110: the first sample holding a heartbeat written after it came 6 s later.
        #expect(SoakJudge.freshAfter(110, samples: samples) == 6)
        #expect(SoakJudge.freshAfter(200, samples: samples) == nil)
        let lag = LagSummary(samples)
        #expect(lag.samples == 6 && lag.p50 == 1 && lag.max == 12 && lag.p99 == 12 && lag.unknown == nil)
        #expect(LagSummary([LagSample(at: 1, beat: nil)], unreadable: "heartbeat table not replicated").unknown == "heartbeat table not replicated")
        #expect(SoakStatistics.percentile([1, 2, 3, 4], 0.5) == 2 && SoakStatistics.percentile([], 0.5) == nil)
    }

    @Test func perTypeStatisticsComeFromTheWindowsEachFaultOpened() {
        var runs = faults
        runs[0].windows = [7]
        runs[2].windows = [8]
        runs[0].freshAfter = 1.5
        func window(_ id: Int, _ fault: FaultSpec, _ started: Double, _ ended: Double, resumed: Double?) -> WindowReport {
            WindowReport(window: id, fault: fault, started: started, ended: ended, endReason: nil, detection: nil,
                         attempts: AttemptSeries(attempts: []), connections: ConnectionSurvival(openAtStart: 1, survived: 0),
                         reconnectedAfter: resumed, replicationResumedAfter: resumed, resume: [])
        }
        let first = window(7, FaultSpec(type: .reject), 100, 110, resumed: 0.4)
        let crash = window(8, FaultSpec(type: .service, crash: true), 300, 320, resumed: nil)
        let stats = SoakJudge.typeStats(faults: runs, windows: [first, crash])
        #expect(stats.map(\.type) == [.reject, .crash, .reset])
        #expect(stats[0].count == 1 && stats[0].recoveryP50 == 0.4 && stats[0].neverRecovered == 0 && stats[0].freshP50 == 1.5)
        // The crash's window ended and replication never resumed: the verdict's reason names it.
        #expect(stats[1].neverRecovered == 1 && stats[1].recoveryMax == nil)
        let never = SoakJudge.neverResumed(faults: runs, windows: [first, crash])
        #expect(never.map(\.number) == [3])
        let data = VerifyReport(tables: [], notReplicatedTables: [], seconds: 0)
        let final = SoakCheckpoint(number: 1, offsetSeconds: 400, at: 400, final: true, caughtUp: true, waitedSeconds: 0, data: data)
        #expect(SoakJudge.verdict(final: final, placed: [], causes: [], faults: runs, neverResumed: never).1
            == "the destination holds exactly the source's 0 rows at the final comparison; replication never resumed after fault 3 (crash at 0:05:00)")
    }

    @Test func theReportPageStaysLightForALongSoak() {
        let schedule = SoakSchedule(SoakOptions(durationSeconds: 8 * 3600, seed: 1))
        var report = SoakReport(toolkitVersion: "t", started: 0, pipeline: "replica", schedule: schedule)
        report.finished = 8 * 3600
        report.lagSamples = (0..<14_400).map { LagSample(at: Double($0 * 2), beat: Double($0 * 2) - Double($0 % 7)) }
        report.lagSamples[9_001].beat = -1_000 // one peak: downsampling keeps it
        report.verdict = .valid
        let html = SoakOutputs.html(report)
        let points = html.components(separatedBy: "points=\"").last?.split(separator: "\"").first?.split(separator: " ").count ?? 0
        #expect(points > 0 && points <= SoakOutputs.maxCurvePoints)
        #expect(html.contains("lag (max 19002.0 s)"))
        #expect(html.utf8.count < 60_000)
    }

    @Test func junitHasATestCasePerCheckpoint() {
        let schedule = SoakSchedule(SoakOptions(durationSeconds: 1200, seed: 1))
        var report = SoakReport(toolkitVersion: "t", started: 0, pipeline: "replica", schedule: schedule)
        report.checkpoints = [
            SoakCheckpoint(number: 1, offsetSeconds: 600, at: 600, final: false, caughtUp: true, waitedSeconds: 1, data: differences()),
            SoakCheckpoint(number: 2, offsetSeconds: 1200, at: 1200, final: true, caughtUp: false, waitedSeconds: 120, data: differences(missing: ["4"])),
        ]
        report.verdict = .invalid
        let junit = SoakOutputs.junit(report)
        #expect(junit.contains("tests=\"2\" failures=\"1\" errors=\"0\""))
        #expect(junit.contains("name=\"checkpoint 1 at 0:10:00\""))
        #expect(junit.contains("name=\"final comparison\" time=\"120.000\"><failure message=\"source 100 rows, destination 99: 1 missing, 0 extra, 0 changed (after 120 s of waiting)\""))
    }
}
