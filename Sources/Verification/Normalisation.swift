import Foundation

/// How one side writes the values that are not plain text.
public struct ValueFormat: Sendable, Hashable {
    public enum BinaryText: Sendable, Hashable {
        /// Hexadecimal digits, as the SQL readers select them (and Snowflake's default output).
        case hex
        /// Base64 (files, BigQuery).
        case base64
        /// `\x` and hexadecimal digits: PostgreSQL's bytea output (`psql`).
        case prefixedHex
        /// Bytes as themselves where printable, else `\xHH`: DuckDB's BLOB text.
        case escaped
    }
    /// Binary columns, as this side writes them.
    public var binary: BinaryText
    /// Fractional digits of a DATETIME/TIMESTAMP column on this side; nil = count them in each value (files).
    public var instantDigits: Int?

    public init(binary: BinaryText = .hex, instantDigits: Int? = nil) {
        self.binary = binary
        self.instantDigits = instantDigits
    }
}

/// Text, as a server or a file writes it, to a `Cell`, by the source column's kind.
public enum Normalisation {
    public static func cell(_ text: String?, kind: ColumnKind, format: ValueFormat = ValueFormat()) -> Cell {
        guard let text else { return .null }
        switch kind {
        case .text:
            return .text(text)
        case .integer:
            return decimal(text).map(Cell.text) ?? .invalid(text)
        case .boolean:
            switch text.lowercased() {
            case "t", "true": return .text("1")
            case "f", "false": return .text("0")
            default: return decimal(text).map(Cell.text) ?? .invalid(text)
            }
        case .decimal:
            return decimal(text).map(Cell.text) ?? .invalid(text)
        case .float:
            guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else { return .invalid(text) }
            return .number(value)
        case .instant(let digits):
            return instant(text, columnDigits: digits, format: format)
        case .date:
            return date(text)
        case .time:
            return time(text)
        case .json:
            return json(text)
        case .binary:
            switch format.binary {
            case .hex: return .text(text.uppercased())
            case .base64:
                guard let data = Data(base64Encoded: text) else { return .invalid(text) }
                return .text(hex(data))
            case .prefixedHex:
                guard text.hasPrefix("\\x") || text.hasPrefix("\\X") else { return .invalid(text) }
                return .text(String(text.dropFirst(2)).uppercased())
            case .escaped:
                return unescaped(text).map { .text(hex($0)) } ?? .invalid(text)
            }
        }
    }

    /// The shortest decimal text of a number: "001.500" → "1.5", "-0.0" → "0", "1e3" → "1000".
    public static func decimal(_ raw: String) -> String? {
        // Fast path: already canonical whole numbers ("42", "-7", "0") are returned as they are.
        let canonical: Bool? = raw.utf8.withContiguousStorageIfAvailable { bytes in
            guard let first = bytes.first else { return false }
            var index = first == 0x2D ? 1 : 0
            guard index < bytes.count else { return false }
            if bytes[index] == 0x30 { return bytes.count == 1 }
            while index < bytes.count {
                guard bytes[index] >= 0x30 && bytes[index] <= 0x39 else { return false }
                index += 1
            }
            return true
        }
        if canonical == true { return raw }
        return slowDecimal(raw)
    }

    private static func slowDecimal(_ raw: String) -> String? {
        var text = Substring(raw)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        var negative = false
        if text.first == "-" { negative = true; text = text.dropFirst() } else if text.first == "+" { text = text.dropFirst() }
        if text.contains(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Decimal(string: String(text)) else { return nil }
            guard let digits = slowDecimal(value.description) else { return nil }
            return negative && digits != "0" ? "-" + digits : digits
        }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, parts.count <= 2 else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty),
              whole.allSatisfy(\.isASCIIDigit), fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        var integer = whole.drop { $0 == "0" }
        if integer.isEmpty { integer = "0" }
        var decimals = fraction
        while decimals.last == "0" { decimals.removeLast() }
        var result = String(integer)
        if !decimals.isEmpty { result += "." + decimals }
        if negative && result != "0" { result = "-" + result }
        return result
    }

    /// "2026-11-25 10:00:00.123+00", "2026-11-25T10:00:00.123456Z", "2026-11-25T12:00:00+02:00",
    /// a date alone, or epoch milliseconds/microseconds (Debezium) → microseconds UTC.
    static func instant(_ text: String, columnDigits: Int, format: ValueFormat) -> Cell {
        if let cell = text.utf8.withContiguousStorageIfAvailable({ instant($0, text, columnDigits: columnDigits, format: format) }) {
            return cell
        }
        return Array(text.utf8).withUnsafeBufferPointer { instant($0, text, columnDigits: columnDigits, format: format) }
    }

    private static func instant(_ bytes: UnsafeBufferPointer<UInt8>, _ text: String, columnDigits: Int, format: ValueFormat) -> Cell {
        if bytes.starts(with: "0000-00-00".utf8) { return .zeroDate }
        if !bytes.isEmpty, bytes.count != 10 || bytes[4] != 0x2D, let number = Int64(text) {
            // Debezium: Timestamp (milliseconds) for DATETIME(0..3), MicroTimestamp for (4..6).
            return .instant(micros: columnDigits <= 3 ? number * 1000 : number, digits: min(columnDigits, 6))
        }
        guard bytes.count >= 10, let days = civilDays(bytes) else { return .invalid(text) }
        var micros = days * 86_400_000_000
        var index = 10
        var digits = 0
        if index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x54 { // ' ' or 'T'
            guard bytes.count >= index + 9, let hour = number(bytes, index + 1, 2), bytes[index + 3] == 0x3A,
                  let minute = number(bytes, index + 4, 2), bytes[index + 6] == 0x3A,
                  let second = number(bytes, index + 7, 2) else { return .invalid(text) }
            micros += (hour * 3600 + minute * 60 + second) * 1_000_000
            index += 9
            if index < bytes.count, bytes[index] == 0x2E { // '.'
                index += 1
                var fraction: Int64 = 0
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    if digits < 6 { fraction = fraction * 10 + Int64(bytes[index] - 0x30) }
                    digits += 1
                    index += 1
                }
                for _ in min(digits, 6)..<6 { fraction *= 10 }
                micros += fraction
            }
        }
        // BigQuery's `... UTC`, Snowflake's `... +0000`: the zone after a space.
        if index + 1 < bytes.count, bytes[index] == 0x20 {
            if bytes.count - index == 4, bytes[index + 1] == 0x55, bytes[index + 2] == 0x54, bytes[index + 3] == 0x43 { // " UTC"
                index = bytes.count
            } else if bytes[index + 1] == 0x2B || bytes[index + 1] == 0x2D {
                index += 1
            }
        }
        if index < bytes.count {
            let sign = bytes[index]
            if sign == 0x5A || sign == 0x7A { // Z
                index += 1
            } else if sign == 0x2B || sign == 0x2D {
                guard let hours = number(bytes, index + 1, 2) else { return .invalid(text) }
                var minutes: Int64 = 0
                var next = index + 3
                if next < bytes.count, bytes[next] == 0x3A { next += 1 }
                if next + 2 <= bytes.count, let value = number(bytes, next, 2) { minutes = value; next += 2 }
                let offset = (hours * 60 + minutes) * 60_000_000
                micros += sign == 0x2B ? -offset : offset
                index = next
            }
            guard index == bytes.count else { return .invalid(text) }
        }
        return .instant(micros: micros, digits: min(columnDigits, format.instantDigits ?? digits, 6))
    }

    static func date(_ text: String) -> Cell {
        if text.hasPrefix("0000-00-00") { return .zeroDate }
        if let days = Int64(text) { // Debezium's Date: days since the epoch
            return .text(isoDate(days))
        }
        let bytes = Array(text.utf8)
        guard bytes.count >= 10, let days = bytes.withUnsafeBufferPointer({ civilDays($0) }) else { return .invalid(text) }
        if bytes.count > 10 {
            // A date written as a midnight timestamp by a file target.
            guard case .instant(let micros, _) = instant(text, columnDigits: 6, format: ValueFormat()),
                  micros == days * 86_400_000_000 else { return .invalid(text) }
        }
        return .text(String(decoding: bytes[0..<10], as: UTF8.self))
    }

    /// "10:00:00.500000" → "10:00:00.5"; "10:00:00.000" → "10:00:00".
    static func time(_ text: String) -> Cell {
        guard text.contains(":") else { return .invalid(text) }
        guard let dot = text.firstIndex(of: ".") else { return .text(text) }
        var fraction = text[text.index(after: dot)...]
        while fraction.last == "0" { fraction.removeLast() }
        return .text(fraction.isEmpty ? String(text[..<dot]) : String(text[..<dot]) + "." + fraction)
    }

    static func json(_ text: String) -> Cell {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
        else { return .invalid(text) }
        return .text(String(decoding: data, as: UTF8.self))
    }

    /// DuckDB's BLOB text (`\xHH` for a backslash and for each byte that is not printable ASCII) → bytes.
    static func unescaped(_ text: String) -> Data? {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == 0x5C else { bytes.append(byte); continue }
            guard utf8.count >= 3, utf8.first == 0x78 || utf8.first == 0x58,
                  let value = UInt8(String(decoding: utf8.dropFirst().prefix(2), as: UTF8.self), radix: 16) else { return nil }
            bytes.append(value)
            utf8.removeFirst(3)
        }
        return Data(bytes)
    }

    static func hex(_ data: Data) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(data.count * 2)
        for byte in data {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func number(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> Int64? {
        guard start + count <= bytes.count else { return nil }
        var value: Int64 = 0
        for byte in bytes[start..<(start + count)] {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int64(byte - 0x30)
        }
        return value
    }

    /// Days since 1970-01-01 of "YYYY-MM-DD" (Howard Hinnant's days_from_civil).
    private static func civilDays(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let year = number(bytes, 0, 4), bytes[4] == 0x2D, let month = number(bytes, 5, 2), bytes[7] == 0x2D,
              let day = number(bytes, 8, 2), (1...12).contains(month), (1...31).contains(day) else { return nil }
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func isoDate(_ days: Int64) -> String {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return String(format: "%04lld-%02lld-%02lld", year, month, day)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
