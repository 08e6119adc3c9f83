/// A length of time on the soak's command line, in whole seconds: `90` (seconds), `90s`, `30m`,
/// `2h`, `2d`, or units together from the largest down (`1h30m`, `1d12h`, `2m5s`).
public enum SoakLength {
    /// Parses `text` for `flag`; throws one line naming the flag, the forms allowed and the value.
    public static func parse(_ text: String, flag: String, allowed: ClosedRange<Int>) throws(SoakInputError) -> Int {
        guard let seconds = seconds(text) else {
            throw SoakInputError(flag: flag, message: "\(flag) must be a length like 90, 90s, 30m, 2h or 1h30m, got '\(text)'")
        }
        guard allowed.contains(seconds) else {
            throw SoakInputError(
                flag: flag,
                message: "\(flag) must be from \(Self.text(allowed.lowerBound)) to \(Self.text(allowed.upperBound)), got '\(text)'")
        }
        return seconds
    }

    /// `MIN..MAX` for `flag` (`5s..60s`), each end a length as above and MIN at most MAX.
    public static func parseRange(
        _ text: String, flag: String, allowed: ClosedRange<Int>
    ) throws(SoakInputError) -> SoakRange {
        let parts = text.split(separator: "..", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = seconds(String(parts[0])), let high = seconds(String(parts[1])) else {
            throw SoakInputError(flag: flag, message: "\(flag) must be a range MIN..MAX of lengths like 5s..60s, got '\(text)'")
        }
        guard allowed.contains(low), allowed.contains(high) else {
            throw SoakInputError(
                flag: flag,
                message: "\(flag) must be lengths from \(Self.text(allowed.lowerBound)) to \(Self.text(allowed.upperBound)), got '\(text)'")
        }
        guard low <= high else {
            throw SoakInputError(flag: flag, message: "\(flag) must have MIN at most MAX, got '\(text)'")
        }
        return SoakRange(min: low, max: high)
    }

    /// The number of seconds `text` spells, or nil.
    static func seconds(_ text: String) -> Int? {
        if !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return text.count <= 9 ? Int(text) : nil }
        let units: [(Character, Int)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        var total = 0
        var digits = ""
        var next = 0  // the index of the largest unit still allowed
        for character in text {
            if character.isASCII && character.isNumber {
                digits.append(character)
                guard digits.count <= 9 else { return nil }
                continue
            }
            guard !digits.isEmpty, let index = units.firstIndex(where: { $0.0 == character }), index >= next,
                  let value = Int(digits) else { return nil }
            total += value * units[index].1
            digits = ""
            next = index + 1
        }
        guard digits.isEmpty, next > 0 else { return nil }
        return total
    }

    /// `seconds` in the units above, largest first, leaving out zeros: 5400 → `1h30m`, 0 → `0s`.
    public static func text(_ seconds: Int) -> String {
        guard seconds > 0 else { return "0s" }
        var rest = seconds
        var text = ""
        for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }

    /// `seconds` as a clock offset, h:mm:ss (hours go past 24): 3725 → `1:02:05`.
    public static func clock(_ seconds: Int) -> String {
        let hours = seconds / 3_600, minutes = seconds / 60 % 60, rest = seconds % 60
        return "\(hours):\(minutes < 10 ? "0" : "")\(minutes):\(rest < 10 ? "0" : "")\(rest)"
    }
}

/// Lower and upper bounds in seconds, both included.
public struct SoakRange: Codable, Hashable, Sendable, CustomStringConvertible {
    public var min: Int
    public var max: Int

    public init(min: Int, max: Int) {
        self.min = min
        self.max = max
    }

    public var seconds: ClosedRange<Int> { min...max }
    public var description: String { "\(SoakLength.text(min))..\(SoakLength.text(max))" }
}

/// A rejected soak input: one line that names the flag, what is allowed and the value given.
public struct SoakInputError: Error, Sendable, Hashable, CustomStringConvertible {
    public var flag: String
    public var message: String

    public init(flag: String, message: String) {
        self.flag = flag
        self.message = message
    }

    public var description: String { message }
}
