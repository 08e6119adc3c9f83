/// Decodes MySQL's binary GTID set encoding (COM_BINLOG_DUMP_GTID, Previous_gtids)
/// into its text form, e.g. `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,…`.
///
/// Untagged format: `n_sids` u64, then per sid a 16-byte UUID, `n_intervals` u64 and
/// `n_intervals` pairs of (start u64, end u64 exclusive). MySQL 8.3+ tagged format:
/// the top byte of the first u64 is 1, the sid count sits in bits 8…55, and every
/// entry carries a tag (one length byte `len << 1`, then the tag) after the UUID.
enum GTIDSetText {
    struct Decoded: Sendable, Equatable {
        var text: String
        /// False when the encoding ran past the captured bytes (only a prefix decoded).
        var isComplete: Bool
    }

    /// Decodes `encoded`. If `mayBeTruncated`, running out of bytes yields the decoded
    /// prefix instead of an error. Returns nil for an impossible encoding.
    static func decode(_ encoded: ArraySlice<UInt8>, mayBeTruncated: Bool) -> Decoded? {
        var reader = ByteReader(Array(encoded))
        guard let header = reader.readUInt64() else {
            return mayBeTruncated ? Decoded(text: "", isComplete: false) : nil
        }
        let format = header >> 56
        let entryCount: UInt64
        switch format {
        case 0: entryCount = header
        case 1: entryCount = (header & 0x00FF_FFFF_FFFF_FF00) >> 8
        default: return nil
        }
        let tagged = format == 1

        var text = ""
        var previousUUID: ArraySlice<UInt8>?
        var decodedEntries: UInt64 = 0
        while decodedEntries < entryCount {
            switch appendEntry(&reader, tagged: tagged, previousUUID: &previousUUID, to: &text) {
            case .complete:
                decodedEntries += 1
            case .outOfBytes:
                return mayBeTruncated ? Decoded(text: text, isComplete: false) : nil
            case .invalid:
                return nil
            }
        }
        return Decoded(text: text, isComplete: true)
    }

    private enum EntryResult {
        case complete
        case outOfBytes
        case invalid
    }

    /// Reads one (uuid, tag, intervals) entry and appends its text as it goes, so a
    /// truncated entry still contributes the intervals that were complete.
    private static func appendEntry(
        _ reader: inout ByteReader, tagged: Bool, previousUUID: inout ArraySlice<UInt8>?, to text: inout String
    ) -> EntryResult {
        guard let uuid = reader.readBytes(16) else { return .outOfBytes }
        var tag = ""
        if tagged {
            guard let lengthByte = reader.readByte() else { return .outOfBytes }
            // Tags are at most 32 characters: always a one-byte varint (low bit 0).
            guard lengthByte & 1 == 0 else { return .invalid }
            guard let tagBytes = reader.readBytes(Int(lengthByte >> 1)) else { return .outOfBytes }
            tag = String(lenientUTF8: tagBytes)
        }
        guard let intervalCount = reader.readUInt64() else { return .outOfBytes }
        var previousEnd: UInt64 = 0
        var index: UInt64 = 0
        while index < intervalCount {
            guard let start = reader.readUInt64(), let end = reader.readUInt64() else { return .outOfBytes }
            guard start > previousEnd, end > start else { return .invalid }
            if index == 0 {
                // The entry's prefix is written with its first interval, so a cut-off
                // entry leaves no dangling "uuid:".
                appendPrefix(uuid: uuid, tag: tag, previousUUID: &previousUUID, to: &text)
            } else {
                text += ":"
            }
            text += end - 1 == start ? "\(start)" : "\(start)-\(end - 1)"
            previousEnd = end
            index += 1
        }
        return .complete
    }

    private static func appendPrefix(
        uuid: ArraySlice<UInt8>, tag: String, previousUUID: inout ArraySlice<UInt8>?, to text: inout String
    ) {
        if uuid == previousUUID {
            text += ":"
        } else {
            if !text.isEmpty { text += "," }
            text += formatUUID(uuid) + ":"
        }
        previousUUID = uuid
        if !tag.isEmpty {
            text += tag + ":"
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Formats 16 bytes as a lowercase UUID with dashes.
    static func formatUUID(_ bytes: ArraySlice<UInt8>) -> String {
        var characters: [UInt8] = []
        characters.reserveCapacity(36)
        for (index, byte) in bytes.prefix(16).enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 {
                characters.append(UInt8(ascii: "-"))
            }
            characters.append(hexDigits[Int(byte >> 4)])
            characters.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
