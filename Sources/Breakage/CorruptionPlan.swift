/// Which bytes `corrupt` changes. Pure: sizes, offsets and XOR masks from an injectable random
/// number generator, so that a plan can be checked without a file.
public enum CorruptionType: String, Codable, Sendable, CaseIterable {
    case truncate, randomBytes = "random-bytes", magicNumber = "magic-number"
}

public struct CorruptionPlan: Sendable, Hashable {
    /// One byte changed: the new value is the old one XOR `mask` (never 0, so it always differs).
    public struct ByteEdit: Sendable, Hashable {
        public var offset: UInt64
        public var mask: UInt8
    }

    public var type: CorruptionType
    public var oldSize: UInt64
    /// Set for truncate: the size the file is cut to.
    public var newSize: UInt64?
    public var edits: [ByteEdit]

    /// The four bytes every binlog file starts with: 0xfe 'b' 'i' 'n'.
    public static let magic: [UInt8] = [0xFE, 0x62, 0x69, 0x6E]

    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case tooSmall(size: UInt64, needed: UInt64)
        public var description: String {
            switch self {
            case let .tooSmall(size, needed): return "the file has \(size) bytes; this corruption needs at least \(needed)"
            }
        }
    }

    /// - truncate: cut `percentage`% off the end (1 to 100).
    /// - random-bytes: `count` distinct bytes after the magic number, each flipped by a random non-zero mask.
    /// - magic-number: the first four bytes inverted.
    public static func make<R: RandomNumberGenerator>(_ type: CorruptionType, size: UInt64, percentage: Int, count: Int,
                                                      using rng: inout R) throws(Problem) -> CorruptionPlan {
        switch type {
        case .truncate:
            guard size > 0 else { throw .tooSmall(size: size, needed: 1) }
            let cut = max(1, size * UInt64(percentage) / 100)
            return CorruptionPlan(type: type, oldSize: size, newSize: size - min(cut, size), edits: [])
        case .magicNumber:
            guard size >= 4 else { throw .tooSmall(size: size, needed: 4) }
            return CorruptionPlan(type: type, oldSize: size, newSize: nil, edits: (0..<4).map { ByteEdit(offset: $0, mask: 0xFF) })
        case .randomBytes:
            let first = UInt64(magic.count)
            guard size > first else { throw .tooSmall(size: size, needed: first + 1) }
            let wanted = min(UInt64(count), size - first)
            var offsets = Set<UInt64>()
            while UInt64(offsets.count) < wanted {
                offsets.insert(UInt64.random(in: first..<size, using: &rng))
            }
            let edits = offsets.sorted().map { ByteEdit(offset: $0, mask: UInt8.random(in: 1...255, using: &rng)) }
            return CorruptionPlan(type: type, oldSize: size, newSize: nil, edits: edits)
        }
    }
}

/// Lowercase hex with a space between bytes: "fe 62 69 6e".
public func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }.joined(separator: " ")
}
