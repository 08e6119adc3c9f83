/// Quoting for the few places SQL cannot take a bound parameter (identifiers, account names,
/// DDL). Identifiers are validated before they get here; quoting is the second line of defence.
public enum SQLText {
    /// `name` as a backtick-quoted identifier.
    public static func identifier(_ name: String) -> String {
        "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
    }

    /// `text` as a single-quoted string literal, safe with or without NO_BACKSLASH_ESCAPES.
    public static func literal(_ text: String) -> String {
        var out = "'"
        for character in text {
            switch character {
            case "'": out += "''"
            case "\\": out += "\\\\"
            case "\0": out += "\\0"
            default: out.append(character)
            }
        }
        return out + "'"
    }

    /// 'user'@'host'
    public static func account(_ user: String, _ host: String) -> String {
        literal(user) + "@" + literal(host)
    }

    /// True for a plain identifier: letters, digits, `_` and `$`, not all digits, at most 64 characters.
    public static func isPlainIdentifier(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 64, !name.allSatisfy(\.isNumber) else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            (scalar.value < 128) && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "$")
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
