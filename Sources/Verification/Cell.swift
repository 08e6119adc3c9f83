/// One value after normalisation: what is compared.
public enum Cell: Sendable, Hashable {
    case null
    /// Canonical text: integers and decimals in their shortest form, strings as they are, dates
    /// as YYYY-MM-DD, times without trailing fractional zeros, JSON re-serialised with sorted
    /// keys, binary as upper-case hexadecimal.
    case text(String)
    case number(Double)
    /// Microseconds since 1970-01-01 UTC, and how many fractional digits the side carries.
    case instant(micros: Int64, digits: Int)
    /// MySQL's zero date ('0000-00-00', '0000-00-00 00:00:00'): a class of its own.
    case zeroDate
    /// A value that is not what the column's kind allows (kept as written).
    case invalid(String)

    /// Whether two normalised values are equal under the column's rules.
    public func matches(_ other: Cell, kind: ColumnKind) -> Bool {
        switch (self, other) {
        case (.number(let a), .number(let b)):
            guard case .float(let tolerance) = kind else { return a == b }
            if a == b { return true }
            return abs(a - b) <= tolerance * max(abs(a), abs(b))
        case (.instant(let a, let aDigits), .instant(let b, let bDigits)):
            let unit = Cell.unit(min(aDigits, bDigits))
            return Cell.floor(a, unit) == Cell.floor(b, unit)
        case (.zeroDate, .null), (.null, .zeroDate):
            // Tools write a zero date as NULL (or as the same zero date): reported as zero_dates, not as changed.
            return true
        default:
            return self == other
        }
    }

    /// A form for hashing rows of tables without a key: instants at `digits`, floats to 6 significant digits.
    public func hashable(digits: Int) -> Cell {
        switch self {
        case .instant(let micros, let own):
            return .instant(micros: Cell.floor(micros, Cell.unit(min(own, digits))), digits: 0)
        case .number(let value):
            return .text(String(Float(value)))
        case .zeroDate:
            return .null
        default:
            return self
        }
    }

    static func unit(_ digits: Int) -> Int64 {
        var unit: Int64 = 1
        for _ in 0..<max(0, 6 - min(digits, 6)) { unit *= 10 }
        return unit
    }

    static func floor(_ value: Int64, _ unit: Int64) -> Int64 {
        let remainder = value % unit
        return remainder < 0 ? value - remainder - unit : value - remainder
    }
}
