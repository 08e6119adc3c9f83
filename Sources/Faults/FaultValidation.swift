/// A rejected input: one line that names the flag, what is allowed, and the value given.
/// Flags are the command line's own (`--only`, `--slow`), whichever way the input came in:
/// the CLI, the control API and the schedule share this one validation.
public struct FaultValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The offending flag, e.g. "--latency".
    public var flag: String
    /// The whole one-line message, starting with the flag.
    public var message: String

    public init(flag: String, message: String) {
        self.flag = flag
        self.message = message
    }

    public var description: String { message }
}

/// The allowed ranges of every fault input.
public enum FaultLimits {
    /// Added latency, milliseconds.
    public static let latencyMs: ClosedRange<Int> = 1...600_000
    /// Bandwidth cap, bytes per second.
    public static let bytesPerSecond: ClosedRange<Int> = 1_024...10_000_000_000
    /// `--duration` of a timed outage, seconds.
    public static let durationSeconds: ClosedRange<Int> = 1...86_400
    /// `--interval` of a flap, seconds.
    public static let flapIntervalSeconds: ClosedRange<Int> = 1...3_600
    /// Upper bound of a flap's `--duration`, seconds (the lower bound is its interval).
    public static let flapDurationMaxSeconds = 86_400

    /// Checks a timed outage's `--duration` in whole seconds.
    public static func validateDuration(seconds: Int) throws(FaultValidationError) {
        guard durationSeconds.contains(seconds) else {
            throw outOfRange("--duration", durationSeconds, unit: "seconds", got: "\(seconds)")
        }
    }

    /// Checks a flap's `--interval` and `--duration` in whole seconds.
    public static func validateFlap(intervalSeconds: Int, durationSeconds: Int) throws(FaultValidationError) {
        guard flapIntervalSeconds.contains(intervalSeconds) else {
            throw outOfRange("--interval", flapIntervalSeconds, unit: "seconds", got: "\(intervalSeconds)")
        }
        let allowed = intervalSeconds...flapDurationMaxSeconds
        guard allowed.contains(durationSeconds) else {
            throw outOfRange(
                "--duration", allowed, unit: "seconds, at least the --interval", got: "\(durationSeconds)")
        }
    }

    static func outOfRange(
        _ flag: String, _ range: ClosedRange<Int>, unit: String, got: String
    ) -> FaultValidationError {
        FaultValidationError(
            flag: flag,
            message: "\(flag) must be an integer from \(range.lowerBound) to \(range.upperBound) (\(unit)), got \(got)")
    }
}

extension FaultSpec {
    /// Checks that the flags fit together and every value is in range. The first problem
    /// found is thrown as one line naming the flag.
    public func validate() throws(FaultValidationError) {
        if crash && type != .service {
            throw FaultValidationError(flag: "--crash", message: "--crash goes only with --type service")
        }
        if backend != nil && type != .reject && type != .timeout {
            throw FaultValidationError(flag: "--backend", message: "--backend goes only with --type reject or timeout")
        }
        if scope != .all && !FaultType.scopable.contains(type) {
            throw FaultValidationError(
                flag: "--only",
                message: "--only \(scope.rawValue) does not go with --type \(type.rawValue) (a stopped server cannot pick which connections it drops)")
        }
        switch type {
        case .latency:
            try validateLatency()
            if bytesPerSecond != nil { throw Self.onlyWith("--bandwidth", "--slow") }
        case .bandwidth:
            try validateBandwidth()
            if latencyMs != nil { throw Self.onlyWith("--latency", "--slow") }
            if jitterMs != nil { throw Self.onlyWith("--jitter", "--slow --latency") }
        case .reject, .timeout, .service, .reset:
            if latencyMs != nil { throw Self.onlyWith("--latency", "--slow") }
            if jitterMs != nil { throw Self.onlyWith("--jitter", "--slow --latency") }
            if bytesPerSecond != nil { throw Self.onlyWith("--bandwidth", "--slow") }
        }
    }

    private func validateLatency() throws(FaultValidationError) {
        let range = FaultLimits.latencyMs
        guard let latencyMs else {
            throw FaultValidationError(
                flag: "--latency",
                message: "--latency is required for a latency fault: an integer from \(range.lowerBound) to \(range.upperBound) (milliseconds)")
        }
        guard range.contains(latencyMs) else {
            throw FaultLimits.outOfRange("--latency", range, unit: "milliseconds", got: "\(latencyMs)")
        }
        if let jitterMs, !(0...latencyMs).contains(jitterMs) {
            throw FaultLimits.outOfRange(
                "--jitter", 0...latencyMs, unit: "milliseconds, at most the --latency", got: "\(jitterMs)")
        }
    }

    private func validateBandwidth() throws(FaultValidationError) {
        let range = FaultLimits.bytesPerSecond
        guard let bytesPerSecond else {
            throw FaultValidationError(
                flag: "--bandwidth",
                message: "--bandwidth is required for a bandwidth fault: an integer from \(range.lowerBound) to \(range.upperBound) (bytes per second)")
        }
        guard range.contains(bytesPerSecond) else {
            throw FaultLimits.outOfRange("--bandwidth", range, unit: "bytes per second", got: "\(bytesPerSecond)")
        }
    }

    private static func onlyWith(_ flag: String, _ partner: String) -> FaultValidationError {
        FaultValidationError(flag: flag, message: "\(flag) goes only with \(partner)")
    }
}
