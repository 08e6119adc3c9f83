/// A position in the source's binary logs: file name and byte offset.
public struct BinlogFilePosition: Codable, Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var position: UInt64

    public init(file: String, position: UInt64) {
        self.file = file
        self.position = position
    }

    public var description: String { "\(file):\(position)" }

    /// Compares files by their numeric suffix ("mysql-bin.000012" → 12, same base name
    /// required), then positions. Files without a numeric suffix compare only when their
    /// names are equal.
    public func compare(to other: BinlogFilePosition) -> PositionOrder {
        if file != other.file {
            guard let mine = Self.split(file), let theirs = Self.split(other.file), mine.base == theirs.base else {
                return .incomparable
            }
            if mine.number != theirs.number { return mine.number < theirs.number ? .behind : .ahead }
        }
        if position == other.position { return .same }
        return position < other.position ? .behind : .ahead
    }

    /// "mysql-bin.000012" → ("mysql-bin", 12).
    static func split(_ file: String) -> (base: Substring, number: UInt64)? {
        guard let dot = file.lastIndex(of: ".") else { return nil }
        let suffix = file[file.index(after: dot)...]
        guard !suffix.isEmpty, suffix.allSatisfy(\.isASCIIDigitCharacter), let number = UInt64(suffix) else {
            return nil
        }
        return (file[..<dot], number)
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
