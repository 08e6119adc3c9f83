/// `--destination 'exec:COMMAND'`: a warehouse read through its own CLI. The command is split into
/// argv as a shell would split words (quotes and backslashes), but no shell runs it; `{table}` and
/// `{db}` are replaced in each word; it must print the table as CSV with a header. Pure.
public struct ExecCommand: Sendable, Hashable {
    /// The words as written, `{table}` and `{db}` still in them.
    public let words: [String]

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws(Invalid) {
        let words = try Self.split(text)
        guard let program = words.first, !program.isEmpty else { throw Invalid(description: "names no command") }
        guard words.contains(where: { $0.contains("{table}") }) else {
            throw Invalid(description: "does not name {table}: the command runs once per table and must print that table as CSV")
        }
        self.words = words
    }

    /// The words of `text`, split as a shell splits them (no expansion of any kind).
    static func split(_ text: String) throws(Invalid) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                // Inside double quotes a backslash quotes only what the shell says it does.
                if quote == "\"" && !"$`\"\\\n".contains(character) { word.append("\\") }
                word.append(character)
                escaped = false
                continue
            }
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"" {
                    escaped = true
                } else {
                    word.append(character)
                }
                continue
            }
            switch character {
            case "\\": escaped = true; inWord = true
            case "'", "\"": quote = character; inWord = true
            case " ", "\t", "\n":
                if inWord { words.append(word); word = ""; inWord = false }
            default: word.append(character); inWord = true
            }
        }
        if quote != nil { throw Invalid(description: "a quote is not closed") }
        if escaped { throw Invalid(description: "it ends with a backslash") }
        if inWord { words.append(word) }
        return words
    }

    /// The program as written (a path, or a name looked up on PATH).
    public var program: String { words[0] }

    /// The argv for one table: `{table}` and `{db}` replaced. Both must be plain identifiers, so
    /// nothing a table is called can add a word or quote its way out of one.
    public func arguments(table: String, database: String) throws(Invalid) -> [String] {
        for (name, value) in [("table", table), ("db", database)] where !Self.isPlainIdentifier(value) {
            throw Invalid(description: "{\(name)} would be '\(value)', not a plain identifier (letters, digits, _ and $, at most 64)")
        }
        return words.map { $0.replacingOccurrences(of: "{table}", with: table).replacingOccurrences(of: "{db}", with: database) }
    }

    /// The command as reports show it: the value of every argument named like a password, token or
    /// secret (`--password X`, `--password=X`, `password=X`, `-o token=X`) is `***`.
    public var redacted: String { Self.redacted(words) }

    static func redacted(_ words: [String]) -> String {
        var shown: [String] = []
        var hideNext = false
        for word in words {
            if hideNext {
                shown.append("***")
                hideNext = false
            } else if word.contains(" "), let inner = try? ExecCommand.split(word), inner.count > 1 {
                // `sh -c '... --password X'`: the words inside, redacted the same way.
                shown.append(quoted(redacted(inner)))
            } else if let equals = word.firstIndex(of: "="), isSecretName(word[..<equals]) {
                shown.append(quoted(String(word[...equals]) + "***"))
            } else {
                shown.append(quoted(word))
                hideNext = word.hasPrefix("-") && isSecretName(word[...])
            }
        }
        return shown.joined(separator: " ")
    }

    static func isSecretName(_ name: Substring) -> Bool {
        let lower = name.lowercased()
        return ["password", "passwd", "token", "secret", "credential"].contains { lower.contains($0) }
    }

    /// A word as a shell would need it written to read it back as one word.
    static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=,@%+{}*".contains($0) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == "$" }
    }

    /// How the CLI writes NULL, the empty string and binary values, from its program's name, as its
    /// vendor documents them; any other program is read as `csv:` files are.
    public var dialect: Dialect {
        var name = Substring(program.split(separator: "/").last ?? "")
        // `sh -c '...'`: the program named first inside.
        if ["sh", "bash", "dash"].contains(name), words.count >= 3, words[1] == "-c",
           let inner = try? Self.split(words[2]), let first = inner.first {
            name = Substring(first.split(separator: "/").last ?? "")
        }
        switch name {
        case "duckdb": return .duckdb
        case "psql": return .psql
        case "bq": return .bigquery
        case "snowsql": return .snowsql
        default: return .generic
        }
    }

    public enum Dialect: String, Sendable, Hashable {
        /// `duckdb -csv`: NULL is `NULL`, an empty field the empty string, a BLOB `\xFF`-escaped bytes.
        case duckdb
        /// `psql --csv`: NULL is an empty unquoted field, `""` the empty string, bytea `\x`-prefixed hex.
        case psql
        /// `bq query --format=csv`: NULL is an empty field, BYTES base64.
        case bigquery
        /// `snowsql -o output_format=csv`: NULL is `NULL`, BINARY hex.
        case snowsql
        /// Anything else, as `csv:` files: NULL is an empty unquoted field or `\N`, binary base64.
        case generic

        /// The unquoted text that is NULL besides `\N`; nil = an empty unquoted field is NULL.
        public var nullText: String? {
            switch self {
            case .duckdb, .snowsql: return "NULL"
            case .psql, .bigquery, .generic: return nil
            }
        }

        public var binary: ValueFormat.BinaryText {
            switch self {
            case .duckdb: return .escaped
            case .psql: return .prefixedHex
            case .snowsql: return .hex
            case .bigquery, .generic: return .base64
            }
        }
    }
}
