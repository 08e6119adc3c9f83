/// Something the observer learned from the bytes of one MySQL connection.
///
/// Observations are returned by ``MySQLConnectionObserver`` in the order the
/// corresponding packets completed on the wire, per direction.
public enum ProtocolObservation: Sendable, Hashable, Codable {
    /// The server's initial Handshake V10 packet.
    case serverGreeting(version: String, connectionID: UInt32)
    /// The client's HandshakeResponse (or a later COM_CHANGE_USER).
    case handshake(user: String, database: String?)
    /// The server accepted the credentials (OK packet ending the authentication phase).
    case authSucceeded
    /// The server rejected the credentials (ERR packet ending the authentication phase).
    case authFailed(code: UInt16, message: String)
    /// The observer stopped parsing this connection: `"tls"`, `"compressed"` or
    /// `"malformed: <detail>"`. Nothing else is reported for the connection afterwards.
    case unobservable(reason: String)
    /// COM_QUERY text, truncated to at most 1 KiB of UTF-8 (never mid-character).
    case query(String)
    /// The server's first answer to a COM_QUERY: an OK or a result set (`ok`), or an error (which
    /// `serverError` reports too).
    case queryAnswered(ok: Bool)
    /// MariaDB replica announcing its GTID start position:
    /// `SET @slave_connect_state='0-1-42'`.
    case slaveConnectState(String)
    /// COM_BINLOG_DUMP (0x12): stream from a file and position.
    case binlogDump(file: String, position: UInt64, serverID: UInt32)
    /// COM_BINLOG_DUMP_GTID (0x1e, MySQL): stream everything not in `gtidSet`
    /// (text form `uuid:1-5:7,uuid2:1-3`; a set too large to buffer ends with `...`).
    case binlogDumpGTID(file: String, position: UInt64, serverID: UInt32, gtidSet: String)
    /// COM_REGISTER_SLAVE (0x15).
    case registerSlave(serverID: UInt32)
    /// One event of a binlog dump stream, reported once the whole event has passed.
    case binlogEvent(BinlogEventSummary)
    /// An ERR packet from the server outside the authentication phase: before the
    /// greeting (e.g. 1040 too many connections), in the command phase, or in the
    /// binlog stream (e.g. 1236).
    case serverError(code: UInt16, message: String)
}
