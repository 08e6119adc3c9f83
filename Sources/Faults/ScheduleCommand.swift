/// What the CLI (through the control API) asks the agent's fault schedule to do.
public enum ScheduleCommand: Sendable, Hashable {
    /// Put a fault in place, until `up` or, with a duration, until it expires.
    case down(FaultSpec, duration: Duration?)
    /// Toggle a fault on and off every `interval` for `duration`, starting on; ends cleared.
    case flap(FaultSpec, interval: Duration, duration: Duration)
    /// Add latency to all connections (`network --slow --latency MS`).
    case slow(latencyMs: Int, jitterMs: Int?)
    /// Remove the latency fault (`network --slow --off`).
    case slowOff
    /// Clear every fault and cancel every timer (`network --up`).
    case up
}

/// What the I/O shell must do. Actions come in the order they must be executed.
public enum ScheduleAction: Sendable, Hashable {
    /// Start enforcing `FaultSpec`; journal `fault_started` with this window id.
    case apply(FaultSpec, windowID: Int)
    /// Stop enforcing the fault of this window; journal `fault_ended`.
    case clear(FaultSpec, windowID: Int, reason: ClearReason)
}

/// Why a fault window ended.
public enum ClearReason: String, Codable, Sendable, CaseIterable {
    /// `network --up` (or `--slow --off` for latency) asked for it.
    case up
    /// Its duration ran out, a flap ended, or it was a one-shot reset.
    case expired
    /// A flapping fault entered its off phase.
    case flapToggle = "flap_toggle"
    /// Another fault took its place.
    case replaced
}

extension ScheduleCommand {
    /// The fault this command puts in place, if any.
    public var spec: FaultSpec? {
        switch self {
        case let .down(spec, _), let .flap(spec, _, _): spec
        case let .slow(latencyMs, jitterMs): .latency(ms: latencyMs, jitterMs: jitterMs)
        case .slowOff, .up: nil
        }
    }

    /// Checks the whole command as the CLI would send it: the fault spec, and the duration
    /// and interval in whole seconds (see `FaultLimits`).
    public func validate() throws(FaultValidationError) {
        switch self {
        case let .down(spec, duration):
            try spec.validate()
            guard let duration else { return }
            if spec.type == .reset {
                throw FaultValidationError(
                    flag: "--duration", message: "--duration does not go with --type reset (a reset is one-shot)")
            }
            try FaultLimits.validateDuration(seconds: try Self.wholeSeconds(duration, flag: "--duration"))
        case let .flap(spec, interval, duration):
            try spec.validate()
            guard FaultType.flappable.contains(spec.type) else {
                throw FaultValidationError(
                    flag: "--flap", message: "--flap does not go with --type \(spec.type.rawValue) (a \(spec.type.rawValue) is one-shot)")
            }
            try FaultLimits.validateFlap(
                intervalSeconds: try Self.wholeSeconds(interval, flag: "--interval"),
                durationSeconds: try Self.wholeSeconds(duration, flag: "--duration"))
        case let .slow(latencyMs, jitterMs):
            try FaultSpec.latency(ms: latencyMs, jitterMs: jitterMs).validate()
        case .slowOff, .up:
            return
        }
    }

    private static func wholeSeconds(_ duration: Duration, flag: String) throws(FaultValidationError) -> Int {
        let (seconds, attoseconds) = duration.components
        guard attoseconds == 0 else {
            throw FaultValidationError(
                flag: flag, message: "\(flag) must be a whole number of seconds, got \(duration.seconds)")
        }
        return Int(clamping: seconds)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
