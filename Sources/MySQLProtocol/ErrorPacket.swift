/// An ERR packet: 0xFF, error code, optional `#` + SQLSTATE, message.
struct ErrorPacket: Sendable, Equatable {
    var code: UInt16
    var message: String

    /// MariaDB progress reports reuse the 0xFF header with code 0xFFFF.
    var isProgressReport: Bool { code == 0xFFFF }

    static func parse(_ payload: [UInt8]) throws(MalformedPacket) -> ErrorPacket {
        var reader = ByteReader(payload)
        guard reader.readByte() == 0xFF, let code = reader.readUInt16() else {
            throw MalformedPacket("truncated ERR packet")
        }
        var rest = reader.readRest()
        if rest.first == UInt8(ascii: "#"), rest.count >= 6 {
            rest = rest.dropFirst(6)
        }
        return ErrorPacket(code: code, message: String(lenientUTF8: rest.droppingTrailingNULs))
    }
}
