import AgentAPI
import Faults
import Foundation
import Gateway
import Source

/// Owns every fault and every timer. Commands and timer ticks go through the pure
/// `FaultSchedule`; this actor only carries out the actions it returns, on the gateway, the
/// iptables chain or the managed server, and journals each window's start and end.
actor FaultController {
    private var schedule: FaultSchedule<ContinuousClock>
    private let clock = ContinuousClock()
    private let gateway: Gateway
    private let defaultBackend: BackendKind
    private let iptables: IptablesBackend?
    private let server: ManagedServer?
    private let journal: Journal
    private let leftovers: LeftoverFile
    private var timer: Task<Void, Never>?
    private var counter: Task<Void, Never>?
    /// The backend each active window was applied with.
    private var backendOf: [Int: BackendKind] = [:]
    private var latency: FaultSpec?
    private var bandwidth: FaultSpec?
    private(set) var notes: [String] = []

    /// Window ids go on from the highest one in the journal, which a restarted agent reloads:
    /// the measurements tell windows apart by id.
    init(gateway: Gateway, backend: BackendKind, iptables: IptablesBackend?, server: ManagedServer?,
         journal: Journal, leftovers: LeftoverFile) {
        self.schedule = FaultSchedule(firstWindowID: (journal.allEvents.compactMap(\.window).max() ?? 0) + 1)
        self.gateway = gateway
        self.defaultBackend = backend
        self.iptables = iptables
        self.server = server
        self.journal = journal
        self.leftovers = leftovers
    }

    var backend: BackendKind { defaultBackend }

    func status() -> [ActiveFaultStatus] { schedule.status(now: clock.now) }

    /// Checks a command against what this agent can do, then runs it.
    func handle(_ command: FaultCommand) async throws {
        let scheduleCommand = try command.scheduleCommand()
        if let spec = scheduleCommand.spec {
            try check(spec, backend: spec.backend ?? defaultBackend)
        }
        let actions = schedule.handle(scheduleCommand, now: clock.now)
        try await perform(actions)
        rearm()
    }

    /// `network --up`: everything back, from any state, including what only the backends know.
    func restoreAll() async {
        let actions = schedule.handle(.up, now: clock.now)
        try? await perform(actions)
        try? await gateway.restore()
        if let iptables { try? iptables.remove() }
        if let server, server.runningPID() == nil, leftovers.serviceStopped {
            try? await blocking { _ = try server.start() }
        }
        leftovers.clear()
        rearm()
    }

    private func check(_ spec: FaultSpec, backend: BackendKind) throws {
        if spec.type == .service && server == nil {
            throw AgentFailure(status: 400, message: "--type service needs the server toolkit up started; this agent fronts \(gateway.upstreamHost):\(gateway.upstreamPort)")
        }
        guard backend == .iptables else { return }
        guard iptables?.isUsable() == true else {
            throw AgentFailure(status: 400, message: "--backend iptables needs root (or CAP_NET_ADMIN) and iptables; use --backend gateway")
        }
        if spec.scope != .all {
            throw AgentFailure(status: 400, message: "--only \(spec.scope.rawValue) works only with --backend gateway (iptables cannot tell replication connections apart)")
        }
        if spec.type == .latency || spec.type == .bandwidth {
            throw AgentFailure(status: 400, message: "--slow with --backend iptables needs tc netem, which this kernel does not have; use --backend gateway")
        }
    }

    private func perform(_ actions: [ScheduleAction]) async throws {
        var failure: Error?
        for action in actions {
            do {
                switch action {
                case .apply(let spec, let window):
                    let backend = spec.backend ?? defaultBackend
                    let used = spec.type == .reject || spec.type == .timeout ? backend : .gateway
                    journal.record(.faultStarted) { $0.window = window; $0.fault = spec; $0.detail = used.rawValue }
                    backendOf[window] = used
                    try await apply(spec, backend: used, window: window)
                case .clear(let spec, let window, let reason):
                    // The window ends when the restore begins: clients held by the fault move on
                    // while it is being lifted, and their reconnects must fall after the end.
                    journal.record(.faultEnded) { $0.window = window; $0.fault = spec; $0.detail = reason.rawValue }
                    let used = backendOf[window] ?? .gateway
                    backendOf[window] = nil
                    try await clear(spec, backend: used)
                }
            } catch {
                let message = (error as? AgentFailure)?.message ?? "\(error)"
                journal.record(.note) { $0.detail = "fault action failed: \(message)" }
                notes.append(message)
                failure = failure ?? AgentFailure(status: 500, message: message)
            }
        }
        if let failure { throw failure }
    }

    private func apply(_ spec: FaultSpec, backend: BackendKind, window: Int) async throws {
        let scope = ConnectionScope(rawValue: spec.scope.rawValue) ?? .all
        switch spec.type {
        case .reject, .timeout:
            if backend == .iptables, let iptables {
                try await blocking { try iptables.apply(spec.type == .reject ? .reject : .drop) }
                leftovers.record(iptables: true)
                startCounting(window: window)
                // Established connections get RST (reject) or silence (drop) from the kernel
                // as soon as the client sends its next packet.
            } else {
                try await gateway.setConnectionFault(spec.type == .reject ? .reject : .timeout, scope: scope)
                if spec.type == .reject && spec.scope == .all, let iptables, iptables.isUsable() {
                    // The kernel refuses connects to a closed listener without telling us; a
                    // counting rule in our own chain lets us still see each attempt.
                    try? await blocking { try iptables.apply(.count) }
                    leftovers.record(iptables: true)
                    startCounting(window: window)
                }
            }
        case .reset:
            await gateway.resetConnections(scope: scope)
        case .service:
            guard let server else { return }
            leftovers.record(serviceStopped: true)
            try await blocking { try server.stop(crash: spec.crash) }
            // Nothing listens while the server is down: close the public port too.
            try await gateway.setConnectionFault(.reject, scope: .all)
        case .latency:
            latency = spec
            await applyShaping()
        case .bandwidth:
            bandwidth = spec
            await applyShaping()
        }
    }

    private func clear(_ spec: FaultSpec, backend: BackendKind) async throws {
        switch spec.type {
        case .reject, .timeout:
            stopCounting()
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
        case .latency:
            latency = nil
            await applyShaping()
        case .bandwidth:
            bandwidth = nil
            await applyShaping()
        }
    }

    private func applyShaping() async {
        await gateway.setShaping(latency: .milliseconds(latency?.latencyMs ?? 0),
                                 jitter: .milliseconds(latency?.jitterMs ?? 0),
                                 bandwidth: bandwidth?.bytesPerSecond)
    }

    // MARK: - Timers

    private func rearm() {
        timer?.cancel()
        guard let deadline = schedule.nextDeadline else { timer = nil; return }
        timer = Task { [weak self, clock] in
            do { try await Task.sleep(until: deadline, clock: clock) } catch { return }
            await self?.fire()
        }
    }

    private func fire() async {
        let actions = schedule.tick(now: clock.now)
        try? await perform(actions)
        rearm()
    }

    /// Polls our chain's SYN counter and journals refused (or dropped) connection attempts.
    private func startCounting(window: Int) {
        counter?.cancel()
        guard let iptables else { return }
        let journal = self.journal
        counter = Task.detached {
            var seen = iptables.attemptCount() ?? 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                guard let count = iptables.attemptCount() else { continue }
                if count > seen {
                    let delta = count - seen
                    journal.record(.connRefused) { $0.window = window; $0.count = delta }
                }
                seen = max(seen, count)
            }
        }
    }

    private func stopCounting() {
        counter?.cancel()
        counter = nil
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
