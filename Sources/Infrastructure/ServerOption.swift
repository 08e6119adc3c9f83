import Foundation

/// One server option the user adds to the generated option file (`up --server-option KEY=VALUE`),
/// kept in `toolkit.json` and written after the toolkit's own options.
public struct ServerOption: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The name as the user spelled it (letters, digits, `-` and `_`), written so to the option file.
    public let name: String
    public let value: String

    /// What `--server-option` accepts, for the one-line refusal.
    public static let usage = "KEY=VALUE with KEY made of letters, digits, - and _ and a VALUE on one line "
        + "(no control characters), for an option the toolkit does not own"

    /// Options the toolkit sets and relies on (normalised: lower case, `_`, no prefix). A name equal to
    /// one of these, or starting with one of `ownedPrefixes`, is refused.
    public static let ownedNames: Set<String> = [
        "port", "bind_address", "socket", "datadir", "pid_file", "log_error", "tmpdir", "user",
        "skip_networking", "log_bin", "server_id", "binlog_format", "binlog_row_image",
        "enforce_gtid_consistency", "ssl",
    ]
    public static let ownedPrefixes = ["log_bin_", "gtid_", "ssl_"]

    /// Prefixes MariaDB and MySQL accept in front of any option name.
    static let namePrefixes = ["loose_", "skip_", "enable_", "disable_", "maximum_"]

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses `KEY=VALUE`; throws a usage error (one line, naming `--server-option`) for anything else.
    public init(parsing text: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw ToolkitError.usage("--server-option must be \(Self.usage), got '\(Self.shown(text))'")
        }
        let name = text[..<equals].trimmingCharacters(in: .whitespaces)
        let value = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }),
              !Self.normalised(name).isEmpty else {
            throw ToolkitError.usage("--server-option must be \(Self.usage), got '\(Self.shown(text))'")
        }
        guard value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw ToolkitError.usage("--server-option must be \(Self.usage), got a value with a control character for '\(name)'")
        }
        let option = ServerOption(name: name, value: value)
        if option.isOwned {
            throw ToolkitError.usage("--server-option \(name): the toolkit owns \(Self.normalised(name)) (\(Self.ownedDescription)); "
                + "any other option is allowed")
        }
        self = option
    }

    /// The name as the server compares it: lower case, `_` for `-`, without `loose-`/`skip-`-style prefixes.
    public static func normalised(_ name: String) -> String {
        var result = name.lowercased().replacingOccurrences(of: "-", with: "_")
        var stripped = true
        while stripped {
            stripped = false
            for prefix in namePrefixes where result.hasPrefix(prefix) {
                result.removeFirst(prefix.count)
                stripped = true
            }
        }
        return result
    }

    public var normalisedName: String { Self.normalised(name) }

    /// Owned when the name is, with or without each of its prefixes (`skip-networking` is an option
    /// of its own, `skip-ssl` is `ssl` turned off).
    public var isOwned: Bool {
        var key = name.lowercased().replacingOccurrences(of: "-", with: "_")
        var forms = [key]
        while let prefix = Self.namePrefixes.first(where: { key.hasPrefix($0) }) {
            key.removeFirst(prefix.count)
            forms.append(key)
        }
        return forms.contains { key in Self.ownedNames.contains(key) || Self.ownedPrefixes.contains { key.hasPrefix($0) } }
    }

    static var ownedDescription: String {
        "owned: " + (Self.ownedNames.sorted() + Self.ownedPrefixes.map { $0 + "*" }).joined(separator: ", ")
    }

    /// The option-file line.
    public var line: String { "\(name) = \(value)" }

    public var description: String { "\(name)=\(value)" }

    /// Parses every `--server-option`; the first refusal wins. A later option of the same
    /// normalised name replaces an earlier one, as the server would.
    public static func parseAll(_ texts: [String]) throws -> [ServerOption] {
        var result: [ServerOption] = []
        for text in texts {
            let option = try ServerOption(parsing: text)
            result.removeAll { $0.normalisedName == option.normalisedName }
            result.append(option)
        }
        return result
    }

    private static func shown(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) }.prefix(80))
    }
}

extension ServerOption {
    /// The lines written after the toolkit's own options in `[mysqld]`: the user's options, then
    /// MariaDB's `!includedir` of `conf.d` when one is given (read last, so its files win).
    public static func optionFileLines(_ options: [ServerOption], includeDirectory: URL?) -> [String] {
        var lines: [String] = []
        if !options.isEmpty {
            lines.append("# up --server-option (kept in toolkit.json)")
            lines += options.map(\.line)
        }
        if let includeDirectory {
            lines += ["", "!includedir \(includeDirectory.path)"]
        }
        return lines
    }
}
