/// Binlog event type codes (MySQL and MariaDB).
enum BinlogEventType {
    static let rotate: UInt8 = 4
    static let formatDescription: UInt8 = 15
    static let heartbeat: UInt8 = 27
    static let gtid: UInt8 = 33
    static let anonymousGTID: UInt8 = 34
    static let heartbeatV2: UInt8 = 41
    static let taggedGTID: UInt8 = 42
    static let mariaDBGTID: UInt8 = 162
    static let mariaDBGTIDList: UInt8 = 163
    static let tableMap: UInt8 = 19
    static let query: UInt8 = 2
    static let xid: UInt8 = 16
    static let xaPrepare: UInt8 = 38
    /// MariaDB GTID_EVENT flags2: the transaction is one statement, without BEGIN/COMMIT.
    static let mariaDBStandaloneFlag: UInt8 = 0x01
    /// QUERY_EVENT post-header: thread id, exec time, schema length, error code, status vars length.
    static let queryPostHeaderLength = 13
    /// The query text prefix read to tell BEGIN, COMMIT and ROLLBACK from other statements.
    static let queryTextPrefix = 16

    /// Row events: WRITE/UPDATE/DELETE_ROWS v0 (20–22), v1 (23–25), v2 (30–32), MySQL's
    /// PARTIAL_UPDATE_ROWS (39) and MariaDB's compressed row events (166–171).
    static func isRows(_ type: UInt8) -> Bool {
        switch type {
        case 20...25, 30...32, 39, 166...171: true
        default: false
        }
    }

    /// The table id that opens a table map's and a row event's post-header (6 bytes since
    /// MySQL 5.1.4 and in every MariaDB).
    static let tableIDLength = 6

    private static let mysqlNames = [
        "UNKNOWN_EVENT", "START_EVENT_V3", "QUERY_EVENT", "STOP_EVENT", "ROTATE_EVENT",
        "INTVAR_EVENT", "LOAD_EVENT", "SLAVE_EVENT", "CREATE_FILE_EVENT", "APPEND_BLOCK_EVENT",
        "EXEC_LOAD_EVENT", "DELETE_FILE_EVENT", "NEW_LOAD_EVENT", "RAND_EVENT", "USER_VAR_EVENT",
        "FORMAT_DESCRIPTION_EVENT", "XID_EVENT", "BEGIN_LOAD_QUERY_EVENT", "EXECUTE_LOAD_QUERY_EVENT",
        "TABLE_MAP_EVENT", "WRITE_ROWS_EVENT_V0", "UPDATE_ROWS_EVENT_V0", "DELETE_ROWS_EVENT_V0",
        "WRITE_ROWS_EVENT_V1", "UPDATE_ROWS_EVENT_V1", "DELETE_ROWS_EVENT_V1", "INCIDENT_EVENT",
        "HEARTBEAT_LOG_EVENT", "IGNORABLE_LOG_EVENT", "ROWS_QUERY_LOG_EVENT", "WRITE_ROWS_EVENT",
        "UPDATE_ROWS_EVENT", "DELETE_ROWS_EVENT", "GTID_LOG_EVENT", "ANONYMOUS_GTID_LOG_EVENT",
        "PREVIOUS_GTIDS_LOG_EVENT", "TRANSACTION_CONTEXT_EVENT", "VIEW_CHANGE_EVENT",
        "XA_PREPARE_LOG_EVENT", "PARTIAL_UPDATE_ROWS_EVENT", "TRANSACTION_PAYLOAD_EVENT",
        "HEARTBEAT_LOG_EVENT_V2", "GTID_TAGGED_LOG_EVENT",
    ]

    private static let mariaDBNames = [
        "ANNOTATE_ROWS_EVENT", "BINLOG_CHECKPOINT_EVENT", "GTID_EVENT", "GTID_LIST_EVENT",
        "START_ENCRYPTION_EVENT", "QUERY_COMPRESSED_EVENT", "WRITE_ROWS_COMPRESSED_EVENT_V1",
        "UPDATE_ROWS_COMPRESSED_EVENT_V1", "DELETE_ROWS_COMPRESSED_EVENT_V1",
        "WRITE_ROWS_COMPRESSED_EVENT", "UPDATE_ROWS_COMPRESSED_EVENT", "DELETE_ROWS_COMPRESSED_EVENT",
    ]

    static func name(of type: UInt8) -> String {
        let index = Int(type)
        if index < mysqlNames.count {
            return mysqlNames[index]
        }
        if index >= 160, index - 160 < mariaDBNames.count {
            return mariaDBNames[index - 160]
        }
        return "EVENT_\(type)"
    }
}

/// The common 19-byte header of a binlog event (v4).
struct BinlogEventHeader: Sendable, Equatable {
    static let length = 19
    /// LOG_EVENT_ARTIFICIAL_F
    static let artificialFlag: UInt16 = 0x20

    var timestamp: UInt32
    var type: UInt8
    var serverID: UInt32
    var eventSize: UInt32
    var logPos: UInt32
    var flags: UInt16

    init?(_ bytes: [UInt8], at offset: Int) {
        var reader = ByteReader(bytes, from: offset)
        guard reader.remaining >= Self.length,
            let timestamp = reader.readUInt32(),
            let type = reader.readByte(),
            let serverID = reader.readUInt32(),
            let eventSize = reader.readUInt32(),
            let logPos = reader.readUInt32(),
            let flags = reader.readUInt16()
        else { return nil }
        self.timestamp = timestamp
        self.type = type
        self.serverID = serverID
        self.eventSize = eventSize
        self.logPos = logPos
        self.flags = flags
    }
}

/// The state of one binlog dump stream: which file the server is in, whether events
/// carry a CRC32 trailer, and the position of the last real event sent.
///
/// Each packet of the stream is `0x00` + event (or, with semi-sync replication,
/// `0x00 0xEF <flag>` + event); ERR and EOF packets are handled by the observer.
struct BinlogStream: Sendable {
    /// Whether packets carry the 2-byte semi-sync header (magic 0xEF, flag).
    enum SemiSyncFraming: Sendable {
        case absent
        case present
        /// The replica asked for semi-sync; the first event tells whether the source agreed.
        case unknown
    }

    static let semiSyncMagic: UInt8 = 0xEF
    private static let checksumLengthCRC32 = 4

    private(set) var currentFile: String?
    /// nil until a FORMAT_DESCRIPTION_EVENT says (0 or 4 bytes).
    private(set) var checksumLength: Int?
    /// The GTID of the last transaction whose end was sent.
    private(set) var lastGTID: String?
    private(set) var lastForwarded: BinlogCoordinates?
    /// The transaction being sent, from its GTID event to its end.
    private var transaction: (open: OpenTransaction, boundary: TransactionBoundary)?
    private var semiSync: SemiSyncFraming = .absent

    /// A new dump request starts a stream (from `file`, empty for "server decides").
    mutating func begin(file: String, semiSyncRequested: Bool) {
        currentFile = file.isEmpty ? nil : file
        checksumLength = nil
        semiSync = semiSyncRequested ? .unknown : .absent
    }

    /// Offsets of the event inside the packet that are still possible.
    private var candidateOffsets: [Int] {
        switch semiSync {
        case .absent: [1]
        case .present: [3]
        case .unknown: [1, 3]
        }
    }

    /// How many leading bytes of an event packet to capture before the whole event is
    /// known: enough for the header plus the body fields that are decoded.
    func captureTarget(for captured: [UInt8]) -> (target: Int, isFinal: Bool) {
        if captured.count < 1 + BinlogEventHeader.length {
            return (semiSync == .absent ? 1 + BinlogEventHeader.length : 3 + BinlogEventHeader.length, false)
        }
        var target = captured.count
        for offset in candidateOffsets {
            guard let header = BinlogEventHeader(captured, at: offset) else { continue }
            target = max(target, offset + Self.bytesToDecode(header))
        }
        return (target, true)
    }

    private static func bytesToDecode(_ header: BinlogEventHeader) -> Int {
        switch header.type {
        case BinlogEventType.rotate, BinlogEventType.formatDescription:
            Int(header.eventSize)
        case BinlogEventType.gtid, BinlogEventType.anonymousGTID:
            BinlogEventHeader.length + 1 + 16 + 8  // flags, sid, gno
        case BinlogEventType.mariaDBGTID:
            BinlogEventHeader.length + 8 + 4 + 1  // seq_no, domain_id, flags2
        case BinlogEventType.query:
            // status vars (at most 255 bytes in practice) and a schema name of at most 255, then the text's start
            min(Int(header.eventSize),
                BinlogEventHeader.length + BinlogEventType.queryPostHeaderLength + 2 * 256 + BinlogEventType.queryTextPrefix)
        case BinlogEventType.tableMap:
            // table id, flags, then two names of at most 255 bytes, each with length and NUL
            min(Int(header.eventSize), BinlogEventHeader.length + BinlogEventType.tableIDLength + 2 + 2 * (1 + 255 + 1))
        case let type where BinlogEventType.isRows(type):
            BinlogEventHeader.length + BinlogEventType.tableIDLength
        default:
            BinlogEventHeader.length
        }
    }

    /// Decodes a complete event packet (`captured` is its prefix, `length` its size)
    /// and advances the stream position.
    mutating func consume(_ captured: [UInt8], length: Int) throws(MalformedPacket) -> BinlogEventSummary {
        let offset = try eventOffset(captured, length: length)
        guard let header = BinlogEventHeader(captured, at: offset) else {
            throw MalformedPacket("truncated binlog event header")
        }
        guard Int(header.eventSize) == length - offset else {
            throw MalformedPacket("binlog event size \(header.eventSize) does not match its packet (\(length - offset) bytes)")
        }
        let isHeartbeat = header.type == BinlogEventType.heartbeat || header.type == BinlogEventType.heartbeatV2
        var summary = BinlogEventSummary(
            type: header.type, timestamp: header.timestamp, serverID: header.serverID,
            eventSize: header.eventSize, logPos: header.logPos, flags: header.flags,
            isHeartbeat: isHeartbeat,
            isArtificial: header.flags & BinlogEventHeader.artificialFlag != 0 || header.logPos == 0
                || (header.type == BinlogEventType.rotate && header.timestamp == 0)
        )
        let event = ByteReader(captured, from: offset, to: offset + Int(header.eventSize))

        switch header.type {
        case BinlogEventType.rotate:
            summary.rotate = try decodeRotate(event, header: header, captured: captured, offset: offset)
        case BinlogEventType.formatDescription:
            checksumLength = try decodeChecksumLength(event, header: header)
        case BinlogEventType.gtid:
            summary.gtid = try decodeMySQLGTID(event)
        case BinlogEventType.mariaDBGTID:
            (summary.gtid, summary.isStandalone) = try decodeMariaDBGTID(event, serverID: header.serverID)
        case BinlogEventType.query:
            summary.queryStatement = decodeQueryStatement(event, header: header)
        case BinlogEventType.tableMap:
            summary.tableMap = try decodeTableMap(event)
        case let type where BinlogEventType.isRows(type):
            var reader = event
            guard reader.skip(BinlogEventHeader.length),
                let tableID = reader.readInteger(width: BinlogEventType.tableIDLength)
            else {
                throw MalformedPacket("truncated row event")
            }
            summary.rowsTableID = tableID
        default:
            break
        }

        advance(with: summary)
        return summary
    }

    private mutating func eventOffset(_ captured: [UInt8], length: Int) throws(MalformedPacket) -> Int {
        switch semiSync {
        case .absent:
            return 1
        case .present:
            guard captured.count > 1, captured[1] == Self.semiSyncMagic else {
                throw MalformedPacket("binlog packet without semi-sync header")
            }
            return 3
        case .unknown:
            if captured.count > 1, captured[1] == Self.semiSyncMagic,
                let header = BinlogEventHeader(captured, at: 3), Int(header.eventSize) == length - 3
            {
                semiSync = .present
                return 3
            }
            semiSync = .absent
            return 1
        }
    }

    private mutating func advance(with summary: BinlogEventSummary) {
        if let rotation = summary.rotate {
            currentFile = rotation.file
            lastForwarded = BinlogCoordinates(file: rotation.file, position: rotation.position, gtid: lastGTID,
                                              openTransaction: transaction?.open)
            return
        }
        guard !summary.isHeartbeat else { return }
        if !summary.isArtificial { followTransaction(summary) }
        guard !summary.isArtificial else { return }
        lastForwarded = BinlogCoordinates(file: currentFile ?? "", position: UInt64(summary.logPos), gtid: lastGTID,
                                          openTransaction: transaction?.open)
    }

    /// Where a transaction ends: a MySQL GTID event is followed by BEGIN or by the one statement
    /// it holds; a MariaDB one says whether it is standalone.
    enum TransactionBoundary: Sendable {
        /// A BEGIN opens it, any other statement is it (and ends it).
        case beginOrStatement
        /// The next statement ends it.
        case statement
        /// XID, COMMIT, ROLLBACK or XA PREPARE ends it.
        case commit
    }

    /// Opens a transaction at a GTID event and ends it at its last event; an event outside
    /// a transaction (no GTID: anonymous, or before any) leaves `lastGTID` as it is.
    private mutating func followTransaction(_ summary: BinlogEventSummary) {
        switch summary.type {
        case BinlogEventType.gtid, BinlogEventType.mariaDBGTID:
            guard let gtid = summary.gtid else { transaction = nil; return }
            let start = UInt64(summary.logPos) &- UInt64(summary.eventSize)
            let boundary: TransactionBoundary = summary.type == BinlogEventType.gtid ? .beginOrStatement
                : (summary.isStandalone ? .statement : .commit)
            transaction = (OpenTransaction(gtid: gtid, file: currentFile ?? "", start: start), boundary)
        case BinlogEventType.anonymousGTID, BinlogEventType.taggedGTID:
            transaction = nil
            lastGTID = summary.type == BinlogEventType.anonymousGTID ? nil : lastGTID
        case let type where BinlogEventType.isRows(type):
            transaction?.open.rowEvents += 1
        case BinlogEventType.xid, BinlogEventType.xaPrepare:
            endTransaction()
        case BinlogEventType.query:
            guard let boundary = transaction?.boundary else { return }
            let statement = summary.queryStatement ?? .other
            switch (boundary, statement) {
            case (.beginOrStatement, .begin): transaction?.boundary = .commit
            case (.beginOrStatement, _), (.statement, _), (.commit, .commit): endTransaction()
            case (.commit, _): break
            }
        default:
            break
        }
    }

    private mutating func endTransaction() {
        guard let open = transaction?.open else { return }
        lastGTID = open.gtid
        transaction = nil
    }

    /// ROTATE_EVENT body: position u64, then the file name up to the checksum trailer.
    private func decodeRotate(
        _ event: ByteReader, header: BinlogEventHeader, captured: [UInt8], offset: Int
    ) throws(MalformedPacket) -> BinlogRotation {
        let size = Int(header.eventSize)
        guard event.remaining == size else {
            throw MalformedPacket("rotate event too large (\(size) bytes)")
        }
        let trailer = checksumLength ?? Self.detectChecksum(captured[offset..<(offset + size)])
        var reader = event
        guard reader.skip(BinlogEventHeader.length),
            let position = reader.readUInt64(),
            let name = reader.readBytes(size - BinlogEventHeader.length - 8 - trailer)
        else {
            throw MalformedPacket("truncated rotate event")
        }
        return BinlogRotation(file: String(lenientUTF8: name), position: position)
    }

    /// Before the first FORMAT_DESCRIPTION_EVENT (e.g. the fake rotate that opens a
    /// dump) the checksum setting is unknown: a trailer is present iff it verifies.
    private static func detectChecksum(_ event: ArraySlice<UInt8>) -> Int {
        guard event.count >= BinlogEventHeader.length + 8 + checksumLengthCRC32 else { return 0 }
        let bodyEnd = event.endIndex - checksumLengthCRC32
        var reader = ByteReader(Array(event[bodyEnd...]))
        guard let stored = reader.readUInt32() else { return 0 }
        return CRC32.checksum(event[event.startIndex..<bodyEnd]) == stored ? checksumLengthCRC32 : 0
    }

    /// FORMAT_DESCRIPTION_EVENT: the checksum algorithm byte sits 5 bytes before the
    /// end (algorithm + 4-byte checksum); 1 = CRC32, anything else = none.
    private func decodeChecksumLength(_ event: ByteReader, header: BinlogEventHeader) throws(MalformedPacket) -> Int {
        let size = Int(header.eventSize)
        var reader = event
        guard size >= BinlogEventHeader.length + 5, reader.remaining == size,
            reader.skip(size - 5), let algorithm = reader.readByte()
        else {
            throw MalformedPacket("truncated format description event")
        }
        return algorithm == 1 ? Self.checksumLengthCRC32 : 0
    }

    /// MySQL GTID_LOG_EVENT: flags u8, sid (16 bytes), gno u64 → `uuid:gno`.
    private func decodeMySQLGTID(_ event: ByteReader) throws(MalformedPacket) -> String {
        var reader = event
        guard reader.skip(BinlogEventHeader.length + 1),
            let sid = reader.readBytes(16),
            let gno = reader.readUInt64()
        else {
            throw MalformedPacket("truncated GTID event")
        }
        return "\(GTIDSetText.formatUUID(sid)):\(gno)"
    }

    /// TABLE_MAP_EVENT: table id (6 bytes), flags u16, then the schema and table names, each
    /// a length byte, the name and a NUL.
    private func decodeTableMap(_ event: ByteReader) throws(MalformedPacket) -> BinlogTableMap {
        var reader = event
        guard reader.skip(BinlogEventHeader.length),
            let tableID = reader.readInteger(width: BinlogEventType.tableIDLength),
            reader.skip(2),
            let schemaLength = reader.readByte(),
            let schema = reader.readBytes(Int(schemaLength)),
            reader.skip(1),
            let tableLength = reader.readByte(),
            let table = reader.readBytes(Int(tableLength))
        else {
            throw MalformedPacket("truncated table map event")
        }
        return BinlogTableMap(tableID: tableID, schema: String(lenientUTF8: schema), table: String(lenientUTF8: table))
    }

    /// MariaDB GTID_EVENT: seq_no u64, domain_id u32, flags2 u8 → `domain-server-seq`, and
    /// whether the transaction is one statement.
    private func decodeMariaDBGTID(_ event: ByteReader, serverID: UInt32) throws(MalformedPacket) -> (String, Bool) {
        var reader = event
        guard reader.skip(BinlogEventHeader.length),
            let sequence = reader.readUInt64(),
            let domain = reader.readUInt32()
        else {
            throw MalformedPacket("truncated MariaDB GTID event")
        }
        let standalone = (reader.readByte() ?? 0) & BinlogEventType.mariaDBStandaloneFlag != 0
        return ("\(domain)-\(serverID)-\(sequence)", standalone)
    }

    /// QUERY_EVENT: after the post-header, the status vars and the schema name (with its NUL),
    /// the statement. Nil when its start was not captured.
    private func decodeQueryStatement(_ event: ByteReader, header: BinlogEventHeader) -> QueryStatement? {
        var reader = event
        guard reader.skip(BinlogEventHeader.length + 8),
            let schemaLength = reader.readByte(),
            reader.skip(2),
            let statusLength = reader.readUInt16()
        else { return nil }
        let textOffset = BinlogEventHeader.length + BinlogEventType.queryPostHeaderLength + Int(statusLength) + Int(schemaLength) + 1
        let textLength = Int(header.eventSize) - textOffset - (checksumLength ?? 0)
        guard textLength >= 0, reader.skip(Int(statusLength) + Int(schemaLength) + 1),
            let text = reader.readBytes(min(textLength, BinlogEventType.queryTextPrefix, reader.remaining))
        else { return nil }
        return QueryStatement(prefix: text)
    }
}
