/// How one replication position stands against another.
public enum PositionOrder: String, Codable, Sendable {
    /// The same position.
    case same
    /// Earlier: it lacks transactions the other one has.
    case behind
    /// Later: it has transactions the other one lacks.
    case ahead
    /// Each has transactions the other lacks (GTID sets only).
    case diverged
    /// The two cannot be compared (different binlog base names, GTID flavors…).
    case incomparable
}
