/// One active fault as `network --status` shows it. Times are relative to the `now` given
/// to `FaultSchedule.status(now:)`, because a `Clock.Instant` has no calendar date: the
/// I/O shell turns them into dates with its wall clock.
public struct ActiveFaultStatus: Codable, Sendable, Hashable {
    public var fault: FaultSpec
    /// The current window; nil while a flapping fault is in its off phase.
    public var windowID: Int?
    /// Seconds since the current window (or off phase) started.
    public var elapsedSeconds: Double
    /// Seconds until the fault clears by itself (timed outage or end of flap); nil if it
    /// stays until `up`.
    public var remainingSeconds: Double?
    /// Present for a flapping fault.
    public var flap: FlapStatus?

    public init(
        fault: FaultSpec, windowID: Int?, elapsedSeconds: Double,
        remainingSeconds: Double?, flap: FlapStatus?
    ) {
        self.fault = fault
        self.windowID = windowID
        self.elapsedSeconds = elapsedSeconds
        self.remainingSeconds = remainingSeconds
        self.flap = flap
    }

    enum CodingKeys: String, CodingKey {
        case fault
        case windowID = "window_id"
        case elapsedSeconds = "elapsed_seconds"
        case remainingSeconds = "remaining_seconds"
        case flap
    }
}

/// Where a flapping fault stands.
public struct FlapStatus: Codable, Sendable, Hashable {
    public var phase: FlapPhase
    public var intervalSeconds: Double
    /// Seconds until the next toggle; nil when the flap ends first.
    public var nextToggleSeconds: Double?
    /// On phases so far, the current one included.
    public var windowsOpened: Int

    public init(phase: FlapPhase, intervalSeconds: Double, nextToggleSeconds: Double?, windowsOpened: Int) {
        self.phase = phase
        self.intervalSeconds = intervalSeconds
        self.nextToggleSeconds = nextToggleSeconds
        self.windowsOpened = windowsOpened
    }

    enum CodingKeys: String, CodingKey {
        case phase
        case intervalSeconds = "interval_seconds"
        case nextToggleSeconds = "next_toggle_seconds"
        case windowsOpened = "windows_opened"
    }
}

public enum FlapPhase: String, Codable, Sendable {
    case on
    case off
}
