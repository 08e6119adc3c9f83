/// What a fault does to the ETL client's traffic. See DESIGN.md, "Fault semantics".
public enum FaultType: String, Codable, Sendable, CaseIterable {
    /// New connections refused at once; established ones reset (RST).
    case reject
    /// Nothing answers and no byte moves; sockets stay open.
    case timeout
    /// The managed server is stopped (or killed with `crash`).
    case service
    /// Established connections are reset once; new connections keep being accepted.
    case reset
    /// Every chunk from the source is delayed by `latencyMs` (plus up to `jitterMs`) on its way to the client, order kept.
    case latency
    /// Throughput is capped at `bytesPerSecond`.
    case bandwidth

    /// Connection faults decide whether a connection can exist at all. Only one is active at
    /// a time: a new one replaces the old.
    public var isConnectionFault: Bool {
        switch self {
        case .reject, .timeout, .service, .reset: true
        case .latency, .bandwidth: false
        }
    }

    /// Shaping faults slow traffic down. They stack with a connection fault; one of each
    /// type at a time.
    public var isShaping: Bool { !isConnectionFault }

    /// Types that can be limited to replication or query connections (`--scope`). A stopped
    /// server cannot pick which connections it drops.
    public static let scopable: [FaultType] = [.reject, .timeout, .reset, .latency, .bandwidth]

    /// Types that can be toggled on and off with `--flap`. A reset has no duration.
    public static let flappable: [FaultType] = [.reject, .timeout, .service, .latency, .bandwidth]
}

/// Which client connections a fault applies to. The gateway's observer knows which
/// connections issued a binlog dump (`replication`); all others are `queries`.
public enum FaultScope: String, Codable, Sendable, CaseIterable {
    case all
    case replication
    case queries
}

/// How a network fault is put in place.
public enum BackendKind: String, Codable, Sendable, CaseIterable {
    /// The agent's own TCP proxy; no root needed.
    case gateway
    /// Rules in a chain the toolkit owns (needs NET_ADMIN).
    case iptables
}
