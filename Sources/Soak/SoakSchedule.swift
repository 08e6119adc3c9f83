/// What a soak schedule is made from. Lengths and offsets are whole seconds.
public struct SoakOptions: Codable, Hashable, Sendable {
    /// How long the soak lasts.
    public var durationSeconds: Int
    /// The seed of the schedule's `SplitMix64`.
    public var seed: UInt64
    /// The faults drawn from, each equally likely.
    public var faults: [SoakFault]
    /// Bounds of a fault's length (instants have none).
    public var faultLength: SoakRange
    /// Bounds of the healed gap before each fault.
    public var gap: SoakRange
    /// A checkpoint every this many seconds from the start.
    public var checkpointEverySeconds: Int

    enum CodingKeys: String, CodingKey {
        case durationSeconds = "duration_seconds", seed, faults, faultLength = "fault_length", gap
        case checkpointEverySeconds = "checkpoint_every_seconds"
    }

    public static let defaultFaultLength = SoakRange(min: 5, max: 60)
    public static let defaultGap = SoakRange(min: 10, max: 120)
    public static let defaultCheckpointEvery = 600

    /// The allowed values of each option.
    public enum Limits {
        /// `--duration`: 1 second to 30 days.
        public static let durationSeconds: ClosedRange<Int> = 1...2_592_000
        /// `--fault-length` ends: 1 second to 24 hours.
        public static let faultLengthSeconds: ClosedRange<Int> = 1...86_400
        /// `--gap` ends: 1 second to 24 hours.
        public static let gapSeconds: ClosedRange<Int> = 1...86_400
        /// `--checkpoint-every`: 1 second to 30 days (and see `validate()`).
        public static let checkpointEverySeconds: ClosedRange<Int> = 1...2_592_000
    }

    public init(
        durationSeconds: Int, seed: UInt64, faults: [SoakFault] = SoakFault.defaults,
        faultLength: SoakRange = defaultFaultLength, gap: SoakRange = defaultGap,
        checkpointEverySeconds: Int = defaultCheckpointEvery
    ) {
        self.durationSeconds = durationSeconds
        self.seed = seed
        self.faults = faults
        self.faultLength = faultLength
        self.gap = gap
        self.checkpointEverySeconds = checkpointEverySeconds
    }

    /// The first problem found, as one line naming the flag.
    public func validate() throws(SoakInputError) {
        func outside(_ flag: String, _ value: Int, _ range: ClosedRange<Int>) -> SoakInputError {
            SoakInputError(flag: flag, message: "\(flag) must be from \(SoakLength.text(range.lowerBound)) to \(SoakLength.text(range.upperBound)), got '\(SoakLength.text(value))'")
        }
        guard Limits.durationSeconds.contains(durationSeconds) else {
            throw outside("--duration", durationSeconds, Limits.durationSeconds)
        }
        guard !faults.isEmpty, Set(faults).count == faults.count else {
            throw SoakInputError(flag: "--faults", message: "--faults must name each fault at most once and at least one")
        }
        for (flag, range, limits) in [("--fault-length", faultLength, Limits.faultLengthSeconds), ("--gap", gap, Limits.gapSeconds)] {
            guard range.min <= range.max, limits.contains(range.min), limits.contains(range.max) else {
                throw SoakInputError(flag: flag, message: "\(flag) must be lengths from \(SoakLength.text(limits.lowerBound)) to \(SoakLength.text(limits.upperBound)), MIN at most MAX, got '\(range)'")
            }
        }
        guard Limits.checkpointEverySeconds.contains(checkpointEverySeconds) else {
            throw outside("--checkpoint-every", checkpointEverySeconds, Limits.checkpointEverySeconds)
        }
        guard checkpointEverySeconds >= minimumCheckpointEvery else {
            throw SoakInputError(
                flag: "--checkpoint-every",
                message: "--checkpoint-every must be at least the longest gap, the longest fault and the shortest gap together (\(SoakLength.text(minimumCheckpointEvery)) with --gap \(gap) --fault-length \(faultLength)), got '\(SoakLength.text(checkpointEverySeconds))'")
        }
    }

    /// The shortest checkpoint interval in which the first fault after a checkpoint always fits.
    public var minimumCheckpointEvery: Int {
        gap.max + (faults.allSatisfy(\.isInstant) ? 0 : faultLength.max) + gap.min
    }
}

/// One fault of the schedule: when it starts, what it is, how long it lasts, and the parameters
/// its type needs (drawn from the seed, see `SoakSchedule.generate`).
public struct SoakWindow: Codable, Hashable, Sendable {
    /// Seconds from the soak's start.
    public var offsetSeconds: Int
    public var type: SoakFault
    /// Seconds the fault lasts; nil for an instant.
    public var lengthSeconds: Int?
    /// `latency`: the added delay, 50 to 2000 ms.
    public var latencyMs: Int?
    /// `latency`: jitter, 0 to a fifth of the delay.
    public var jitterMs: Int?
    /// `bandwidth`: the cap, one of 16, 64, 256 or 1024 KiB/s.
    public var bytesPerSecond: Int?
    /// `flap`: seconds down, then up, and so on; 1 s to a half of the length, at most 30 s.
    public var flapIntervalSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case offsetSeconds = "offset_seconds", type, lengthSeconds = "length_seconds", latencyMs = "latency_ms"
        case jitterMs = "jitter_ms", bytesPerSecond = "bytes_per_second", flapIntervalSeconds = "flap_interval_seconds"
    }

    public init(offsetSeconds: Int, type: SoakFault, lengthSeconds: Int? = nil) {
        self.offsetSeconds = offsetSeconds
        self.type = type
        self.lengthSeconds = lengthSeconds
    }

    /// The offset at which the pipeline is healed again (the start, for an instant).
    public var endSeconds: Int { offsetSeconds + (lengthSeconds ?? 0) }
}

/// How many faults of one type a schedule holds and how long they last together.
public struct SoakTotal: Codable, Hashable, Sendable {
    public var type: SoakFault
    public var count: Int
    public var seconds: Int
}

/// The nemesis's plan for a soak: fault windows and checkpoints, as offsets from the start.
/// Pure and seeded: the same options (seed included) give the same schedule everywhere, so it is
/// printed before a soak starts, kept in its report and replayed from there.
///
/// Guarantees (`violations()` checks them): faults are in order and never overlap; each has at least
/// the shortest gap healed before it, and exactly a gap within bounds after the previous fault when no
/// checkpoint lies between them; each ends at least the shortest gap before the next checkpoint and
/// before the end; instants have no length, the others a length within bounds.
public struct SoakSchedule: Codable, Hashable, Sendable {
    /// The layout of this value; a replayed schedule of another version is refused.
    public static let currentVersion = 1

    public var version: Int
    public var options: SoakOptions
    public var faults: [SoakWindow]
    /// Offsets of the checkpoints, every `checkpointEverySeconds` before the end; the nemesis pauses
    /// there so that the destination can be compared with a healed pipeline.
    public var checkpoints: [Int]

    public init(version: Int = currentVersion, options: SoakOptions, faults: [SoakWindow], checkpoints: [Int]) {
        self.version = version
        self.options = options
        self.faults = faults
        self.checkpoints = checkpoints
    }

    /// The schedule of `options`, drawn from `SplitMix64(seed: options.seed)`.
    public init(_ options: SoakOptions) {
        var random = SplitMix64(seed: options.seed)
        self = Self.generate(options, using: &random)
    }

    /// The schedule of `options` drawn from `random`. The period between two checkpoints (or the start,
    /// or the end) is filled from its start: draw a gap, a type, a length (not for an instant) and the
    /// type's parameters, in that order; the fault is kept when it ends at least the shortest gap before
    /// the period's end, else the period is done. Options are taken as validated.
    public static func generate<Random: RandomNumberGenerator>(
        _ options: SoakOptions, using random: inout Random
    ) -> SoakSchedule {
        let every = max(1, options.checkpointEverySeconds)
        let checkpoints = Array(stride(from: every, to: options.durationSeconds, by: every))
        var faults: [SoakWindow] = []
        var periodStart = 0
        for periodEnd in checkpoints + [options.durationSeconds] {
            var healedAt = periodStart
            while true {
                let gap = random.uniform(in: options.gap.seconds)
                let type = options.faults[random.uniform(in: 0...(options.faults.count - 1))]
                var window = SoakWindow(offsetSeconds: healedAt + gap, type: type)
                if !type.isInstant { window.lengthSeconds = random.uniform(in: options.faultLength.seconds) }
                drawParameters(of: &window, using: &random)
                guard window.endSeconds + options.gap.min <= periodEnd else { break }
                faults.append(window)
                healedAt = window.endSeconds
            }
            periodStart = periodEnd
        }
        return SoakSchedule(options: options, faults: faults, checkpoints: checkpoints)
    }

    private static func drawParameters<Random: RandomNumberGenerator>(
        of window: inout SoakWindow, using random: inout Random
    ) {
        switch window.type {
        case .latency:
            let latency = random.uniform(in: 50...2_000)
            window.latencyMs = latency
            window.jitterMs = random.uniform(in: 0...(latency / 5))
        case .bandwidth:
            window.bytesPerSecond = [16_384, 65_536, 262_144, 1_048_576][random.uniform(in: 0...3)]
        case .flap:
            let length = window.lengthSeconds ?? 1
            window.flapIntervalSeconds = random.uniform(in: 1...max(1, min(30, length / 2)))
        case .reject, .timeout, .service, .crash, .reset, .killConnections:
            break
        }
    }

    /// Faults per type, in the order of `options.faults`.
    public var totals: [SoakTotal] {
        options.faults.map { type in
            let mine = faults.filter { $0.type == type }
            return SoakTotal(type: type, count: mine.count, seconds: mine.reduce(0) { $0 + ($1.lengthSeconds ?? 0) })
        }
    }

    /// The first checkpoint later than `offset` (checkpoints are in order).
    private func firstCheckpoint(after offset: Int) -> Int? {
        var low = 0, high = checkpoints.count
        while low < high {
            let middle = (low + high) / 2
            if checkpoints[middle] > offset { high = middle } else { low = middle + 1 }
        }
        return low < checkpoints.count ? checkpoints[low] : nil
    }

    /// Every broken guarantee, one line each; empty for a sound schedule.
    public func violations() -> [String] {
        var problems: [String] = []
        let options = self.options
        let expected = Array(stride(from: max(1, options.checkpointEverySeconds), to: options.durationSeconds,
                                    by: max(1, options.checkpointEverySeconds)))
        if checkpoints != expected { problems.append("checkpoints are not every \(options.checkpointEverySeconds)s before the end") }
        var previousEnd: Int?
        for (index, window) in faults.enumerated() {
            let name = "fault \(index + 1) (\(window.type.rawValue) at \(SoakLength.clock(window.offsetSeconds)))"
            if !options.faults.contains(window.type) { problems.append("\(name) is not one of the schedule's faults") }
            if window.type.isInstant {
                if window.lengthSeconds != nil { problems.append("\(name) is an instant with a length") }
            } else if let length = window.lengthSeconds {
                if !options.faultLength.seconds.contains(length) { problems.append("\(name) lasts \(length)s, outside \(options.faultLength)") }
            } else {
                problems.append("\(name) has no length")
            }
            let start = previousEnd ?? 0
            let gap = window.offsetSeconds - start
            // A checkpoint between the previous fault and this one lets the gap be longer.
            let afterPrevious = firstCheckpoint(after: start)
            let crossed = afterPrevious.map { $0 < window.offsetSeconds } ?? false
            if gap < options.gap.min { problems.append("\(name) follows a gap of \(gap)s, shorter than \(SoakLength.text(options.gap.min))") }
            if !crossed && previousEnd != nil && gap > options.gap.max {
                problems.append("\(name) follows a gap of \(gap)s, longer than \(SoakLength.text(options.gap.max))")
            }
            let following = firstCheckpoint(after: window.offsetSeconds - 1)
            if let following, following <= window.endSeconds {
                problems.append("\(name) overlaps the checkpoint at \(SoakLength.clock(following))")
            } else if window.endSeconds + options.gap.min > following ?? options.durationSeconds {
                let place = following.map { "the checkpoint at \(SoakLength.clock($0))" } ?? "the end"
                problems.append("\(name) is not healed \(SoakLength.text(options.gap.min)) before \(place)")
            }
            previousEnd = window.endSeconds
        }
        return problems
    }
}
