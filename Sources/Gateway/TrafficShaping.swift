import NIOCore

/// Latency, jitter and bandwidth applied to a connection.
///
/// `latency` delays every byte from the source on its way to the client (plus a uniform random
/// 0...`jitter`), as netem on the server's egress and Toxiproxy's latency toxic do: a binlog event
/// arrives `latency` late, and a request/response exchange takes `latency` longer. The client's
/// bytes go to the source undelayed. `bytesPerSecond` limits each direction of each connection.
public struct TrafficShaping: Sendable, Hashable, CustomStringConvertible {
    public var latency: Duration
    public var jitter: Duration
    public var bytesPerSecond: Int?

    public static let none = TrafficShaping()

    /// Negative durations count as zero; a bandwidth of zero or less means no limit.
    public init(latency: Duration = .zero, jitter: Duration = .zero, bytesPerSecond: Int? = nil) {
        self.latency = max(latency, .zero)
        self.jitter = max(jitter, .zero)
        self.bytesPerSecond = bytesPerSecond.flatMap { $0 > 0 ? $0 : nil }
    }

    public var isActive: Bool {
        latency > .zero || jitter > .zero || bytesPerSecond != nil
    }

    /// What the source's bytes get on their way to the client: the latency, the jitter, the bandwidth.
    var towardsClient: DirectionShaping? {
        guard isActive else { return nil }
        return DirectionShaping(delay: .nanoseconds(latency.nanoseconds), jitter: .nanoseconds(jitter.nanoseconds),
                                bytesPerSecond: bytesPerSecond)
    }

    /// What the client's bytes get on their way to the source: the bandwidth only.
    var towardsServer: DirectionShaping? {
        bytesPerSecond.map { DirectionShaping(delay: .zero, jitter: .zero, bytesPerSecond: $0) }
    }

    public var description: String {
        var parts: [String] = []
        if latency > .zero { parts.append("latency \(latency.nanoseconds / 1_000_000) ms") }
        if jitter > .zero { parts.append("jitter \(jitter.nanoseconds / 1_000_000) ms") }
        if let bytesPerSecond { parts.append("bandwidth \(bytesPerSecond) B/s") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}

/// Shaping for the connections of one scope (by the connection tap's classification).
public struct ScopedShaping: Sendable, Hashable {
    public var shaping: TrafficShaping
    public var scope: ConnectionScope

    public init(_ shaping: TrafficShaping, scope: ConnectionScope = .all) {
        self.shaping = shaping
        self.scope = scope
    }
}

extension [ScopedShaping] {
    /// What a connection of this classification gets: the rules whose scope includes it,
    /// added up (latencies and jitters add, the lowest bandwidth wins).
    func shaping(isReplication: Bool) -> TrafficShaping {
        var latency = Duration.zero, jitter = Duration.zero
        var bandwidth: Int?
        for rule in self where rule.scope.includes(isReplication: isReplication) {
            latency += rule.shaping.latency
            jitter += rule.shaping.jitter
            if let limit = rule.shaping.bytesPerSecond { bandwidth = Swift.min(bandwidth ?? limit, limit) }
        }
        return TrafficShaping(latency: latency, jitter: jitter, bytesPerSecond: bandwidth)
    }
}

/// The shaping of one direction of one connection.
struct DirectionShaping: Sendable, Hashable {
    var delay: TimeAmount
    var jitter: TimeAmount
    var bytesPerSecond: Int?
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
