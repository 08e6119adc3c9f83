/// COM_QUERY (0x03): the statement text, and what replication clients announce with it.
enum QueryCommand {
    /// `.query` observations carry at most this many bytes of text.
    static let observedTextLimit = 1024

    /// The statement text of a COM_QUERY payload (command byte included).
    ///
    /// With CLIENT_QUERY_ATTRIBUTES negotiated (MySQL 8.0.23+), the text follows
    /// `parameter_count`, `parameter_set_count` and, when there are parameters, a
    /// NULL bitmap, the bind flag, (type, name) pairs and binary-encoded values.
    /// Returns nil if that prefix cannot be walked.
    static func statementText(_ payload: [UInt8], queryAttributes: Bool) -> ArraySlice<UInt8>? {
        var reader = ByteReader(payload, from: 1)
        if queryAttributes {
            guard skipQueryAttributes(&reader) else { return nil }
        }
        return reader.readRest()
    }

    private static func skipQueryAttributes(_ reader: inout ByteReader) -> Bool {
        guard let parameterCount = reader.readLengthEncodedInteger(),
            reader.readLengthEncodedInteger() != nil  // parameter_set_count, always 1
        else { return false }
        guard parameterCount > 0 else { return true }
        // Every parameter costs at least 3 bytes (type + empty name), so a count larger
        // than the captured bytes is nonsense; this also bounds the loops below.
        guard parameterCount <= UInt64(reader.remaining) else { return false }
        let count = Int(parameterCount)
        guard let nullBitmap = reader.readBytes((count + 7) / 8),
            reader.readByte() == 1  // new_params_bind_flag
        else { return false }
        var types: [UInt8] = []
        types.reserveCapacity(count)
        for _ in 0..<count {
            guard let typeAndFlag = reader.readUInt16(),
                let nameLength = reader.readLengthEncodedInteger(),
                reader.skip(nameLength)
            else { return false }
            types.append(UInt8(truncatingIfNeeded: typeAndFlag))
        }
        let bitmapStart = nullBitmap.startIndex
        for (index, type) in types.enumerated() {
            let isNull = nullBitmap[bitmapStart + index / 8] & (1 << UInt8(index % 8)) != 0
            if isNull { continue }
            guard skipBinaryValue(&reader, type: type) else { return false }
        }
        return true
    }

    /// Skips one value in the binary protocol encoding of column type `type`.
    private static func skipBinaryValue(_ reader: inout ByteReader, type: UInt8) -> Bool {
        switch type {
        case 0x06:  // NULL
            return true
        case 0x01:  // TINY
            return reader.skip(1)
        case 0x02, 0x0D:  // SHORT, YEAR
            return reader.skip(2)
        case 0x03, 0x04, 0x09:  // LONG, FLOAT, INT24
            return reader.skip(4)
        case 0x05, 0x08:  // DOUBLE, LONGLONG
            return reader.skip(8)
        case 0x07, 0x0A, 0x0B, 0x0C:  // TIMESTAMP, DATE, TIME, DATETIME: length byte + data
            guard let length = reader.readByte() else { return false }
            return reader.skip(Int(length))
        default:  // strings, decimals, blobs, JSON, …: length-encoded string
            guard let length = reader.readLengthEncodedInteger() else { return false }
            return reader.skip(length)
        }
    }

    /// True when the statement turns on semi-synchronous replication for this replica
    /// (`SET @rpl_semi_sync_slave = 1` / `@rpl_semi_sync_replica`): binlog packets may
    /// then carry a 2-byte 0xEF header.
    static func requestsSemiSync(_ text: ArraySlice<UInt8>) -> Bool {
        guard isSetStatement(text) else { return false }
        let head = text.prefix(512)
        return head.containsASCIICaseInsensitive("rpl_semi_sync_slave")
            || head.containsASCIICaseInsensitive("rpl_semi_sync_replica")
    }

    /// True when the statement starts with the keyword SET (after whitespace).
    static func isSetStatement(_ text: ArraySlice<UInt8>) -> Bool {
        let start = text.firstIndex { !$0.isASCIISpace } ?? text.endIndex
        let rest = text[start...]
        return rest.hasASCIIPrefixCaseInsensitive("set") && rest.dropFirst(3).first?.isASCIISpace == true
    }
}

extension UInt8 {
    var isASCIISpace: Bool {
        self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D
    }
}

extension ArraySlice where Element == UInt8 {
    func hasASCIIPrefixCaseInsensitive(_ prefix: String) -> Bool {
        hasASCIIPrefixCaseInsensitive(Array(prefix.utf8))
    }

    func hasASCIIPrefixCaseInsensitive(_ prefix: [UInt8]) -> Bool {
        guard count >= prefix.count else { return false }
        var index = startIndex
        for expected in prefix {
            guard Self.asciiLowercased(self[index]) == Self.asciiLowercased(expected) else { return false }
            index += 1
        }
        return true
    }

    func containsASCIICaseInsensitive(_ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard !needle.isEmpty, count >= needle.count else { return needle.isEmpty }
        var index = startIndex
        while index + needle.count <= endIndex {
            if self[index...].hasASCIIPrefixCaseInsensitive(needle) { return true }
            index += 1
        }
        return false
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
    }
}
