/// First byte of a command-phase packet from the client.
enum CommandCode {
    static let quit: UInt8 = 0x01
    static let query: UInt8 = 0x03
    static let changeUser: UInt8 = 0x11
    static let binlogDump: UInt8 = 0x12
    static let registerSlave: UInt8 = 0x15
    static let binlogDumpGTID: UInt8 = 0x1E
}

/// COM_BINLOG_DUMP (0x12): position u32, flags u16, server id u32, file name (rest).
struct BinlogDumpRequest: Sendable, Equatable {
    var file: String
    var position: UInt64
    var flags: UInt16
    var serverID: UInt32

    static func parse(_ payload: [UInt8]) throws(MalformedPacket) -> BinlogDumpRequest {
        var reader = ByteReader(payload, from: 1)
        guard let position = reader.readUInt32(),
            let flags = reader.readUInt16(),
            let serverID = reader.readUInt32()
        else {
            throw MalformedPacket("truncated COM_BINLOG_DUMP")
        }
        let file = reader.readRest().droppingTrailingNULs
        return BinlogDumpRequest(
            file: String(lenientUTF8: file), position: UInt64(position), flags: flags, serverID: serverID)
    }
}

/// COM_BINLOG_DUMP_GTID (0x1e, MySQL): flags u16, server id u32, name length u32,
/// name, position u64, then GTID set data length u32 and the encoded set.
///
/// The docs make the data conditional on BINLOG_THROUGH_GTID (flag 0x04), but the
/// server always reads it; it is decoded whenever present.
struct BinlogDumpGTIDRequest: Sendable, Equatable {
    var file: String
    var position: UInt64
    var flags: UInt16
    var serverID: UInt32
    var gtidSet: String

    /// `captureWasTruncated`: the packet was longer than the captured bytes.
    static func parse(
        _ payload: [UInt8], captureWasTruncated: Bool
    ) throws(MalformedPacket) -> BinlogDumpGTIDRequest {
        var reader = ByteReader(payload, from: 1)
        guard let flags = reader.readUInt16(),
            let serverID = reader.readUInt32(),
            let nameLength = reader.readUInt32(),
            let name = reader.readBytes(Int(nameLength)),
            let position = reader.readUInt64()
        else {
            throw MalformedPacket("truncated COM_BINLOG_DUMP_GTID")
        }
        var gtidSet = ""
        if !reader.isAtEnd {
            guard let dataSize = reader.readUInt32() else {
                throw MalformedPacket("truncated COM_BINLOG_DUMP_GTID")
            }
            let available = reader.readRest()
            let encoded = available.prefix(Int(min(UInt64(dataSize), UInt64(available.count))))
            let mayBeTruncated = captureWasTruncated && UInt64(dataSize) > UInt64(available.count)
            if UInt64(dataSize) > UInt64(available.count), !mayBeTruncated {
                throw MalformedPacket("COM_BINLOG_DUMP_GTID GTID set longer than the packet")
            }
            guard let decoded = GTIDSetText.decode(encoded, mayBeTruncated: mayBeTruncated) else {
                throw MalformedPacket("invalid GTID set in COM_BINLOG_DUMP_GTID")
            }
            gtidSet = decoded.isComplete ? decoded.text : decoded.text + "..."
        }
        return BinlogDumpGTIDRequest(
            file: String(lenientUTF8: name.droppingTrailingNULs), position: position, flags: flags,
            serverID: serverID, gtidSet: gtidSet)
    }
}

/// COM_REGISTER_SLAVE (0x15): server id u32, then host, user, password, port, …
struct RegisterSlaveRequest: Sendable, Equatable {
    var serverID: UInt32

    static func parse(_ payload: [UInt8]) throws(MalformedPacket) -> RegisterSlaveRequest {
        var reader = ByteReader(payload, from: 1)
        guard let serverID = reader.readUInt32() else {
            throw MalformedPacket("truncated COM_REGISTER_SLAVE")
        }
        return RegisterSlaveRequest(serverID: serverID)
    }
}

/// COM_CHANGE_USER (0x11): user NUL-terminated, auth response, schema, …
struct ChangeUserRequest: Sendable, Equatable {
    var user: String
    var database: String?

    static func parse(
        _ payload: [UInt8], clientCapabilities: CapabilityFlags
    ) throws(MalformedPacket) -> ChangeUserRequest {
        var reader = ByteReader(payload, from: 1)
        guard let user = reader.readNulTerminated() else {
            throw MalformedPacket("truncated COM_CHANGE_USER")
        }
        var database: String?
        // COM_CHANGE_USER uses a 1-byte length with CLIENT_SECURE_CONNECTION, never lenenc.
        let authEncoding = clientCapabilities.intersection(.secureConnection)
        if HandshakeResponse.skipAuthResponse(&reader, capabilities: authEncoding) {
            database = HandshakeResponse.readDatabase(&reader)
        }
        return ChangeUserRequest(user: String(lenientUTF8: user), database: database)
    }
}
