import Measurements
import Verification

/// A soak's verdict, as Jepsen's checkers answer: the destination holds exactly what the source
/// committed (`valid`), it does not (`invalid`), or the soak cannot say (`unknown`: its own
/// tooling failed, a fault it did not start, a comparison that could not be made). `blocked`:
/// it never started.
public enum SoakVerdict: String, Codable, Sendable {
    case valid, invalid, unknown, blocked

    /// 0 valid, 1 invalid, 4 unknown (as a run's INCONCLUSIVE), 3 blocked; an interrupted soak exits 130.
    public var exitCode: Int32 {
        switch self {
        case .valid: 0
        case .invalid: 1
        case .unknown: 4
        case .blocked: 3
        }
    }
}

/// One scheduled fault as it ran.
public struct SoakFaultRun: Codable, Hashable, Sendable {
    /// 1, 2, 3... in the schedule's order.
    public var number: Int
    public var scheduled: SoakWindow
    /// Epoch seconds the soak asked for it; nil when it never did (the soak ended first).
    public var started: Double?
    /// Epoch seconds it ended: its start plus its length (its start, for an instant).
    public var healed: Double?
    /// The agent's fault windows it opened.
    public var windows: [Int] = []
    /// What was done: "down reject for 20 s", "killed 2 connections of etl_user".
    public var applied: String?
    /// Why it could not be applied.
    public var problem: String?
    /// Seconds from the heal until the destination held a heartbeat written after it.
    public var freshAfter: Double?

    enum CodingKeys: String, CodingKey {
        case number, scheduled, started, healed, windows, applied, problem, freshAfter = "fresh_after"
    }

    public init(number: Int, scheduled: SoakWindow) {
        self.number = number
        self.scheduled = scheduled
    }

    /// "fault 3 (reject at 00:05:10)".
    public var name: String { "fault \(number) (\(scheduled.type.rawValue) at \(SoakLength.clock(scheduled.offsetSeconds)))" }
}

/// The destination's freshness at one moment: now minus the newest heartbeat it holds.
public struct LagSample: Codable, Hashable, Sendable {
    public var at: Double
    /// The newest heartbeat the destination holds (epoch seconds); nil when it could not be read.
    public var beat: Double?

    public init(at: Double, beat: Double?) {
        self.at = at
        self.beat = beat
    }

    public var lag: Double? { beat.map { max(0, at - $0) } }
}

/// The lag over the soak: its percentiles, or why it is unknown.
public struct LagSummary: Codable, Hashable, Sendable {
    public var samples: Int
    public var p50: Double?
    public var p99: Double?
    public var max: Double?
    /// "heartbeat table not replicated", when no sample could read a heartbeat.
    public var unknown: String?

    public init(_ samples: [LagSample], unreadable: String? = nil) {
        self.samples = samples.count
        let lags = samples.compactMap(\.lag).sorted()
        p50 = SoakStatistics.percentile(lags, 0.50)
        p99 = SoakStatistics.percentile(lags, 0.99)
        max = lags.last
        if lags.isEmpty { unknown = unreadable ?? "no sample read a heartbeat" }
    }
}

/// A comparison of the destination with the source, the soak's nemesis paused and its writes held.
public struct SoakCheckpoint: Codable, Hashable, Sendable {
    public var number: Int
    /// Seconds from the soak's start it was scheduled at (the soak's length, for the final one).
    public var offsetSeconds: Int
    public var at: Double
    public var final: Bool
    /// The destination matched within the catch-up wait.
    public var caughtUp: Bool
    public var waitedSeconds: Double
    public var data: VerifyReport

    enum CodingKeys: String, CodingKey {
        case number, offsetSeconds = "offset_seconds", at, final, caughtUp = "caught_up", waitedSeconds = "waited_seconds", data
    }

    public init(number: Int, offsetSeconds: Int, at: Double, final: Bool, caughtUp: Bool, waitedSeconds: Double, data: VerifyReport) {
        self.number = number
        self.offsetSeconds = offsetSeconds
        self.at = at
        self.final = final
        self.caughtUp = caughtUp
        self.waitedSeconds = waitedSeconds
        self.data = data
    }

    /// "match (1,204 rows)", "3 missing, 1 changed", "could not compare: ...".
    public var outcome: String {
        switch data.verdict {
        case .match: return "match (\(data.sourceRows) rows)" + (waitedSeconds >= 1 ? String(format: ", caught up in %.1f s", waitedSeconds) : "")
        case .error: return "could not compare: \(data.error ?? "")"
        case .differences:
            var parts = ["\(data.missing) missing", "\(data.extra) extra", "\(data.changed) changed"]
            if data.duplicates > 0 { parts.append("\(data.duplicates) duplicated") }
            return "source \(data.sourceRows) rows, destination \(data.destinationRows): " + parts.joined(separator: ", ")
                + String(format: " (after %.0f s of waiting)", waitedSeconds)
        }
    }
}

/// One row the comparison found different, placed by the history.
public struct PlacedRow: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// At the source, absent at the destination.
        case lost
        /// At both, different at the destination.
        case changed
        /// Deleted at the source, still at the destination.
        case notDeleted = "not_deleted"
        /// At the destination, never written at the source by anyone the soak knows of.
        case unexpected
        case duplicated
    }
    public var kind: Kind
    /// "users id=12".
    public var row: String
    /// The history's last write of the row, if the soak wrote it.
    public var operation: Int?
    public var outcome: SoakOperation.Outcome?
    /// When that write was answered (or given up on).
    public var at: Double?
    /// The scheduled fault it is blamed on: the one open when it was written, else the first
    /// that started after; nil: between faults.
    public var fault: Int?
    public var blame: String

    public init(kind: Kind, row: String, operation: Int? = nil, outcome: SoakOperation.Outcome? = nil, at: Double? = nil, fault: Int? = nil, blame: String) {
        self.kind = kind
        self.row = row
        self.operation = operation
        self.outcome = outcome
        self.at = at
        self.fault = fault
        self.blame = blame
    }
}

/// Per fault type: how often, how the pipeline noticed and came back.
public struct SoakTypeStats: Codable, Hashable, Sendable {
    public var type: SoakFault
    public var count: Int
    /// Windows in which the agent saw the client notice, and the median time it took.
    public var detected: Int
    public var detectionP50: Double?
    /// Connection attempts the agent counted in these windows.
    public var attempts: Int
    /// Seconds from the fault start until replication resumed.
    public var recoveryP50: Double?
    public var recoveryP95: Double?
    public var recoveryMax: Double?
    /// Faults after which the pipeline never resumed replicating (while the soak watched).
    public var neverRecovered: Int
    /// Resume verdicts: maintained, reread, skipped, unknown.
    public var resumes: [String: Int]
    /// Seconds from the heal until the destination was fresh again (median and longest).
    public var freshP50: Double?
    public var freshMax: Double?

    enum CodingKeys: String, CodingKey {
        case type, count, detected, attempts, resumes
        case detectionP50 = "detection_p50", recoveryP50 = "recovery_p50", recoveryP95 = "recovery_p95", recoveryMax = "recovery_max"
        case neverRecovered = "never_recovered", freshP50 = "fresh_p50", freshMax = "fresh_max"
    }
}

/// Everything a soak found: `result.json`, and what `soak.md`, `junit.xml` and `report.html` show.
public struct SoakReport: Codable, Sendable {
    /// The format of `result.json` (see its JSON Schema in the README).
    public static let currentVersion = 1

    public var version = SoakReport.currentVersion
    public var kind = "soak"
    public var toolkitVersion: String
    public var started: Double
    public var finished: Double
    /// "replica", or "external, destination URL".
    public var pipeline: String
    public var etlTool: String?
    public var schedule: SoakSchedule
    public var verdict: SoakVerdict
    /// Why: "3 rows lost after fault 4 (crash at 00:12:40)", "the comparison could not be made: ...".
    public var reason: String
    /// Set when a signal or `--stop` ended the soak early.
    public var interrupted: String?
    /// Still running: the reports written at a checkpoint.
    public var running = false
    public var preconditions: [String] = []
    public var faults: [SoakFaultRun] = []
    public var windows: [WindowReport] = []
    /// Binlog reconnects between faults, as the agent judged them.
    public var reconnects: [ResumeReport] = []
    public var checkpoints: [SoakCheckpoint] = []
    public var history = SoakHistoryCounts()
    public var placed: [PlacedRow] = []
    public var lag: LagSummary
    /// The lag curve (every sample).
    public var lagSamples: [LagSample] = []
    public var types: [SoakTypeStats] = []
    /// What makes the verdict unknown: the soak's own tooling, a fault it did not start.
    public var causes: [String] = []
    public var artifacts: [String] = []

    enum CodingKeys: String, CodingKey {
        case version, kind, started, finished, pipeline, schedule, verdict, reason, interrupted, running, preconditions
        case faults, windows, reconnects, checkpoints, history, placed, lag, types, causes, artifacts
        case toolkitVersion = "toolkit_version", etlTool = "etl_tool", lagSamples = "lag_samples"
    }

    public init(toolkitVersion: String, started: Double, pipeline: String, etlTool: String? = nil, schedule: SoakSchedule) {
        self.toolkitVersion = toolkitVersion
        self.started = started
        self.finished = started
        self.pipeline = pipeline
        self.etlTool = etlTool
        self.schedule = schedule
        verdict = .unknown
        reason = "not finished"
        lag = LagSummary([])
    }

    /// 0 valid, 1 invalid, 4 unknown, 3 blocked, 130 interrupted.
    public var exitCode: Int32 { interrupted != nil ? 130 : verdict.exitCode }
}

public enum SoakStatistics {
    /// The value below which `fraction` of the sorted values lie (nearest rank); nil when empty.
    public static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
