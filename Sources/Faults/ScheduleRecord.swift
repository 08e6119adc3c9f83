/// The active faults of a `FaultSchedule` with wall-clock times (seconds since 1970), as the
/// agent persists them whenever the schedule changes, so that an agent restarted after a crash
/// goes on with the test: what was active stays active until its recorded deadline (or `up`),
/// what passed its deadline meanwhile ends as expired.
public struct ScheduleRecord: Codable, Sendable, Hashable {
    public var nextWindowID: Int
    public var faults: [Fault]

    public struct Fault: Codable, Sendable, Hashable {
        public var spec: FaultSpec
        /// Nil while a flap is off.
        public var windowID: Int?
        public var phaseStarted: Double
        /// Auto-clear of a timed `down`; nil when it lasts until `up`.
        public var expiry: Double?
        public var flap: Flap?

        public init(spec: FaultSpec, windowID: Int?, phaseStarted: Double, expiry: Double?, flap: Flap?) {
            self.spec = spec
            self.windowID = windowID
            self.phaseStarted = phaseStarted
            self.expiry = expiry
            self.flap = flap
        }

        enum CodingKeys: String, CodingKey {
            case spec, expiry, flap
            case windowID = "window_id"
            case phaseStarted = "phase_started"
        }
    }

    public struct Flap: Codable, Sendable, Hashable {
        public var intervalSeconds: Double
        public var ends: Double
        public var nextToggle: Double
        public var windowsOpened: Int

        public init(intervalSeconds: Double, ends: Double, nextToggle: Double, windowsOpened: Int) {
            self.intervalSeconds = intervalSeconds
            self.ends = ends
            self.nextToggle = nextToggle
            self.windowsOpened = windowsOpened
        }

        enum CodingKeys: String, CodingKey {
            case ends
            case intervalSeconds = "interval_seconds"
            case nextToggle = "next_toggle"
            case windowsOpened = "windows_opened"
        }
    }

    enum CodingKeys: String, CodingKey {
        case faults
        case nextWindowID = "next_window_id"
    }

    public init(nextWindowID: Int, faults: [Fault]) {
        self.nextWindowID = nextWindowID
        self.faults = faults
    }

    /// The faults whose window is open and whose current phase ends after `wallNow`: what a
    /// restarted agent keeps in force (it must not undo their effects first).
    public func inForce(at wallNow: Double) -> [FaultSpec] {
        faults.compactMap { fault in
            guard fault.windowID != nil else { return nil }
            let deadline = [fault.expiry, fault.flap?.ends, fault.flap?.nextToggle].compactMap { $0 }.min()
            if let deadline, deadline <= wallNow { return nil }
            return fault.spec
        }
    }
}

/// A fault window that was open before a restart and stays open after it: the shell puts its
/// effects back without opening a new window.
public struct ResumedFault: Sendable, Hashable {
    public var spec: FaultSpec
    public var windowID: Int

    public init(spec: FaultSpec, windowID: Int) {
        self.spec = spec
        self.windowID = windowID
    }
}

extension FaultSchedule {
    /// The schedule as a record; `wallNow` is the wall-clock time (seconds since 1970) of `now`.
    public func record(now: C.Instant, wallNow: Double) -> ScheduleRecord {
        func wall(_ instant: C.Instant) -> Double { wallNow + now.duration(to: instant).seconds }
        return ScheduleRecord(nextWindowID: nextWindowID, faults: Slot.allCases.compactMap { slot in
            self[slot].map { fault in
                ScheduleRecord.Fault(
                    spec: fault.spec, windowID: fault.windowID, phaseStarted: wall(fault.phaseStarted),
                    expiry: fault.expiry.map(wall),
                    flap: fault.flap.map { flap in
                        ScheduleRecord.Flap(intervalSeconds: flap.interval.seconds, ends: wall(flap.ends),
                                            nextToggle: wall(flap.nextToggle), windowsOpened: flap.windowsOpened)
                    })
            }
        })
    }

    /// A schedule restored from `record` at `now` (wall-clock `wallNow`), with its timers caught up:
    /// `resumed` are the windows still open (their effects must be put back), `actions` what
    /// happened while no agent ran, in order (a timed fault past its deadline is cleared as
    /// `.expired`; a flap goes on in the phase it is in now, and its phases that came and went
    /// meanwhile are left out: they were never enforced).
    public static func restoring(
        _ record: ScheduleRecord, now: C.Instant, wallNow: Double, firstWindowID: Int = 1,
        defaultBackend: BackendKind? = nil
    ) -> (schedule: FaultSchedule, resumed: [ResumedFault], actions: [ScheduleAction]) {
        func instant(_ wall: Double) -> C.Instant { now.advanced(by: .seconds(wall - wallNow)) }
        var schedule = FaultSchedule(firstWindowID: max(firstWindowID, record.nextWindowID), defaultBackend: defaultBackend)
        for fault in record.faults {
            let slot = Slot(fault.spec.type)
            guard schedule[slot] == nil, fault.spec.type != .reset else { continue }
            schedule[slot] = ActiveFault(
                spec: fault.spec, windowID: fault.windowID, phaseStarted: instant(fault.phaseStarted),
                expiry: fault.expiry.map(instant),
                flap: fault.flap.flatMap { flap in
                    guard flap.intervalSeconds > 0 else { return nil }
                    return Flap(interval: .seconds(flap.intervalSeconds), ends: instant(flap.ends),
                                nextToggle: instant(flap.nextToggle), windowsOpened: flap.windowsOpened)
                })
        }
        let openBefore = Set(Slot.allCases.compactMap { schedule[$0]?.windowID })
        // Flap phases that began and ended while no agent ran were never enforced: they are left out.
        let caughtUp = schedule.tick(now: now)
        let missed = Set(caughtUp.compactMap { action -> Int? in
            guard case let .apply(_, window) = action else { return nil }
            return caughtUp.contains { if case .clear(_, window, _) = $0 { true } else { false } } ? window : nil
        })
        let actions = caughtUp.filter { action in
            switch action {
            case let .apply(_, window), let .clear(_, window, _): !missed.contains(window)
            }
        }
        let resumed = Slot.allCases.compactMap { slot -> ResumedFault? in
            guard let fault = schedule[slot], let window = fault.windowID, openBefore.contains(window) else { return nil }
            return ResumedFault(spec: fault.spec, windowID: window)
        }
        return (schedule, resumed, actions)
    }

    /// When the current phase of `window` ends by itself (its deadline, a flap's next toggle or
    /// end); nil when the window is not open or lasts until `up`.
    public func deadline(ofWindow window: Int) -> C.Instant? {
        Slot.allCases.lazy.compactMap { self[$0] }.first { $0.windowID == window }?.deadline
    }
}
