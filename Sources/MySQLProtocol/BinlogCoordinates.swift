/// A position in the source's binary log.
public struct BinlogCoordinates: Sendable, Hashable, Codable {
    /// Binlog file name, e.g. `mysql-bin.000003` (empty if the server never named it).
    public var file: String
    /// Byte offset in `file`: the end position (`log_pos`) of the last event sent.
    public var position: UInt64
    /// The last GTID the server sent on this connection (`uuid:gno` for MySQL,
    /// `domain-server-seq` for MariaDB), if any.
    public var gtid: String?

    public init(file: String, position: UInt64, gtid: String? = nil) {
        self.file = file
        self.position = position
        self.gtid = gtid
    }
}

/// The target of a ROTATE_EVENT: the stream continues in `file` at `position`.
public struct BinlogRotation: Sendable, Hashable, Codable {
    public var file: String
    public var position: UInt64

    public init(file: String, position: UInt64) {
        self.file = file
        self.position = position
    }
}
