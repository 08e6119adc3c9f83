/// The parts of one binlog event the observer decodes. Payloads are never copied.
public struct BinlogEventSummary: Sendable, Hashable, Codable {
    /// Event type code (e.g. 4 rotate, 15 format description, 33 GTID, 162 MariaDB GTID).
    public var type: UInt8
    /// Seconds since the epoch when the event was written (0 for most artificial events).
    public var timestamp: UInt32
    /// Server id of the server that originated the event.
    public var serverID: UInt32
    /// Size of the whole event including header and checksum.
    public var eventSize: UInt32
    /// End position of the event in its binlog file (0 for artificial events).
    public var logPos: UInt32
    /// Header flags (0x20 = LOG_EVENT_ARTIFICIAL_F).
    public var flags: UInt16
    /// HEARTBEAT_LOG_EVENT (27) or HEARTBEAT_LOG_EVENT_V2 (41).
    public var isHeartbeat: Bool
    /// Not a real event of the binlog file: artificial flag, `log_pos` 0, or a
    /// rotate with timestamp 0 (the fake rotate at the start of a dump).
    public var isArtificial: Bool
    /// For ROTATE_EVENT: where the stream continues.
    public var rotate: BinlogRotation?
    /// For GTID events: `uuid:gno` (MySQL GTID_LOG_EVENT) or `domain-server-seq`
    /// (MariaDB GTID_EVENT). `nil` for anonymous and tagged GTID events.
    public var gtid: String?
    /// For TABLE_MAP_EVENT: the table id and the table it names.
    public var tableMap: BinlogTableMap?
    /// For row events (write, update, delete, in every version): the table id of the table map
    /// the rows belong to.
    public var rowsTableID: UInt64?
    /// For a MariaDB GTID event: its transaction is one statement, without BEGIN and COMMIT.
    public var isStandalone = false
    /// For QUERY_EVENT: what its statement does to the transaction around it.
    public var queryStatement: QueryStatement?

    public init(
        type: UInt8, timestamp: UInt32, serverID: UInt32, eventSize: UInt32, logPos: UInt32,
        flags: UInt16, isHeartbeat: Bool, isArtificial: Bool,
        rotate: BinlogRotation? = nil, gtid: String? = nil,
        tableMap: BinlogTableMap? = nil, rowsTableID: UInt64? = nil
    ) {
        self.type = type
        self.timestamp = timestamp
        self.serverID = serverID
        self.eventSize = eventSize
        self.logPos = logPos
        self.flags = flags
        self.isHeartbeat = isHeartbeat
        self.isArtificial = isArtificial
        self.rotate = rotate
        self.gtid = gtid
        self.tableMap = tableMap
        self.rowsTableID = rowsTableID
    }

    /// A row event: rows written, updated or deleted (what a CDC reader applies).
    public var isRowEvent: Bool { BinlogEventType.isRows(type) }

    /// A readable name for `type`, e.g. `"ROTATE_EVENT"`, or `"EVENT_<n>"` if unknown.
    public var typeName: String {
        BinlogEventType.name(of: type)
    }
}

/// A binlog QUERY_EVENT's statement, as far as transactions go.
public enum QueryStatement: String, Sendable, Hashable, Codable {
    case begin
    /// COMMIT or ROLLBACK (including `XA COMMIT`/`XA ROLLBACK` … of a prepared XA transaction are
    /// statements of their own).
    case commit
    case other

    /// From the start of the statement's text: its first words, in any case. `XA START` opens
    /// a transaction that `XA PREPARE` ends.
    init(prefix text: ArraySlice<UInt8>) {
        let words = String(decoding: text, as: UTF8.self).uppercased()
            .split { !($0.isASCII && $0.isLetter) }.prefix(2)
        switch (words.first, words.dropFirst().first) {
        case ("BEGIN", _), ("XA", "START"), ("XA", "BEGIN"): self = .begin
        case ("COMMIT", _), ("ROLLBACK", _): self = .commit
        default: self = .other
        }
    }
}

/// What a TABLE_MAP_EVENT says: row events with this table id change `schema.table`.
public struct BinlogTableMap: Sendable, Hashable, Codable {
    public var tableID: UInt64
    public var schema: String
    public var table: String

    public init(tableID: UInt64, schema: String, table: String) {
        self.tableID = tableID
        self.schema = schema
        self.table = table
    }

    /// `schema.table`.
    public var qualifiedName: String { "\(schema).\(table)" }
}
