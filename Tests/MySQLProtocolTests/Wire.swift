// Hand-assembled MySQL protocol bytes for the tests.

/// Little-endian encoders and packet builders.
enum Wire {
    static func le16(_ value: UInt16) -> [UInt8] { le(UInt64(value), 2) }
    static func le24(_ value: UInt32) -> [UInt8] { le(UInt64(value), 3) }
    static func le32(_ value: UInt32) -> [UInt8] { le(UInt64(value), 4) }
    static func le64(_ value: UInt64) -> [UInt8] { le(value, 8) }

    static func le(_ value: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
    }

    static func nul(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }

    static func lenenc(_ value: UInt64) -> [UInt8] {
        switch value {
        case ..<0xFB: [UInt8(value)]
        case ..<0x1_0000: [0xFC] + le(value, 2)
        case ..<0x100_0000: [0xFD] + le(value, 3)
        default: [0xFE] + le(value, 8)
        }
    }

    static func lenencString(_ text: String) -> [UInt8] {
        lenenc(UInt64(text.utf8.count)) + Array(text.utf8)
    }

    /// Frames a logical payload, splitting it into 0xFFFFFF-byte physical packets
    /// (and a trailing empty packet when it is an exact multiple).
    static func packet(_ sequenceID: UInt8, _ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var sequence = sequenceID
        var start = 0
        while true {
            let count = min(0xFF_FFFF, payload.count - start)
            out += le24(UInt32(count)) + [sequence]
            out += payload[start..<(start + count)]
            start += count
            sequence &+= 1
            if count < 0xFF_FFFF { return out }
        }
    }

    // MARK: Capabilities

    static let connectWithDB: UInt32 = 1 << 3
    static let compress: UInt32 = 1 << 5
    static let protocol41: UInt32 = 1 << 9
    static let ssl: UInt32 = 1 << 11
    static let secureConnection: UInt32 = 1 << 15
    static let pluginAuth: UInt32 = 1 << 19
    static let connectAttributes: UInt32 = 1 << 20
    static let lenencClientData: UInt32 = 1 << 21
    static let deprecateEOF: UInt32 = 1 << 24
    static let queryAttributes: UInt32 = 1 << 27

    static let serverCapabilities: UInt32 =
        protocol41 | secureConnection | pluginAuth | connectWithDB | ssl | compress | connectAttributes
        | lenencClientData | deprecateEOF
    static let clientCapabilities: UInt32 =
        protocol41 | secureConnection | pluginAuth | connectWithDB | connectAttributes | lenencClientData
        | deprecateEOF

    // MARK: Connection phase

    static func greeting(
        version: String = "8.0.36", connectionID: UInt32 = 42, capabilities: UInt32 = serverCapabilities
    ) -> [UInt8] {
        var payload: [UInt8] = [0x0A] + nul(version) + le32(connectionID)
        payload += Array(repeating: 0x41, count: 8) + [0]
        payload += le16(UInt16(truncatingIfNeeded: capabilities))
        payload += [0xFF] + le16(0x0002) + le16(UInt16(truncatingIfNeeded: capabilities >> 16))
        payload += [21] + Array(repeating: 0, count: 10)
        payload += Array(repeating: 0x42, count: 12) + [0]
        payload += nul("caching_sha2_password")
        return packet(0, payload)
    }

    static func handshakeResponse(
        user: String, database: String?, capabilities: UInt32 = clientCapabilities,
        authData: [UInt8] = Array(repeating: 0x5A, count: 32), sequenceID: UInt8 = 1
    ) -> [UInt8] {
        var caps = capabilities
        if database != nil { caps |= connectWithDB } else { caps &= ~connectWithDB }
        var payload = le32(caps) + le32(16_777_216) + [0xFF] + Array(repeating: 0, count: 23)
        payload += nul(user)
        if caps & lenencClientData != 0 {
            payload += lenenc(UInt64(authData.count)) + authData
        } else if caps & secureConnection != 0 {
            payload += [UInt8(authData.count)] + authData
        } else {
            payload += authData + [0]
        }
        if let database { payload += nul(database) }
        if caps & pluginAuth != 0 { payload += nul("caching_sha2_password") }
        if caps & connectAttributes != 0 {
            let attributes = lenencString("_client_name") + lenencString("libmysql")
            payload += lenenc(UInt64(attributes.count)) + attributes
        }
        return packet(sequenceID, payload)
    }

    static func sslRequest(capabilities: UInt32 = clientCapabilities | ssl) -> [UInt8] {
        packet(1, le32(capabilities) + le32(16_777_216) + [0xFF] + Array(repeating: 0, count: 23))
    }

    static func ok(_ sequenceID: UInt8) -> [UInt8] {
        packet(sequenceID, [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00])
    }

    static func err(_ sequenceID: UInt8, code: UInt16, sqlState: String? = "HY000", message: String) -> [UInt8] {
        var payload: [UInt8] = [0xFF] + le16(code)
        if let sqlState { payload += Array(("#" + sqlState).utf8) }
        return packet(sequenceID, payload + Array(message.utf8))
    }

    static func eof(_ sequenceID: UInt8) -> [UInt8] {
        packet(sequenceID, [0xFE, 0x00, 0x00, 0x02, 0x00])
    }

    // MARK: Commands

    static func query(_ text: String, attributesPrefix: [UInt8] = []) -> [UInt8] {
        packet(0, [0x03] + attributesPrefix + Array(text.utf8))
    }

    static func binlogDump(file: String, position: UInt32, serverID: UInt32, flags: UInt16 = 0) -> [UInt8] {
        packet(0, [0x12] + le32(position) + le16(flags) + le32(serverID) + Array(file.utf8))
    }

    static func binlogDumpGTID(
        file: String, position: UInt64, serverID: UInt32, encodedSet: [UInt8], flags: UInt16 = 0x04
    ) -> [UInt8] {
        var payload: [UInt8] = [0x1E] + le16(flags) + le32(serverID)
        payload += le32(UInt32(file.utf8.count)) + Array(file.utf8) + le64(position)
        payload += le32(UInt32(encodedSet.count)) + encodedSet
        return packet(0, payload)
    }

    static func registerSlave(serverID: UInt32) -> [UInt8] {
        var payload: [UInt8] = [0x15] + le32(serverID)
        payload += [4] + Array("repl".utf8) + [4] + Array("user".utf8) + [0]
        payload += le16(3307) + le32(0) + le32(0)
        return packet(0, payload)
    }

    /// Untagged GTID set encoding: (uuid bytes, [(start, endExclusive)]).
    static func encodedGTIDSet(_ sids: [([UInt8], [(UInt64, UInt64)])]) -> [UInt8] {
        var out = le64(UInt64(sids.count))
        for (uuid, intervals) in sids {
            out += uuid + le64(UInt64(intervals.count))
            for (start, end) in intervals { out += le64(start) + le64(end) }
        }
        return out
    }

    static func uuid(_ text: String) -> [UInt8] {
        let hex = Array(text.utf8).filter { $0 != UInt8(ascii: "-") }
        return stride(from: 0, to: hex.count, by: 2).map { index in
            UInt8(hexValue(hex[index]) << 4 | hexValue(hex[index + 1]))
        }
    }

    private static func hexValue(_ digit: UInt8) -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: digit - UInt8(ascii: "A") + 10
        }
    }
}

/// A reference CRC-32 (bitwise, independent of the module's table version).
enum ReferenceCRC32 {
    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// Builds binlog events the way a source writes them, tracking the file position.
struct BinlogWriter {
    var position: UInt32 = 4
    var checksum: Bool
    var serverID: UInt32 = 1
    var timestamp: UInt32 = 1_700_000_000

    init(checksum: Bool) {
        self.checksum = checksum
    }

    /// One event; `logPos` defaults to the end position in the file (and advances it).
    static func event(
        type: UInt8, timestamp: UInt32, serverID: UInt32, logPos: UInt32, flags: UInt16,
        body: [UInt8], checksum: Bool
    ) -> [UInt8] {
        let size = UInt32(19 + body.count + (checksum ? 4 : 0))
        var event = Wire.le32(timestamp) + [type] + Wire.le32(serverID) + Wire.le32(size)
        event += Wire.le32(logPos) + Wire.le16(flags) + body
        if checksum { event += Wire.le32(ReferenceCRC32.checksum(event)) }
        return event
    }

    /// A real event appended to the file.
    mutating func next(type: UInt8, body: [UInt8], flags: UInt16 = 0) -> [UInt8] {
        let size = UInt32(19 + body.count + (checksum ? 4 : 0))
        position += size
        return Self.event(
            type: type, timestamp: timestamp, serverID: serverID, logPos: position, flags: flags,
            body: body, checksum: checksum)
    }

    /// The fake rotate a source sends first: timestamp 0, log_pos 0, artificial flag.
    func fakeRotate(file: String, position: UInt64) -> [UInt8] {
        Self.event(
            type: 4, timestamp: 0, serverID: serverID, logPos: 0, flags: 0x20,
            body: Wire.le64(position) + Array(file.utf8), checksum: checksum)
    }

    mutating func formatDescription() -> [UInt8] {
        var body = Wire.le16(4) + Array("8.0.36".utf8) + Array(repeating: 0, count: 44)
        body += Wire.le32(timestamp) + [19] + Array(repeating: 0x0A, count: 40)
        body += [checksum ? 1 : 0]
        // The FDE always ends with the algorithm byte and a 4-byte checksum field.
        let size = UInt32(19 + body.count + 4)
        position += size
        var event = Wire.le32(timestamp) + [15] + Wire.le32(serverID) + Wire.le32(size)
        event += Wire.le32(position) + Wire.le16(0) + body
        event += checksum ? Wire.le32(ReferenceCRC32.checksum(event)) : [0, 0, 0, 0]
        return event
    }

    mutating func rotate(to file: String) -> [UInt8] {
        next(type: 4, body: Wire.le64(4) + Array(file.utf8))
    }

    mutating func mysqlGTID(uuid: String, gno: UInt64) -> [UInt8] {
        next(type: 33, body: [0x01] + Wire.uuid(uuid) + Wire.le64(gno) + [0x02] + Wire.le64(0) + Wire.le64(1))
    }

    mutating func mariaDBGTID(sequence: UInt64, domain: UInt32) -> [UInt8] {
        next(type: 162, body: Wire.le64(sequence) + Wire.le32(domain) + [0x00])
    }

    mutating func query(_ text: String) -> [UInt8] {
        next(type: 2, body: Wire.le32(7) + Wire.le32(0) + [4] + Wire.le16(0) + Wire.le16(0) + Array("shop".utf8) + [0] + Array(text.utf8))
    }

    mutating func writeRows(bodySize: Int) -> [UInt8] {
        next(type: 30, body: Array(repeating: 0xAB, count: bodySize))
    }

    mutating func tableMap(id: UInt64, schema: String, table: String) -> [UInt8] {
        var body = Wire.le(id, 6) + Wire.le16(1)
        body += [UInt8(schema.utf8.count)] + Array(schema.utf8) + [0]
        body += [UInt8(table.utf8.count)] + Array(table.utf8) + [0]
        body += [2, 0x03, 0x0F] + Wire.lenenc(2) + [0x64, 0x00] + [0x02]  // columns, types, metadata, nullability
        return next(type: 19, body: body)
    }

    mutating func rows(type: UInt8, tableID: UInt64, bodySize: Int = 40) -> [UInt8] {
        next(type: type, body: Wire.le(tableID, 6) + Wire.le16(1) + Array(repeating: 0xAB, count: bodySize))
    }

    mutating func xid(_ xid: UInt64) -> [UInt8] {
        next(type: 16, body: Wire.le64(xid))
    }

    /// A heartbeat carries the current position but is not part of the file.
    func heartbeat(file: String) -> [UInt8] {
        Self.event(
            type: 27, timestamp: 0, serverID: serverID, logPos: position, flags: 0,
            body: Array(file.utf8), checksum: checksum)
    }

    /// Binlog stream packet: 0x00 + event (with semi-sync, 0x00 0xEF flag + event).
    static func packet(_ sequenceID: UInt8, _ event: [UInt8], semiSync: UInt8? = nil) -> [UInt8] {
        if let semiSync {
            return Wire.packet(sequenceID, [0x00, 0xEF, semiSync] + event)
        }
        return Wire.packet(sequenceID, [0x00] + event)
    }
}
