/// Every active fault and every fault timer of one agent, as a pure state machine.
///
/// It never sleeps and never reads a clock: each call gets `now`, returns the actions the
/// I/O shell must execute (in order), and `nextDeadline` says when to call `tick(now:)`.
///
/// - One connection fault (reject, timeout, service, reset) at a time: a new one replaces
///   the old (`clear … .replaced`, then `apply`).
/// - Shaping faults stack with it: one latency and one bandwidth fault at a time.
/// - `down` with a duration clears itself at the deadline (`.expired`).
/// - `reset` is one-shot: `apply` and `clear … .expired` in the same call.
/// - `flap` is on at once, off after `interval`, on again after another… and ends cleared
///   when `duration` has elapsed. Each on phase is a window of its own.
/// - `up` clears everything and cancels every timer, from any state.
/// - Window ids increase by one with every `apply`.
/// - With a `defaultBackend`, every reject and timeout it keeps says which backend enforces it
///   (`FaultSpec.backend`, see `enforcing(_:)`), so `apply` and `clear` carry all the shell needs.
public struct FaultSchedule<C: Clock>: Sendable where C.Duration == Duration {
    private var connection: ActiveFault?
    private var latency: ActiveFault?
    private var bandwidth: ActiveFault?
    private var nextWindowID: Int
    private let defaultBackend: BackendKind?

    /// - Parameters:
    ///   - firstWindowID: the id of the next window; an agent restarting continues after the
    ///     highest window id in its journal.
    ///   - defaultBackend: the agent's backend; nil leaves each fault's `backend` as given.
    public init(firstWindowID: Int = 1, defaultBackend: BackendKind? = nil) {
        nextWindowID = firstWindowID
        self.defaultBackend = defaultBackend
    }

    /// The fault with the backend that enforces it: the kernel (iptables) can only refuse or
    /// drop every connection to the port, so an unscoped reject or timeout goes to the agent's
    /// default backend and a scoped one to the gateway; a backend the user chose stays. Every
    /// other fault has one way to be enforced (shaping and resets by the gateway, since this
    /// kernel has no netem; service by stopping the server) and carries no backend.
    public func enforcing(_ spec: FaultSpec) -> FaultSpec {
        guard let defaultBackend, spec.type == .reject || spec.type == .timeout else { return spec }
        var spec = spec
        spec.backend = spec.backend ?? (spec.scope == .all ? defaultBackend : .gateway)
        return spec
    }

    /// The shaping faults in force now (latency, then bandwidth), each with its scope; a
    /// flapping one in its off phase is not in force.
    public var shaping: [FaultSpec] {
        [latency, bandwidth].compactMap { fault in fault?.windowID == nil ? nil : fault?.spec }
    }

    /// Executes a command. Every command is valid in every state; one that changes nothing
    /// returns no actions. Commands are expected to have passed `ScheduleCommand.validate()`.
    public mutating func handle(_ command: ScheduleCommand, now: C.Instant) -> [ScheduleAction] {
        switch command {
        case let .down(spec, duration):
            return down(spec, duration: duration, now: now)
        case let .flap(spec, interval, duration):
            return flap(spec, interval: interval, duration: duration, now: now)
        case let .slow(latencyMs, jitterMs):
            return down(.latency(ms: latencyMs, jitterMs: jitterMs), duration: nil, now: now)
        case .slowOff:
            return remove(.latency, reason: .up)
        case .up:
            return Slot.allCases.flatMap { remove($0, reason: .up) }
        }
    }

    /// Fires every timer due at `now`, in deadline order, as if each fired on time.
    public mutating func tick(now: C.Instant) -> [ScheduleAction] {
        var actions: [ScheduleAction] = []
        while let (slot, deadline) = earliestDeadline(), deadline <= now {
            actions += fire(slot, at: deadline)
        }
        return actions
    }

    /// When `tick(now:)` must be called next; nil when no timer is pending.
    public var nextDeadline: C.Instant? {
        earliestDeadline()?.deadline
    }

    /// True when no fault is active and no timer is pending.
    public var isIdle: Bool {
        connection == nil && latency == nil && bandwidth == nil
    }

    /// The active faults (connection fault first, then latency, then bandwidth). A flapping
    /// fault is listed in its off phase too, with no window id.
    public func status(now: C.Instant) -> [ActiveFaultStatus] {
        Slot.allCases.compactMap { self[$0]?.status(now: now) }
    }

    // MARK: - Commands

    private mutating func down(_ spec: FaultSpec, duration: Duration?, now: C.Instant) -> [ScheduleAction] {
        let spec = enforcing(spec)
        let slot = Slot(spec.type)
        let expiry = duration.map { now.advanced(by: $0) }
        if var current = self[slot], current.spec == spec, current.flap == nil, spec.type != .reset {
            // The same fault again: keep its window, take the new deadline.
            current.expiry = expiry
            self[slot] = current
            return []
        }
        var actions = remove(slot, reason: .replaced)
        let windowID = openWindow()
        actions.append(.apply(spec, windowID: windowID))
        if spec.type == .reset {
            actions.append(.clear(spec, windowID: windowID, reason: .expired))
            return actions
        }
        self[slot] = ActiveFault(spec: spec, windowID: windowID, phaseStarted: now, expiry: expiry, flap: nil)
        return actions
    }

    private mutating func flap(
        _ spec: FaultSpec, interval: Duration, duration: Duration, now: C.Instant
    ) -> [ScheduleAction] {
        guard spec.type != .reset else {
            // A reset has no duration to toggle; flapping it is a single reset.
            return down(spec, duration: nil, now: now)
        }
        let spec = enforcing(spec)
        guard interval > .zero, duration > .zero else { return [] }
        let slot = Slot(spec.type)
        var actions = remove(slot, reason: .replaced)
        let windowID = openWindow()
        actions.append(.apply(spec, windowID: windowID))
        let flap = Flap(
            interval: interval, ends: now.advanced(by: duration),
            nextToggle: now.advanced(by: interval), windowsOpened: 1)
        self[slot] = ActiveFault(spec: spec, windowID: windowID, phaseStarted: now, expiry: nil, flap: flap)
        return actions
    }

    /// Clears the slot's fault if it is on, and cancels its timers.
    private mutating func remove(_ slot: Slot, reason: ClearReason) -> [ScheduleAction] {
        guard let current = self[slot] else { return [] }
        self[slot] = nil
        guard let windowID = current.windowID else { return [] }
        return [.clear(current.spec, windowID: windowID, reason: reason)]
    }

    private mutating func openWindow() -> Int {
        defer { nextWindowID += 1 }
        return nextWindowID
    }

    // MARK: - Timers

    private func earliestDeadline() -> (slot: Slot, deadline: C.Instant)? {
        var earliest: (slot: Slot, deadline: C.Instant)?
        for slot in Slot.allCases {
            guard let deadline = self[slot]?.deadline else { continue }
            if earliest == nil || deadline < earliest!.deadline {
                earliest = (slot, deadline)
            }
        }
        return earliest
    }

    private mutating func fire(_ slot: Slot, at deadline: C.Instant) -> [ScheduleAction] {
        guard var current = self[slot] else { return [] }
        guard var flap = current.flap else {
            return remove(slot, reason: .expired)
        }
        if flap.ends <= flap.nextToggle {
            return remove(slot, reason: .expired)
        }
        let actions: [ScheduleAction]
        if let windowID = current.windowID {
            actions = [.clear(current.spec, windowID: windowID, reason: .flapToggle)]
            current.windowID = nil
        } else {
            let windowID = openWindow()
            actions = [.apply(current.spec, windowID: windowID)]
            current.windowID = windowID
            flap.windowsOpened += 1
        }
        current.phaseStarted = deadline
        flap.nextToggle = flap.nextToggle.advanced(by: flap.interval)
        current.flap = flap
        self[slot] = current
        return actions
    }

    // MARK: - State

    private enum Slot: CaseIterable {
        case connection, latency, bandwidth

        init(_ type: FaultType) {
            switch type {
            case .reject, .timeout, .service, .reset: self = .connection
            case .latency: self = .latency
            case .bandwidth: self = .bandwidth
            }
        }
    }

    private subscript(slot: Slot) -> ActiveFault? {
        get {
            switch slot {
            case .connection: connection
            case .latency: latency
            case .bandwidth: bandwidth
            }
        }
        set {
            switch slot {
            case .connection: connection = newValue
            case .latency: latency = newValue
            case .bandwidth: bandwidth = newValue
            }
        }
    }

    private struct Flap: Sendable, Hashable {
        var interval: Duration
        var ends: C.Instant
        var nextToggle: C.Instant
        var windowsOpened: Int
    }

    private struct ActiveFault: Sendable, Hashable {
        var spec: FaultSpec
        /// Nil while a flap is off.
        var windowID: Int?
        /// Start of the current window, or of the flap's off phase.
        var phaseStarted: C.Instant
        /// Auto-clear of a timed `down`.
        var expiry: C.Instant?
        var flap: Flap?

        var deadline: C.Instant? {
            if let flap { return min(flap.ends, flap.nextToggle) }
            return expiry
        }

        func status(now: C.Instant) -> ActiveFaultStatus {
            let ends = flap?.ends ?? expiry
            return ActiveFaultStatus(
                fault: spec,
                windowID: windowID,
                elapsedSeconds: phaseStarted.duration(to: now).seconds,
                remainingSeconds: ends.map { now.duration(to: $0).seconds },
                flap: flap.map { flap in
                    FlapStatus(
                        phase: windowID == nil ? .off : .on,
                        intervalSeconds: flap.interval.seconds,
                        nextToggleSeconds: flap.nextToggle < flap.ends
                            ? now.duration(to: flap.nextToggle).seconds : nil,
                        windowsOpened: flap.windowsOpened)
                })
        }
    }
}
