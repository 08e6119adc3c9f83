import AgentAPI
import Faults
import Foundation
import Measurements
import Pipeline
import Runner
import Soak
import Synchronization
import TestCases
import Testing
import Verification

/// The soak's logic on the test clock: a world that answers as scripted, time that moves only
/// when the soak sleeps.
@Suite struct SoakRunnerTests {
    static let epoch0 = 1_800_000_000.0

    @Test func theScheduleIsSentAtItsOffsetsAndEveryCheckpointCompares() async throws {
        let schedule = SoakSchedule(SoakOptions(durationSeconds: 400, seed: 7, faults: [.reject, .flap, .crash, .reset, .killConnections, .latency],
                                                faultLength: SoakRange(min: 5, max: 10), gap: SoakRange(min: 10, max: 20),
                                                checkpointEverySeconds: 150))
        let world = SoakWorldScript()
        let (report, workload, written) = await soak(schedule, in: world)
        #expect(report.verdict == .valid, "\(report.reason)")
        #expect(report.exitCode == 0)
        let agentFaults = schedule.faults.filter { $0.type != .killConnections }
        #expect(world.applied.map(\.command) == agentFaults.compactMap(SoakRunner<RunTestClock>.command(for:)))
        // Each at its offset from the start (the start itself is after the preconditions).
        let start = report.started
        let offsets = world.applied.map { $0.at - start }
        for (offset, window) in zip(offsets, agentFaults) { #expect(abs(offset - Double(window.offsetSeconds)) < 0.2, "\(offset) \(window)") }
        #expect(world.killed == schedule.faults.count { $0.type == .killConnections })
        #expect(report.faults.count == schedule.faults.count && report.faults.allSatisfy { $0.problem == nil })
        #expect(report.checkpoints.count == schedule.checkpoints.count + 1 && report.checkpoints.last?.final == true)
        #expect(report.checkpoints.map(\.offsetSeconds).dropLast() == schedule.checkpoints[...])
        // The writes were held for every comparison, and the reports written at every checkpoint.
        #expect(workload.pauses == report.checkpoints.count)
        #expect(written.count == schedule.checkpoints.count && written.allSatisfy(\.running))
        #expect(abs((report.lag.p50 ?? 0) - 1) < 0.01)
        // Fresh again at the first heartbeat written after each heal: at most 3 s later with a sample every 2 s.
        #expect(report.faults.allSatisfy { ($0.freshAfter ?? 99) <= 3 }, "\(report.faults.map(\.freshAfter))")
    }

    /// A checkpoint that waits for a slow destination holds the nemesis: the faults after it come
    /// that much later, never at once or one over another.
    @Test func aSlowCatchUpHoldsTheNemesis() async {
        let schedule = SoakSchedule(SoakOptions(durationSeconds: 400, seed: 7, faults: [.reject, .timeout],
                                                faultLength: SoakRange(min: 5, max: 10), gap: SoakRange(min: 10, max: 20),
                                                checkpointEverySeconds: 150))
        let world = SoakWorldScript()
        let checkpointAt = Double(schedule.checkpoints[0])
        world.differsBetween = (checkpointAt, checkpointAt + 8)
        let (report, _, _) = await soak(schedule, in: world)
        let waited = report.checkpoints[0].waitedSeconds
        #expect(waited >= 8 && waited < 10, "\(report.checkpoints[0])")
        for (applied, window) in zip(world.applied, schedule.faults) {
            let late = applied.at - report.started - Double(window.offsetSeconds)
            #expect(abs(late - (window.offsetSeconds > schedule.checkpoints[0] ? waited : 0)) < 0.3, "\(window) \(late)")
        }
        #expect(report.causes.isEmpty && report.verdict == .valid, "\(report.causes)")
        #expect(report.checkpoints.last?.offsetSeconds == 400)
    }

    @Test func aLostRowIsInvalidAndBlamedOnTheFaultItWasWrittenIn() async {
        let schedule = SoakSchedule(SoakOptions(durationSeconds: 200, seed: 3, faults: [.crash], faultLength: SoakRange(min: 10, max: 10),
                                                gap: SoakRange(min: 30, max: 40), checkpointEverySeconds: 200))
        let crash = schedule.faults[1]
        let world = SoakWorldScript()
        // The final comparison misses row 12, which an insert wrote during the second crash.
        world.finalData = { Self.missing(["12"]) }
        let written = Self.epoch0 + Double(crash.offsetSeconds) + 2
        let workload = ScriptedWorkload(history: [
            SoakOperation(seq: 1, kind: .insert, id: 12, tag: "soak-x-1@toolkit.test", started: written, ended: written, outcome: .ok),
        ])
        let (report, _, _) = await soak(schedule, in: world, workload: workload)
        #expect(report.verdict == .invalid)
        #expect(report.exitCode == 1)
        #expect(report.placed.first?.fault == 2 && report.placed.first?.row == "users id=12", "\(report.placed)")
        #expect(report.reason == "1 rows lost at the final comparison; they went wrong after fault 2 (crash at \(SoakLength.clock(crash.offsetSeconds)))")
    }

    @Test func aSignalHealsComparesAndMarksTheReportInterrupted() async {
        let schedule = SoakSchedule(SoakOptions(durationSeconds: 600, seed: 5, faults: [.timeout], faultLength: SoakRange(min: 30, max: 30),
                                                gap: SoakRange(min: 20, max: 20), checkpointEverySeconds: 300))
        let world = SoakWorldScript()
        // Ctrl-C in the middle of the first fault.
        let signalAt = schedule.faults[0].offsetSeconds + 10
        let (report, _, _) = await soak(schedule, in: world, signalAt: .seconds(signalAt))
        #expect(report.interrupted == "SIGINT (Ctrl-C)")
        #expect(report.exitCode == 130)
        #expect(world.applied.count == 1, "no fault after the signal")
        #expect(world.restores >= 1)
        #expect(report.checkpoints.last?.final == true && report.verdict == .valid)
    }

    @Test func aWindowTheSoakDidNotOpenIsInconclusiveAndLossesWithItUnknown() async {
        let schedule = SoakSchedule(SoakOptions(durationSeconds: 200, seed: 3, faults: [.reject], faultLength: SoakRange(min: 5, max: 5),
                                                gap: SoakRange(min: 60, max: 60), checkpointEverySeconds: 200))
        let world = SoakWorldScript()
        world.foreignWindowAt = 20
        let (report, _, _) = await soak(schedule, in: world)
        #expect(report.causes == ["a fault the soak did not start: window 99 (reject) at \(RunReport.clock(Self.epoch0 + 20)) UTC, INCONCLUSIVE"])
        // The destination matched: valid, saying what else went on.
        #expect(report.verdict == .valid && report.reason.hasSuffix("not the soak's doing: " + report.causes[0]), "\(report.reason)")
        // Rows lost with it: the soak cannot tell whose fault lost them.
        let lossy = SoakWorldScript()
        lossy.foreignWindowAt = 20
        lossy.finalData = { Self.missing(["12"]) }
        let (lost, _, _) = await soak(schedule, in: lossy)
        #expect(lost.verdict == .unknown && lost.exitCode == 4)
    }

    @Test func aNetworkThatIsNotClearBlocksTheSoakAndIsLeftAlone() async {
        let schedule = SoakSchedule(SoakOptions(durationSeconds: 100, seed: 1, faults: [.reject], faultLength: SoakRange(min: 5, max: 5),
                                                gap: SoakRange(min: 20, max: 20), checkpointEverySeconds: 100))
        let world = SoakWorldScript()
        world.base.userFault = FaultSpec(type: .timeout)
        let (report, workload, _) = await soak(schedule, in: world)
        #expect(report.verdict == .blocked && report.exitCode == 3)
        #expect(report.reason.hasPrefix("the network is not clear: active timeout"), "\(report.reason)")
        #expect(world.applied.isEmpty && world.restores == 0 && workload.pauses == 0)
    }

    // MARK: The harness

    static func missing(_ keys: [String]) -> VerifyReport {
        var table = TableReport(table: "users", key: ["id"], profile: .none)
        table.sourceRows = 10
        table.destinationRows = 10 - keys.count
        table.matched = 10 - keys.count
        table.missing = keys.count
        table.examples = ["missing": keys]
        return VerifyReport(tables: [table], notReplicatedTables: [], seconds: 0.01)
    }

    private func soak(_ schedule: SoakSchedule, in world: SoakWorldScript, workload: ScriptedWorkload = ScriptedWorkload(history: []),
                      signalAt: Duration? = nil) async -> (SoakReport, ScriptedWorkload, [SoakReport]) {
        let clock = RunTestClock()
        // Ctrl-C at `signalAt` from the clock's zero (the soak starts at once: its preconditions take no time here).
        let interruption: @Sendable () -> String? = { signalAt.map { clock.now.offset >= $0 } == true ? "SIGINT (Ctrl-C)" : nil }
        clock.onSleep = { now in world.tick(now) }
        world.epoch = { Self.epoch0 + clock.now.offset.seconds }
        let written = Mutex<[SoakReport]>([])
        let environment = SoakEnvironment(
            clock: clock, epoch: { Self.epoch0 + clock.now.offset.seconds }, world: world, workload: workload, heartbeat: InertHeartbeat(),
            sampler: ScriptedSampler(epoch0: Self.epoch0, seconds: schedule.options.durationSeconds),
            reporter: { _ in }, checkpointed: { report, _ in written.withLock { $0.append(report) } }, interruption: interruption)
        let base = SoakReport(toolkitVersion: "test", started: Self.epoch0, pipeline: "replica", schedule: schedule)
        let report = await SoakRunner(environment, plan: SoakPlan(schedule: schedule, etlUser: "hevo", managedReplica: true,
                                                                  catchUpWithin: .seconds(10)), report: base).execute()
        return (report, workload, written.withLock { $0 })
    }
}

/// `ScriptedWorld`'s agent and replica, with what a soak needs more: sessions to kill, a
/// heartbeat a second behind, a final comparison of the test's choosing, a foreign fault window.
final class SoakWorldScript: SoakWorld, @unchecked Sendable {
    let base = ScriptedWorld()
    private let lock = NSLock()
    private var _applied: [(command: FaultCommand, at: Double)] = []
    private var _killed = 0
    var epoch: @Sendable () -> Double = { 0 }
    /// The comparison once the soak has run its length (before: a match).
    var finalData: (@Sendable () -> VerifyReport)?
    /// Seconds from the start at which a window nobody in the soak asked for appears.
    var foreignWindowAt: Double?
    /// Seconds from the clock's zero between which the destination lags a row behind.
    var differsBetween: (Double, Double)?
    private var started: Double?

    var applied: [(command: FaultCommand, at: Double)] { lock.withLock { _applied } }
    var killed: Int { lock.withLock { _killed } }
    var restores: Int { base.restores }
    var etlLog: ETLLog? { nil }

    func tick(_ now: Duration) {
        base.now = now
        if let at = foreignWindowAt, now.seconds >= at + 1, base.windows.isEmpty {
            base.windows = [WindowReport(window: 99, fault: FaultSpec(type: .reject), started: SoakRunnerTests.epoch0 + at, ended: nil, endReason: nil,
                                         detection: nil, attempts: AttemptSeries(attempts: []), connections: ConnectionSurvival(openAtStart: 0, survived: 0),
                                         reconnectedAfter: nil, replicationResumedAfter: nil, resume: [])]
        }
    }

    func agentStatus() throws -> AgentStatus { try base.agentStatus() }
    func apply(_ command: FaultCommand) throws -> AgentStatus {
        let at = epoch()
        lock.withLock { _applied.append((command, at)) }
        return try base.apply(command)
    }
    func restoreAll() throws -> AgentStatus { try base.restoreAll() }
    func window(_ id: Int) throws -> WindowReport { try base.window(id) }
    func journal(from start: Double) -> [JournalEvent] { [] }
    func journalSummary(window id: Int) -> WindowReport? { nil }
    func etlSessions(user: String) -> ETLSessions? { base.etlSessions(user: user) }
    func sourceGTIDPosition() -> String? { base.sourceGTIDPosition() }
    func replicaStatus() -> ReplicaPipeline.Status? { base.replicaStatus() }
    func checkData(wait: Duration, deletedAtSource: [String: Set<String>]?, shouldStop: @escaping @Sendable () -> Bool) -> VerifyReport {
        let data = base.checkData(wait: wait, deletedAtSource: deletedAtSource, shouldStop: shouldStop)
        // The test clock is past the soak's length only in its final comparison.
        if let finalData, lock.withLock({ _applied.count }) > 0, base.now.seconds > 150 { return finalData() }
        if let (from, to) = differsBetween, base.now.seconds >= from, base.now.seconds < to { return SoakRunnerTests.missing(["3"]) }
        return data
    }
    func runStep(_ arguments: [String], limit: Duration) -> StepOutcome { StepOutcome(text: "done") }

    func killETLConnections(user: String) throws -> String {
        lock.withLock { _killed += 1 }
        return "killed 1 session(s) of \(user)"
    }
    func ensureHeartbeatTable() throws {}
    func destinationHeartbeat() throws -> Double? { epoch() - 1 }
    func sourceRows(taggedWith prefix: String) -> [String: Int]? { [:] }
}

final class ScriptedWorkload: SoakWorkload, @unchecked Sendable {
    let history: [SoakOperation]
    let tagPrefix = "soak-x-"
    private let count = Mutex(0)
    var pauses: Int { count.withLock { $0 } }

    init(history: [SoakOperation]) { self.history = history }

    func run() async {}
    func pause() async { count.withLock { $0 += 1 } }
    func resume() {}
    func stop() async -> LoadSummary { LoadSummary(inserted: 0, updated: 0, deleted: 0, table: "users") }
}

/// A heartbeat sample every 2 s of the soak, each one second behind.
struct ScriptedSampler: SoakSampling {
    let samples: [LagSample]
    let unreadable: String? = nil

    init(epoch0: Double, seconds: Int) {
        samples = stride(from: 0, to: seconds, by: 2).map { LagSample(at: epoch0 + Double($0), beat: epoch0 + Double($0) - 1) }
    }

    func run() async {}
    func stop() async {}
}

struct InertHeartbeat: SoakHeartbeat {
    func run() async {}
    func stop() async {}
}
