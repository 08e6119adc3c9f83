/// Why a packet could not be understood. Becomes `.unobservable("malformed: …")`.
struct MalformedPacket: Error, Sendable, Equatable {
    var reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}

/// A bounds-checked little-endian cursor over captured packet bytes.
///
/// Every read returns `nil` instead of trapping when the bytes run out, so that
/// untrusted input can never crash the observer.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    private let end: Int

    /// Reads `bytes[start..<end]` (clamped to the array).
    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        let upper = min(end ?? bytes.count, bytes.count)
        self.end = max(upper, 0)
        self.offset = min(max(start, 0), self.end)
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset >= end }

    mutating func readByte() -> UInt8? {
        guard offset < end else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// Reads an unsigned little-endian integer of `width` bytes (1...8).
    mutating func readInteger(width: Int) -> UInt64? {
        guard width >= 1, width <= 8, remaining >= width else { return nil }
        var value: UInt64 = 0
        for index in 0..<width {
            value |= UInt64(bytes[offset + index]) << UInt64(8 * index)
        }
        offset += width
        return value
    }

    mutating func readUInt16() -> UInt16? {
        readInteger(width: 2).map { UInt16(truncatingIfNeeded: $0) }
    }

    mutating func readUInt32() -> UInt32? {
        readInteger(width: 4).map { UInt32(truncatingIfNeeded: $0) }
    }

    mutating func readUInt64() -> UInt64? {
        readInteger(width: 8)
    }

    /// A length-encoded integer (0xFC/0xFD/0xFE prefixes). `nil` for 0xFB/0xFF.
    mutating func readLengthEncodedInteger() -> UInt64? {
        guard let first = readByte() else { return nil }
        switch first {
        case 0..<0xFB: return UInt64(first)
        case 0xFC: return readInteger(width: 2)
        case 0xFD: return readInteger(width: 3)
        case 0xFE: return readInteger(width: 8)
        default: return nil
        }
    }

    mutating func readBytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    mutating func readBytes(_ count: UInt64) -> ArraySlice<UInt8>? {
        guard let count = Int(exactly: count) else { return nil }
        return readBytes(count)
    }

    @discardableResult
    mutating func skip(_ count: Int) -> Bool {
        readBytes(count) != nil
    }

    @discardableResult
    mutating func skip(_ count: UInt64) -> Bool {
        readBytes(count) != nil
    }

    /// Bytes up to (not including) the next NUL, consuming the NUL. `nil` if there is none.
    mutating func readNulTerminated() -> ArraySlice<UInt8>? {
        var index = offset
        while index < end {
            if bytes[index] == 0 {
                defer { offset = index + 1 }
                return bytes[offset..<index]
            }
            index += 1
        }
        return nil
    }

    /// Everything that is left.
    mutating func readRest() -> ArraySlice<UInt8> {
        defer { offset = end }
        return bytes[offset..<end]
    }
}

extension String {
    /// Decodes UTF-8 leniently (invalid sequences become U+FFFD).
    init(lenientUTF8 bytes: ArraySlice<UInt8>) {
        self.init(decoding: bytes, as: UTF8.self)
    }

    /// Decodes at most `limit` bytes of UTF-8, cutting before a character boundary.
    init(lenientUTF8 bytes: ArraySlice<UInt8>, limit: Int) {
        guard bytes.count > limit else {
            self.init(decoding: bytes, as: UTF8.self)
            return
        }
        var cut = bytes.startIndex + Swift.max(limit, 0)
        // Back off continuation bytes so the cut falls before a leading byte.
        var backed = 0
        while cut > bytes.startIndex, bytes[cut] & 0xC0 == 0x80, backed < 3 {
            cut -= 1
            backed += 1
        }
        self.init(decoding: bytes[bytes.startIndex..<cut], as: UTF8.self)
    }
}

extension ArraySlice where Element == UInt8 {
    /// The slice without trailing NUL bytes.
    var droppingTrailingNULs: ArraySlice<UInt8> {
        var upper = endIndex
        while upper > startIndex, self[upper - 1] == 0 {
            upper -= 1
        }
        return self[startIndex..<upper]
    }
}
