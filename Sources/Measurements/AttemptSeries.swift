/// Connection attempts around one fault window and how they were spaced.
///
/// The journal keeps one event per client connect; a client that reconnects often opens several
/// connections at once (a JDBC connection, then its binlog connection): connects less than
/// `groupingGap` after the previous connect of the same group are one reconnect attempt. Intervals
/// and the pattern are between attempts.
public struct AttemptSeries: Codable, Sendable, Hashable {
    /// One entry per `conn_accepted`, `conn_refused` and `conn_dropped` (old journals: one per
    /// refused sample, with its count).
    public var attempts: [ConnectionAttempt]
    /// Connections in all, refused counts included.
    public var total: Int
    /// Reconnect attempts: the connections grouped, in order.
    public var groups: [AttemptGroup]
    /// Seconds between successive reconnect attempts' starts (a dropped connect's first SYN:
    /// exact even when the moment its client gave up on it is only bounded).
    public var intervals: [Double]
    public var medianInterval: Double?
    public var pattern: RetryPattern
    /// True when a refused sample of an old journal counted several attempts: their times were
    /// spread evenly since the previous attempt, so the intervals are estimates.
    public var estimatedTimes: Bool
    /// Why refused connects could not be seen at all (an agent that may not log packets:
    /// the kernel refuses them unseen); nil when every attempt was observed.
    public var unobserved: String?
    /// Times no agent was observing (it had died and was not yet restarted): attempts then went
    /// unseen, so no interval is drawn across them. Nil when there were none.
    public var agentDown: [AgentDownSpan]?

    /// The journal note an agent writes in a window whose refused connects it cannot see.
    public static let unobservedNote =
        "refused connection attempts are not observed: logging packets needs root (or CAP_NET_ADMIN) and iptables"

    /// A connect less than this many seconds after the previous one belongs to the same attempt.
    public static let groupingGap = 1.0

    public init(attempts: [ConnectionAttempt], unobserved: String? = nil, agentDown: [AgentDownSpan]? = nil) {
        self.attempts = attempts
        self.unobserved = unobserved
        self.agentDown = agentDown?.isEmpty == true ? nil : agentDown
        var times: [(at: Double, entry: Int)] = []
        var estimated = false
        for (entry, attempt) in attempts.enumerated() {
            let count = max(attempt.count, 1)
            if count > 1 {
                estimated = true
                let previous = times.last?.at ?? 0
                let step = (attempt.after - previous) / Double(count)
                times += (1...count).map { (previous + step * Double($0), entry) }
            } else {
                times.append((attempt.after, entry))
            }
        }
        var groups: [AttemptGroup] = []
        for (index, time) in times.enumerated() {
            if index > 0, time.at - times[index - 1].at < Self.groupingGap {
                groups[groups.count - 1].connections += 1
                if groups[groups.count - 1].entries.last != time.entry { groups[groups.count - 1].entries.append(time.entry) }
            } else {
                groups.append(AttemptGroup(after: JournalEvent.timestamp(time.at), connections: 1, entries: [time.entry]))
            }
        }
        total = times.count
        self.groups = groups
        // An interval across a time no agent observed is not the client's: attempts in it went unseen.
        let spans = agentDown ?? []
        intervals = zip(groups, groups.dropFirst())
            .filter { pair in !spans.contains { $0.from < pair.1.after && $0.to > pair.0.after } }
            .map { JournalEvent.timestamp($1.after - $0.after) }
        medianInterval = Self.median(intervals)
        pattern = RetryPattern(intervals: intervals, attempts: spans.isEmpty ? groups.count : intervals.count + 1)
        estimatedTimes = estimated
    }

    /// Everything but `attempts` and `unobserved` is computed from them (older summaries lack `groups`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            attempts: container.decode([ConnectionAttempt].self, forKey: .attempts),
            unobserved: container.decodeIfPresent(String.self, forKey: .unobserved),
            agentDown: container.decodeIfPresent([AgentDownSpan].self, forKey: .agentDown))
    }

    /// The series without the attempts that started later than `seconds` from the fault start.
    public func ending(at seconds: Double) -> AttemptSeries {
        let kept = Set(groups.filter { $0.after <= seconds }.flatMap(\.entries))
        return AttemptSeries(attempts: attempts.indices.filter(kept.contains).map { attempts[$0] }, unobserved: unobserved,
                             agentDown: agentDown?.filter { $0.from <= seconds })
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
    }

    enum CodingKeys: String, CodingKey {
        case attempts, total, groups, intervals
        case medianInterval = "median_interval"
        case pattern
        case estimatedTimes = "estimated_times"
        case unobserved
        case agentDown = "agent_down"
    }
}

/// A time no agent was observing, in seconds from the fault start: from the last event the dead
/// agent journaled (it may have died any time after) to its successor's start.
public struct AgentDownSpan: Codable, Sendable, Hashable, CustomStringConvertible {
    public var from: Double
    public var to: Double
    /// Why it ended, as the restart was journaled ("the previous agent (pid 4711) was killed by signal 9").
    public var detail: String?

    public init(from: Double, to: Double, detail: String? = nil) {
        self.from = from
        self.to = to
        self.detail = detail
    }

    /// "agent down from 3.20 s (its last event) to 36.90 s (the restart): attempts then were not observed".
    public var description: String {
        String(format: "agent down from %.2f s (its last event) to %.2f s (the restart): attempts then were not observed", from, to)
    }
}

/// One reconnect attempt: connections each less than `AttemptSeries.groupingGap` after the previous.
public struct AttemptGroup: Codable, Sendable, Hashable {
    /// Seconds from the fault start to its first connect.
    public var after: Double
    /// Connections it opened (refused counts included).
    public var connections: Int
    /// Its entries in `AttemptSeries.attempts`, by index.
    public var entries: [Int]

    public init(after: Double, connections: Int, entries: [Int]) {
        self.after = after
        self.connections = connections
        self.entries = entries
    }
}

/// One connection attempt: accepted by the gateway, or refused or dropped by the kernel.
public struct ConnectionAttempt: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable {
        case accepted
        case refused
        /// Never answered (iptables DROP).
        case dropped
    }

    /// Seconds from the fault start.
    public var after: Double
    public var kind: Kind
    /// Attempts this entry stands for (refused samples may count several).
    public var count: Int
    public var conn: UInt64?
    public var client: String?
    /// What became of an accepted connection or a dropped attempt.
    public var outcome: AttemptOutcome?
    /// A dropped attempt the client gave up on: seconds from the fault start between which it
    /// gave up (equal when a FIN or RST dated it; else after its last SYN, at or before its next attempt).
    public var gaveUpEarliest: Double?
    public var gaveUpLatest: Double?

    public init(
        after: Double, kind: Kind, count: Int = 1, conn: UInt64? = nil,
        client: String? = nil, outcome: AttemptOutcome? = nil,
        gaveUpEarliest: Double? = nil, gaveUpLatest: Double? = nil
    ) {
        self.after = after
        self.kind = kind
        self.count = count
        self.conn = conn
        self.client = client
        self.outcome = outcome
        self.gaveUpEarliest = gaveUpEarliest
        self.gaveUpLatest = gaveUpLatest
    }

    enum CodingKeys: String, CodingKey {
        case after, kind, count, conn, client, outcome
        case gaveUpEarliest = "gave_up_earliest"
        case gaveUpLatest = "gave_up_latest"
    }
}

/// What became of an accepted connection, as far as the journal goes.
public enum AttemptOutcome: String, Codable, Sendable {
    case authenticated
    case authFailed = "auth_failed"
    /// Reset by a fault before authenticating.
    case reset
    /// Closed before authenticating.
    case closed
    /// Still open, not authenticated (e.g. hanging in a timeout).
    case open
    /// A dropped attempt the client was still waiting on.
    case dropped
    /// A dropped attempt the client gave up on.
    case gaveUp = "gave_up"
}

/// How a client spaced its connection attempts.
public enum RetryPattern: String, Codable, Sendable {
    /// No attempt.
    case none
    /// One attempt.
    case single
    /// Every interval within ±25% of the median (one outlier in ten allowed).
    case fixed
    /// Intervals growing: at least 80% of successive intervals do not shrink by more than
    /// 10%, at least half grow by 20% or more, and the last is at least 1.5 × the first.
    case backoff
    case irregular

    public init(intervals: [Double], attempts: Int) {
        switch attempts {
        case 0: self = .none; return
        case 1: self = .single; return
        default: break
        }
        guard let median = AttemptSeries.median(intervals), median > 0 else {
            self = .irregular
            return
        }
        let outliers = intervals.filter { abs($0 - median) > 0.25 * median }.count
        if outliers <= intervals.count / 10 {
            self = .fixed
            return
        }
        let pairs = Array(zip(intervals, intervals.dropFirst()))
        if !pairs.isEmpty, let first = intervals.first, let last = intervals.last {
            let notShrinking = pairs.filter { $1 >= 0.9 * $0 }.count
            let growing = pairs.filter { $1 >= 1.2 * $0 }.count
            if Double(notShrinking) >= 0.8 * Double(pairs.count),
               Double(growing) >= 0.5 * Double(pairs.count),
               last >= 1.5 * first {
                self = .backoff
                return
            }
        }
        self = .irregular
    }
}
