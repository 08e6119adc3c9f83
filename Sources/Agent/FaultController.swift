import AgentAPI
import Faults
import Foundation
import Gateway
import Measurements
import NetfilterLog
import Logging
import Source

/// Owns every fault and every timer. Commands and timer ticks go through the pure
/// `FaultSchedule`, which holds all fault state (which backend enforces each fault, the
/// shaping in force per scope); this actor only carries out the actions it returns, on the
/// gateway, the iptables chain or the managed server, journals each window's start and end,
/// and journals the client packets the kernel logs to our NFLOG group while a fault lasts.
actor FaultController {
    private var schedule: FaultSchedule<ContinuousClock>
    private let clock = ContinuousClock()
    private let gateway: Gateway
    private let defaultBackend: BackendKind
    private let iptables: IptablesBackend?
    private let server: ManagedServer?
    private let journal: Journal
    private let leftovers: LeftoverFile
    private let saved: SavedSchedule<ScheduleFile>
    /// The gateway's open connections, told when a connection-fault window opens and closes.
    private let taps: LiveTaps?
    /// The last problem saving the schedule, logged once until saving works again.
    private var saveProblem: String?
    private var timer: Task<Void, Never>?
    /// Reads our NFLOG group once a fault first needs it, for the agent's lifetime.
    private var packetReader: NflogReader?
    private var packetTask: Task<Void, Never>?
    /// What the packets of the current connection-fault window mean; nil when none is watched.
    private var ledger: AttemptLedger?
    private(set) var notes: [String] = []
    private let log = AgentLog.logger("agent.faults")

    /// Window ids go on from the highest one in the journal, which a restarted agent reloads:
    /// the measurements tell windows apart by id.
    init(gateway: Gateway, backend: BackendKind, iptables: IptablesBackend?, server: ManagedServer?,
         journal: Journal, leftovers: LeftoverFile, schedule saved: ScheduleFile, taps: LiveTaps? = nil) {
        self.schedule = FaultSchedule(
            firstWindowID: journal.lastWindowID + 1, defaultBackend: backend)
        self.gateway = gateway
        self.defaultBackend = backend
        self.iptables = iptables
        self.server = server
        self.journal = journal
        self.leftovers = leftovers
        self.saved = saved.saved
        self.taps = taps
    }

    var backend: BackendKind { defaultBackend }

    func status() -> [ActiveFaultStatus] { schedule.status(now: clock.now) }

    /// Checks a command against what this agent can do, then runs it.
    func handle(_ command: FaultCommand) async throws {
        let scheduleCommand = try command.scheduleCommand()
        if let spec = scheduleCommand.spec {
            try check(schedule.enforcing(spec))
        }
        let actions = schedule.handle(scheduleCommand, now: clock.now)
        voidSaved(before: actions)
        var failures = await perform(actions)
        if actions.isEmpty, let spec = scheduleCommand.spec.map({ schedule.enforcing($0) }), spec.backend == .iptables,
           spec.type == .reject || spec.type == .timeout, let window = schedule.status(now: clock.now).first?.windowID,
           let iptables, iptables.isInstalled() {
            // The same fault again with a new deadline: the kernel's own deadline moves with it.
            let until = schedule.deadline(ofWindow: window).map { wallClock($0) }
            do { try await blocking { try iptables.replaceRules(spec.type == .reject ? .reject : .drop, until: until) } } catch {
                log.error("moving the deadline of our iptables rules failed", metadata: ["window": "\(window)", "error": "\(error)"])
                failures.append("\(error)")
            }
        }
        persist()
        rearm()
        if let first = failures.first { throw AgentFailure(status: 500, message: first) }
    }

    /// `network --up`: everything back, from any state, including what only the backends know.
    /// Every step is tried; throws (500) with one line naming each step that failed.
    /// The fault ends in memory first, then the saved schedule is voided (so that no restarted
    /// agent can put it back, whatever fails next), then it ends in the backends, and last the
    /// schedule is saved again; `--up` that could not save says so (500) after restoring.
    func restoreAll() async throws {
        let actions = schedule.handle(.up, now: clock.now)
        voidSaved(before: nil)
        var failures = await perform(actions)
        do { try await gateway.restore() } catch { failures.append("gateway restore: \(error)") }
        if let iptables {
            do { try await blocking { try iptables.remove() } } catch { failures.append("iptables chain removal: \(error)") }
        }
        if let server, server.runningPID() == nil, leftovers.serviceStopped {
            do { try await blocking { _ = try server.start() } } catch { failures.append("server restart: \(error)") }
        }
        var unrecorded: [String] = []
        if failures.isEmpty, let problem = leftovers.clear() { unrecorded.append(problem) }
        if let problem = persist() { unrecorded.append(problem) }
        rearm()
        var unique: [String] = []
        for failure in failures where !unique.contains(failure) { unique.append(failure) }
        if !unique.isEmpty {
            throw AgentFailure(status: 500, message: "network --up failed: " + (unique + unrecorded).joined(separator: "; "))
        }
        if !unrecorded.isEmpty {
            throw AgentFailure(status: 500, message: "network --up restored everything, but " + unrecorded.joined(separator: "; "))
        }
    }

    /// Goes on with the faults a predecessor that died had in force (`record`): each still open
    /// is put back until its recorded deadline (or `up`), without a new window; what passed its
    /// deadline meanwhile is cleared and its window closed as expired. Returns what it did, and
    /// what failed, for the agent's start-up note.
    func resume(_ record: ScheduleRecord) async -> (done: [String], failures: [String]) {
        let now = clock.now
        let restored = FaultSchedule<ContinuousClock>.restoring(
            record, now: now, wallNow: Date().timeIntervalSince1970,
            firstWindowID: journal.lastWindowID + 1, defaultBackend: defaultBackend)
        schedule = restored.schedule
        voidSaved(before: restored.actions)
        persist()
        var done: [String] = []
        var failures: [String] = []
        for fault in restored.resumed {
            let until = schedule.deadline(ofWindow: fault.windowID).map { wallClock($0) }
            do {
                try await apply(fault.spec, window: fault.windowID, resuming: true)
                done.append("put back \(fault.spec) (window \(fault.windowID)) "
                    + (until.map { "until \($0.formatted(.iso8601))" } ?? "until network --up"))
            } catch {
                let message = "putting back \(fault.spec) (window \(fault.windowID)) failed: \((error as? AgentFailure)?.message ?? "\(error)")"
                journal.record(.note) { $0.window = fault.windowID; $0.detail = message }
                log.error("\(message)")
                notes.append(message)
                failures.append(message)
            }
        }
        for case let .clear(spec, window, reason) in restored.actions where reason == .expired {
            done.append("ended \(spec) (window \(window)), past its deadline")
        }
        failures += await perform(restored.actions)
        rearm()
        return (done, failures)
    }

    /// The wall-clock time of an instant of our clock.
    private func wallClock(_ instant: ContinuousClock.Instant) -> Date {
        let (seconds, attoseconds) = clock.now.duration(to: instant).components
        return Date().addingTimeInterval(Double(seconds) + Double(attoseconds) * 1e-18)
    }

    /// Writes the schedule down (with wall-clock deadlines) for an agent that may have to take over;
    /// one that cannot be written is voided (`SavedSchedule`). Returns the problem, logged and shown
    /// in the status notes once until saving works again.
    @discardableResult
    private func persist() -> String? {
        let problem = saved.save(schedule.record(now: clock.now, wallNow: Date().timeIntervalSince1970)).problem
        if let problem, problem != saveProblem {
            log.error("\(problem)", metadata: ["file": "\(saved.storage.url.path)"])
            notes.append(problem)
        } else if problem == nil, saveProblem != nil {
            log.notice("saving the agent's schedule works again", metadata: ["file": "\(saved.storage.url.path)"])
        }
        saveProblem = problem
        return problem
    }

    /// Before a change that ends a window (every change when `actions` is nil): the saved schedule
    /// stops counting, so that if anything fails from here on no successor puts the fault back.
    private func voidSaved(before actions: [ScheduleAction]?) {
        guard actions?.contains(where: \.ends) ?? true else { return }
        if let error = saved.void() {
            log.error("cannot void the saved schedule; a restarted agent may put back a fault that ended", metadata: ["file": "\(saved.storage.url.path)", "error": "\(error)"])
        }
    }

    private func check(_ spec: FaultSpec) throws {
        if spec.type == .service && server == nil {
            throw AgentFailure(status: 400, message: "--type service needs the server toolkit up started; this agent fronts \(gateway.upstreamHost):\(gateway.upstreamPort)")
        }
        guard spec.backend == .iptables else { return }
        guard iptables?.isUsable() == true else {
            throw AgentFailure(status: 400, message: "--backend iptables needs root (or CAP_NET_ADMIN) and iptables; use --backend gateway")
        }
        if spec.scope != .all {
            throw AgentFailure(status: 400, message: "--only \(spec.scope.rawValue) works only with --backend gateway (iptables cannot tell replication connections apart)")
        }
    }

    /// Executes the actions in order; a failed one does not stop the others. Returns what failed.
    private func perform(_ actions: [ScheduleAction]) async -> [String] {
        var failures: [String] = []
        for action in actions {
            do {
                switch action {
                case .apply(let spec, let window):
                    journal.record(.faultStarted) { $0.window = window; $0.fault = spec; $0.detail = (spec.backend ?? .gateway).rawValue }
                    // Where each binlog reader stands as the fault begins, written and received.
                    if spec.type.isConnectionFault { await taps?.windowOpened(window) }
                    log.info("applying \(spec)", metadata: ["window": "\(window)", "backend": "\((spec.backend ?? .gateway).rawValue)"])
                    try await apply(spec, window: window)
                case .clear(let spec, let window, let reason):
                    // The window ends when the restore begins: clients held by the fault move on
                    // while it is being lifted, and their reconnects must fall after the end.
                    journal.record(.faultEnded) { $0.window = window; $0.fault = spec; $0.detail = reason.rawValue }
                    if spec.type.isConnectionFault { await taps?.windowClosed(window) }
                    log.info("clearing \(spec)", metadata: ["window": "\(window)", "reason": "\(reason.rawValue)"])
                    try await clear(spec)
                }
            } catch {
                let message = (error as? AgentFailure)?.message ?? "\(error)"
                journal.record(.note) { $0.detail = "fault action failed: \(message)" }
                log.error("fault action failed", metadata: ["error": "\(message)"])
                notes.append(message)
                failures.append(message)
            }
        }
        return failures
    }

    /// `resuming`: the window was open before the agent restarted; a kernel rule its
    /// predecessor left in place (with the same deadline) stays, so there is no gap.
    private func apply(_ spec: FaultSpec, window: Int, resuming: Bool = false) async throws {
        let scope = ConnectionScope(rawValue: spec.scope.rawValue) ?? .all
        switch spec.type {
        case .reject, .timeout:
            if spec.backend == .iptables, let iptables {
                watchPackets(window: window, verdict: spec.type == .reject ? .refuse : .drop)
                if !(resuming && iptables.isInstalled()) {
                    let until = schedule.deadline(ofWindow: window).map { wallClock($0) }
                    try await blocking { try iptables.apply(spec.type == .reject ? .reject : .drop, until: until) }
                }
                leftovers.record(iptables: true)
            } else {
                if spec.type == .reject && spec.scope == .all, let iptables, iptables.isUsable() {
                    // The kernel refuses connects to a closed listener without telling us; a
                    // logging rule in our own chain lets us still see each attempt.
                    watchPackets(window: window, verdict: .refuse)
                    // Seeing the attempts is a bonus: the reject itself goes on without it.
                    do { try await blocking { try iptables.apply(.watch) } } catch {
                        log.warning("refused connects are not observed: our logging rule failed", metadata: ["window": "\(window)", "error": "\(error)"])
                    }
                    leftovers.record(iptables: true)
                } else if spec.type == .reject && spec.scope == .all {
                    journal.record(.note) {
                        $0.window = window
                        $0.detail = AttemptSeries.unobservedNote
                    }
                }
                try await gateway.setConnectionFault(spec.type == .reject ? .reject : .timeout, scope: scope)
            }
        case .reset:
            await gateway.resetConnections(scope: scope)
        case .service:
            guard let server else { return }
            leftovers.record(serviceStopped: true)
            try await blocking { try server.stop(crash: spec.crash) }
            // Nothing listens while the server is down: close the public port too.
            try await gateway.setConnectionFault(.reject, scope: .all)
        case .latency, .bandwidth:
            await applyShaping()
        }
    }

    private func clear(_ spec: FaultSpec) async throws {
        switch spec.type {
        case .reject, .timeout:
            ledger = nil
            if let iptables, iptables.isInstalled() { try await blocking { try iptables.remove() } }
            try await gateway.setConnectionFault(nil)
            leftovers.record(iptables: false)
        case .reset:
            break
        case .service:
            if let server, server.runningPID() == nil {
                try await blocking { _ = try server.start() }
            }
            try await gateway.setConnectionFault(nil)
            leftovers.record(serviceStopped: false)
        case .latency, .bandwidth:
            await applyShaping()
        }
    }

    /// The gateway shapes what the schedule has in force, each fault for its own scope.
    private func applyShaping() async {
        await gateway.setShaping(schedule.shaping.map { spec in
            ScopedShaping(
                TrafficShaping(latency: .milliseconds(spec.latencyMs ?? 0), jitter: .milliseconds(spec.jitterMs ?? 0),
                               bytesPerSecond: spec.bytesPerSecond),
                scope: ConnectionScope(rawValue: spec.scope.rawValue) ?? .all)
        })
    }

    // MARK: - Timers

    private func rearm() {
        timer?.cancel()
        guard let deadline = schedule.nextDeadline else { timer = nil; return }
        timer = Task { [weak self, clock] in
            // Cancelled: a later command re-armed the timer.
            do { try await Task.sleep(until: deadline, clock: clock) } catch { return }
            await self?.fire()
        }
    }

    private func fire() async {
        let actions = schedule.tick(now: clock.now)
        voidSaved(before: actions)
        _ = await perform(actions)
        persist()
        rearm()
    }

    // MARK: - Packets

    /// From now on, the packets our rules log belong to `window` and mean `verdict`.
    private func watchPackets(window: Int, verdict: AttemptLedger.Verdict) {
        guard startPacketReader() else { return }
        ledger = AttemptLedger(window: window, verdict: verdict)
    }

    /// Stops reading packets; the agent is exiting.
    func stopObserving() {
        packetReader?.stop()
        packetReader = nil
        packetTask?.cancel()
        packetTask = nil
        ledger = nil
    }

    private func startPacketReader() -> Bool {
        if packetReader != nil { return true }
        guard let iptables else { return false }
        do {
            let reader = try NflogReader(group: iptables.nflogGroup)
            let (stream, continuation) = AsyncStream.makeStream(
                of: (ClientPacket, Double).self, bufferingPolicy: .bufferingNewest(10_000))
            reader.start { packet, received in continuation.yield((packet, received)) }
            packetTask = Task { [weak self] in
                for await (packet, received) in stream { await self?.observe(packet, received: received) }
            }
            packetReader = reader
            return true
        } catch {
            let message = "connection attempts are not observed: \(error)"
            journal.record(.note) { $0.detail = message }
            log.warning("\(message)")
            notes.append(message)
            return false
        }
    }

    private func observe(_ packet: ClientPacket, received: Double) {
        guard var ledger else { return }
        // The kernel's time of the packet, unless it is missing or implausible.
        let at = packet.kernelTime.flatMap { abs($0 - received) < 5 ? $0 : nil } ?? received
        let events = ledger.observe(
            client: packet.client, syn: packet.flags.contains(.syn), ack: packet.flags.contains(.ack),
            fin: packet.flags.contains(.fin), rst: packet.flags.contains(.rst), at: at)
        self.ledger = ledger
        for var event in events {
            switch event.kind {
            case .connReset:
                // The kernel reset this client: the gateway's side goes too, so the connection
                // is reported lost, not surviving.
                event.conn = event.client.flatMap(gateway.clientWasReset(client:))
            case .clientGaveUp:
                event.conn = event.client.flatMap(gateway.connectionID(client:))
            default:
                break
            }
            journal.append(event)
        }
    }
}

/// Runs blocking work (process spawns, server start/stop) off the cooperative pool.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try work() })
        }
    }
}
