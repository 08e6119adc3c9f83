import AgentAPI
import Faults
import Foundation
import Measurements
import Soak
import TestCases
import Verification

/// What a soak reaches beyond a run's world: the ETL user's sessions to kill, the heartbeat at
/// the destination, the soak's rows at the source. Every method may block.
public protocol SoakWorld: RunWorld {
    /// Kills every session of `user` on the source (`break --kill-etl-connections`); what it killed.
    func killETLConnections(user: String) throws -> String
    /// Creates `_toolkit_heartbeat` at the source if it is missing.
    func ensureHeartbeatTable() throws
    /// The newest heartbeat the destination holds (epoch seconds); nil when it holds none (the
    /// table not replicated); throws when the destination could not be read.
    func destinationHeartbeat() throws -> Double?
    /// The source's rows whose email starts with `prefix`: email → id; nil when it did not answer.
    func sourceRows(taggedWith prefix: String) -> [String: Int]?
}

/// The soak's writes: a run's load that keeps its history.
public protocol SoakWorkload: RunLoad {
    var history: [SoakOperation] { get }
    /// What every insert's email starts with.
    var tagPrefix: String { get }
}

/// The heartbeat writer: until `stop()` or the task's cancellation.
public protocol SoakHeartbeat: Sendable {
    func run() async
    func stop() async
}

/// Reads the destination's newest heartbeat every few seconds, until `stop()` or the task's cancellation.
public protocol SoakSampling: Sendable {
    func run() async
    func stop() async
    var samples: [LagSample] { get }
    /// Why no heartbeat could be read ("heartbeat table not replicated"), once that was seen.
    var unreadable: String? { get }
}

/// What the soak is: its schedule, and who and what it judges.
public struct SoakPlan: Sendable {
    public var schedule: SoakSchedule
    public var etlUser: String
    public var managedReplica: Bool
    /// The table the workload writes.
    public var table: String
    /// How long a checkpoint waits for the destination to catch up.
    public var catchUpWithin: Duration
    /// How `--etl-log` is read: its matching lines date each window's detection, as `run` dates it.
    public var etlLogReader: ETLLogReader

    public init(schedule: SoakSchedule, etlUser: String, managedReplica: Bool, table: String = "users",
                catchUpWithin: Duration = .seconds(120), etlLogReader: ETLLogReader = .generic) {
        self.schedule = schedule
        self.etlUser = etlUser
        self.managedReplica = managedReplica
        self.table = table
        self.catchUpWithin = catchUpWithin
        self.etlLogReader = etlLogReader
    }
}

/// Where the soak stands, for a status line.
public struct SoakProgress: Sendable, Codable, Hashable {
    public var elapsed: Double
    public var remaining: Double
    public var faults: Int
    public var lag: Double?
    public var lastCheckpoint: String?

    public var line: String {
        func clock(_ seconds: Double) -> String { SoakLength.clock(Int(seconds.rounded(.down))) }
        return "soak \(clock(elapsed)) elapsed, \(clock(remaining)) left, \(faults) fault\(faults == 1 ? "" : "s"), lag "
            + (lag.map { String(format: "%.1f s", $0) } ?? "unknown") + ", last checkpoint " + (lastCheckpoint ?? "none yet")
    }
}

/// The soak's surroundings, injected: tests give a clock of their own and a world of their own.
public struct SoakEnvironment<C: Clock>: Sendable where C.Duration == Duration {
    public var clock: C
    public var epoch: @Sendable () -> Double
    public var world: any SoakWorld
    public var workload: any SoakWorkload
    public var heartbeat: any SoakHeartbeat
    public var sampler: any SoakSampling
    /// Hears each line of the soak's log (a fault applied, a checkpoint's outcome).
    public var reporter: @Sendable (String) -> Void
    /// Hears where the soak stands, every few seconds.
    public var progress: @Sendable (SoakProgress) -> Void
    /// Hears the report (still running) and the history at every checkpoint, to write them.
    public var checkpointed: @Sendable (SoakReport, [SoakOperation]) -> Void
    /// The signal (or `--stop`) that asked the soak to end, nil until one came.
    public var interruption: @Sendable () -> String?

    public init(clock: C, epoch: @escaping @Sendable () -> Double, world: any SoakWorld, workload: any SoakWorkload,
                heartbeat: any SoakHeartbeat, sampler: any SoakSampling, reporter: @escaping @Sendable (String) -> Void,
                progress: @escaping @Sendable (SoakProgress) -> Void = { _ in },
                checkpointed: @escaping @Sendable (SoakReport, [SoakOperation]) -> Void = { _, _ in },
                interruption: @escaping @Sendable () -> String?) {
        self.clock = clock
        self.epoch = epoch
        self.world = world
        self.workload = workload
        self.heartbeat = heartbeat
        self.sampler = sampler
        self.reporter = reporter
        self.progress = progress
        self.checkpointed = checkpointed
        self.interruption = interruption
    }
}

/// Runs a soak: preconditions, the workload and the heartbeat, the schedule's faults at their
/// offsets, a checkpoint (nemesis paused, writes held, caught up, compared) at each of its
/// checkpoints and at the end, then the checker's verdict. Whatever ends it, the network is
/// restored, the writes stop and a report is returned. The soak holds the source's `RunLock`
/// (its caller took it): the journal then tells its fault commands from anyone else's.
public actor SoakRunner<C: Clock> where C.Duration == Duration {
    let environment: SoakEnvironment<C>
    let plan: SoakPlan
    private var report: SoakReport
    private var startInstant: C.Instant?
    private var firstWindowBefore = 0
    private var startedFault = false
    private var lastProgress: C.Instant?
    /// The ETL log's size when the soak started: its lines from there on are the soak's.
    private var etlLogOffset: UInt64?
    /// How long the checkpoints have held the nemesis so far: every later offset moves by it, so a
    /// slow catch-up never makes the next faults come at once, one over the other.
    private var held: Duration = .zero

    /// One call to the agent, the source or the destination.
    static var callLimit: Duration { .seconds(30) }

    public init(_ environment: SoakEnvironment<C>, plan: SoakPlan, report: SoakReport) {
        self.environment = environment
        self.plan = plan
        self.report = report
    }

    struct Interrupted: Error {}

    private var world: any SoakWorld { environment.world }
    private var now: C.Instant { environment.clock.now }
    private var schedule: SoakSchedule { plan.schedule }

    public func execute() async -> SoakReport {
        await withTaskGroup(of: Void.self) { group in
            await perform(in: &group)
            _ = await environment.workload.stop()
            await environment.sampler.stop()
            await environment.heartbeat.stop()
            group.cancelAll()
        }
        await finish()
        return report
    }

    // MARK: The soak

    private func perform(in group: inout TaskGroup<Void>) async {
        let world = self.world
        guard let status = try? await call({ try world.agentStatus() }) else {
            return block("the agent's control API does not answer: run `toolkit up`")
        }
        guard status.faults.isEmpty else {
            return block("the network is not clear: active " + status.faults.map(\.fault.description).joined(separator: ", "))
        }
        report.preconditions.append("agent running: pid \(status.pid), gateway \(status.listen)")
        do { try await call { try world.ensureHeartbeatTable() } } catch {
            return block("could not create _toolkit_heartbeat at the source: \(error)")
        }
        let heartbeat = environment.heartbeat
        group.addTask { await heartbeat.run() }
        if plan.managedReplica {
            let replica = (try? await call { world.replicaStatus() }) ?? nil
            guard let replica, replica.replicating else {
                return block("the managed replica is not replicating: IO \(replica?.ioRunning ?? "?"), SQL \(replica?.sqlRunning ?? "?")")
            }
            report.preconditions.append("replica replicating (IO Yes, SQL Yes)")
        }
        let inSync = await catchUp(.seconds(30))
        guard inSync.data.verdict == .match else {
            return block("the destination is not in sync with the source: " + SoakCheckpoint(
                number: 0, offsetSeconds: 0, at: environment.epoch(), final: false, caughtUp: false,
                waitedSeconds: inSync.waited, data: inSync.data).outcome)
        }
        report.preconditions.append("destination in sync: \(inSync.data.sourceRows) rows match")
        firstWindowBefore = status.windows.map(\.window).max() ?? 0
        if let log = world.etlLog { etlLogOffset = await Blocking.run { log.size() ?? 0 } }
        report.started = environment.epoch()
        startInstant = now
        let workload = environment.workload, sampler = environment.sampler
        group.addTask { await workload.run() }
        group.addTask { await sampler.run() }
        log("started: \(schedule.faults.count) faults and \(schedule.checkpoints.count) checkpoints over \(SoakLength.text(schedule.options.durationSeconds)), seed \(schedule.options.seed); writes on \(plan.table) about 10 a second, a heartbeat every second")
        do {
            for event in timeline() {
                try await sleep(untilOffset: event.offset)
                switch event.kind {
                case .fault(let index): await apply(index)
                case .checkpoint: await checkpoint(offset: event.offset, final: false)
                }
            }
            try await sleep(untilOffset: schedule.options.durationSeconds)
        } catch {
            report.interrupted = environment.interruption() ?? "a signal"
            log("interrupted by \(report.interrupted!): healing, then the final comparison")
        }
        await heal()
        await checkpoint(offset: report.interrupted == nil ? schedule.options.durationSeconds : Int((elapsed - held.seconds).rounded()), final: true)
    }

    private func block(_ reason: String) {
        report.verdict = .blocked
        report.reason = reason
        log("BLOCKED: \(reason)")
    }

    enum EventKind { case fault(Int), checkpoint }

    /// The faults and checkpoints in order; a checkpoint before a fault at the same offset.
    private func timeline() -> [(offset: Int, kind: EventKind)] {
        var events: [(offset: Int, order: Int, kind: EventKind)] = schedule.checkpoints.map { ($0, 0, .checkpoint) }
        for (index, window) in schedule.faults.enumerated() { events.append((window.offsetSeconds, 1, .fault(index))) }
        return events.sorted { ($0.offset, $0.order) < ($1.offset, $1.order) }.map { ($0.offset, $0.kind) }
    }

    private var elapsed: Double { startInstant.map { $0.duration(to: now).seconds } ?? 0 }

    /// Sleeps on the soak's clock until `offset` seconds from its start; throws on a signal.
    private func sleep(untilOffset offset: Int) async throws {
        guard let start = startInstant else { return }
        let end = start.advanced(by: .seconds(offset) + held)
        while now < end {
            if environment.interruption() != nil { throw Interrupted() }
            if lastProgress.map({ $0.duration(to: now) >= .seconds(5) }) ?? true {
                lastProgress = now
                let progress = self.progress, hear = environment.progress
                await Blocking.run { hear(progress) }
            }
            try? await environment.clock.sleep(for: min(.milliseconds(100), now.duration(to: end)))
        }
        if environment.interruption() != nil { throw Interrupted() }
    }

    /// The scheduled fault `index`, asked of the agent (or, for kill-connections, done on the source).
    private func apply(_ index: Int) async {
        let window = schedule.faults[index]
        var run = SoakFaultRun(number: index + 1, scheduled: window)
        let world = self.world
        // The schedule leaves a gap before every fault: one still active is someone else's (or
        // outlived its length). It is not the soak's to end; the soak says it went on regardless.
        if let status = try? await call({ try world.agentStatus() }), !status.faults.isEmpty {
            report.causes.append("\(run.name) started while a fault the soak did not start was active: "
                + status.faults.map(\.fault.description).joined(separator: ", "))
        }
        run.started = environment.epoch()
        run.healed = run.started! + Double(window.lengthSeconds ?? 0)
        do {
            if let command = Self.command(for: window) {
                startedFault = true
                _ = try await call { try world.apply(command) }
                run.applied = command.summary
            } else {
                let user = plan.etlUser
                run.applied = try await call { try world.killETLConnections(user: user) }
            }
        } catch {
            run.problem = "\(error)"
            report.causes.append("\(run.name) could not be applied: \(error)")
        }
        report.faults.append(run)
        log("\(run.name): " + (run.problem.map { "NOT APPLIED: \($0)" } ?? run.applied ?? ""))
    }

    /// The agent's command for a scheduled fault; nil for kill-connections, which the server does.
    public static func command(for window: SoakWindow) -> FaultCommand? {
        let seconds = window.lengthSeconds
        switch window.type {
        case .reject: return FaultCommand(action: .down, spec: FaultSpec(type: .reject), durationSeconds: seconds)
        case .timeout: return FaultCommand(action: .down, spec: FaultSpec(type: .timeout), durationSeconds: seconds)
        case .flap:
            return FaultCommand(action: .flap, spec: FaultSpec(type: .reject), durationSeconds: seconds, intervalSeconds: window.flapIntervalSeconds ?? 2)
        case .service: return FaultCommand(action: .down, spec: FaultSpec(type: .service), durationSeconds: seconds)
        case .crash: return FaultCommand(action: .down, spec: FaultSpec(type: .service, crash: true), durationSeconds: seconds)
        case .reset: return FaultCommand(action: .down, spec: FaultSpec(type: .reset))
        case .latency:
            return FaultCommand(action: .slow, spec: .latency(ms: window.latencyMs ?? 500, jitterMs: window.jitterMs), durationSeconds: seconds)
        case .bandwidth:
            return FaultCommand(action: .slow, spec: .bandwidth(bytesPerSecond: window.bytesPerSecond ?? 65_536), durationSeconds: seconds)
        case .killConnections: return nil
        }
    }

    /// Every fault ended (the agent's own timers end them; anything left is restored), waiting
    /// out a fault still in its length, bounded by it.
    private func heal() async {
        let world = self.world
        if let last = report.faults.last, let healed = last.healed {
            let wait = healed - environment.epoch()
            if wait > 0, report.interrupted == nil { try? await environment.clock.sleep(for: .seconds(min(wait, 86_400))) }
        }
        guard startedFault else { return }
        for attempt in 0..<3 {
            if let status = try? await call({ try world.restoreAll() }), status.faults.isEmpty { return }
            if attempt < 2 { try? await environment.clock.sleep(for: .seconds(1)) }
        }
        report.causes.append("the network could not be restored: the agent still reports a fault or does not answer")
    }

    /// Holds the writes, waits (bounded) for the destination to match, records the comparison,
    /// writes the reports and lets the writes go on.
    private func checkpoint(offset: Int, final: Bool) async {
        let began = now
        defer { held += began.duration(to: now) }
        await environment.workload.pause()
        let at = environment.epoch()
        let result = await catchUp(plan.catchUpWithin)
        let checkpoint = SoakCheckpoint(number: report.checkpoints.count + 1, offsetSeconds: offset, at: at, final: final,
                                        caughtUp: result.data.verdict == .match, waitedSeconds: result.waited, data: result.data)
        report.checkpoints.append(checkpoint)
        log("\(final ? "final comparison" : "checkpoint \(checkpoint.number)"): \(checkpoint.outcome)")
        if !final {
            var running = report
            running.running = true
            running.finished = environment.epoch()
            let ids = await soakRowsAtTheSource()
            fill(&running, sourceIDs: ids)
            let history = environment.workload.history, written = environment.checkpointed
            let snapshot = running
            await Blocking.run { written(snapshot, history) }
            environment.workload.resume()
        }
    }

    /// Compares until the destination matches or `limit` passes; the last comparison and how long it took.
    private func catchUp(_ limit: Duration) async -> (data: VerifyReport, waited: Double) {
        let world = self.world
        let start = now
        let deadline = now.advanced(by: limit)
        var last = await checkData()
        while last.verdict != .match, now < deadline {
            // A replica whose SQL thread stopped on an error will not catch up.
            if plan.managedReplica, let status = (try? await call({ world.replicaStatus() })) ?? nil,
               status.sqlRunning == "No", status.lastSQLErrno ?? 0 != 0 { break }
            try? await environment.clock.sleep(for: .seconds(1))
            last = await checkData()
        }
        return (last, start.duration(to: now).seconds)
    }

    private func checkData() async -> VerifyReport {
        let world = self.world
        do {
            return try await Blocking.call(limit: .seconds(600)) { world.checkData(wait: .zero, deletedAtSource: nil, shouldStop: { false }) }
        } catch {
            return VerifyReport(tables: [], notReplicatedTables: [], seconds: 0, error: "the data check gave no answer: \(error)")
        }
    }

    private var progress: SoakProgress {
        SoakProgress(elapsed: elapsed, remaining: max(0, Double(schedule.options.durationSeconds) + held.seconds - elapsed),
                     faults: report.faults.count, lag: environment.sampler.samples.last?.lag,
                     lastCheckpoint: report.checkpoints.last.map { "\($0.number): \($0.outcome)" })
    }

    // MARK: The end

    /// The measurements gathered, the checker's verdict decided.
    private func finish() async {
        report.finished = environment.epoch()
        guard report.verdict != .blocked else { return }
        let world = self.world
        let started = report.started
        report.windows = await soakWindows()
        assignWindows()
        let events = await Blocking.run { world.journal(from: started) }
        for cause in InconclusiveCause.tooling(in: events) { report.causes.append("\(cause.subject): \(cause.detail)") }
        let ours = Set(report.windows.map(\.window))
        report.reconnects = events.compactMap { event in
            guard event.kind == .binlogResume, let resume = event.resume, event.window.map({ !ours.contains($0) }) ?? true else { return nil }
            return resume
        }
        await dateDetectionsByTheETLLog()
        let ids = await soakRowsAtTheSource()
        fill(&report, sourceIDs: ids)
        report.running = false
        (report.verdict, report.reason) = SoakJudge.verdict(
            final: report.checkpoints.last(where: \.final), placed: report.placed, causes: report.causes, faults: report.faults,
            neverResumed: SoakJudge.neverResumed(faults: report.faults, windows: report.windows))
        log("\(report.verdict.rawValue.uppercased())\(report.interrupted.map { " (INTERRUPTED by \($0))" } ?? ""): \(report.reason)")
    }

    /// The soak's rows at the source (email → id): how an insert whose answer never came is found.
    private func soakRowsAtTheSource() async -> [String: Int] {
        let world = self.world, prefix = environment.workload.tagPrefix
        return ((try? await call { world.sourceRows(taggedWith: prefix) }) ?? nil) ?? [:]
    }

    /// Where the wire only bounds when the client gave up, its own log dates it (as `run` does).
    private func dateDetectionsByTheETLLog() async {
        guard let log = world.etlLog, let offset = etlLogOffset else { return }
        let reader = plan.etlLogReader
        let lines = await Blocking.run { log.lines(after: offset) } ?? []
        let messages = reader.read(lines, pattern: RunPlan.defaultETLLogPattern, limit: 100_000).messages
        report.windows = report.windows.map { $0.datingDetection(byLog: messages, source: "etl log \(log.path)", timeZone: .current) }
    }

    /// What the report holds from the measurements so far: history counts, placed rows, lag, per type.
    private func fill(_ report: inout SoakReport, sourceIDs: [String: Int]) {
        let history = environment.workload.history
        let samples = environment.sampler.samples
        let committed = Set(history.filter { $0.kind == .insert && $0.outcome == .indeterminate && $0.tag.map { sourceIDs[$0] != nil } == true }.map(\.seq))
        report.history = SoakHistoryCounts(history, committedInserts: committed)
        for index in report.faults.indices {
            if let healed = report.faults[index].healed { report.faults[index].freshAfter = SoakJudge.freshAfter(healed, samples: samples) }
        }
        if let last = report.checkpoints.last {
            report.placed = SoakJudge.place(last.data, table: plan.table, history: history, sourceIDs: sourceIDs, faults: report.faults)
        }
        report.lag = LagSummary(samples, unreadable: environment.sampler.unreadable)
        report.lagSamples = samples
        report.types = SoakJudge.typeStats(faults: report.faults, windows: report.windows)
    }

    /// The agent's windows since the soak started.
    private func soakWindows() async -> [WindowReport] {
        let world = self.world
        let status = try? await call { try world.agentStatus() }
        return await RunWindows.collect(after: firstWindowBefore, status: status, journalFrom: report.started - 1, world: world)
    }

    /// Each agent window to the scheduled fault that opened it (its start within the fault's
    /// span); a window none opened is a fault the soak did not start.
    private func assignWindows() {
        for window in report.windows {
            let owner = report.faults.lastIndex { fault in
                guard let started = fault.started, fault.problem == nil, SoakRunner.command(for: fault.scheduled) != nil else { return false }
                return window.started >= started - 1 && window.started <= (fault.healed ?? started) + 1
            }
            if let owner {
                if !report.faults[owner].windows.contains(window.window) { report.faults[owner].windows.append(window.window) }
            } else {
                report.causes.append("a fault the soak did not start: window \(window.window) (\(window.fault.description)) at \(RunReport.clock(window.started)) UTC, INCONCLUSIVE")
            }
        }
    }

    private func call<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await Blocking.call(limit: Self.callLimit, work)
    }

    private func log(_ line: String) { environment.reporter(line) }
}
