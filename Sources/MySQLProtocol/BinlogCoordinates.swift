/// A position in the source's binary log.
public struct BinlogCoordinates: Sendable, Hashable, Codable {
    /// Binlog file name, e.g. `mysql-bin.000003` (empty if the server never named it).
    public var file: String
    /// Byte offset in `file`: the end position (`log_pos`) of the last event sent.
    public var position: UInt64
    /// The GTID of the last transaction whose end (XID, COMMIT, or its one statement) the server
    /// sent on this connection (`uuid:gno` for MySQL, `domain-server-seq` for MariaDB), if any.
    public var gtid: String?
    /// Set while the position is inside a transaction: its GTID event was sent, its end not yet.
    public var openTransaction: OpenTransaction?

    public init(file: String, position: UInt64, gtid: String? = nil, openTransaction: OpenTransaction? = nil) {
        self.file = file
        self.position = position
        self.gtid = gtid
        self.openTransaction = openTransaction
    }
}

/// A transaction the stream is inside: a client standing here has received only part of it.
public struct OpenTransaction: Sendable, Hashable, Codable {
    /// Its GTID (`uuid:gno` or `domain-server-seq`).
    public var gtid: String
    /// Where its GTID event starts: `file` and `position` of its first byte.
    public var file: String
    public var start: UInt64
    /// Its row events sent so far, up to this position.
    public var rowEvents: Int

    public init(gtid: String, file: String, start: UInt64, rowEvents: Int = 0) {
        self.gtid = gtid
        self.file = file
        self.start = start
        self.rowEvents = rowEvents
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
