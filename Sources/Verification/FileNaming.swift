/// Which source table a file destination's file holds, by its name: `T` or `DB-T` (Singer's
/// stream name, `testdb-users`), optionally followed by `-TIMESTAMP` (a file target's rotation,
/// target-jsonl's `-20261125T100000`), then the extension; case-insensitive. A timestamp starts
/// with a digit and holds digits, `T`, `Z`, `_`, `.`, `:`, `+` and `-` only, so `users-archive.jsonl`
/// belongs to no table. Pure: names in, assignment out.
public enum FileNaming {
    public struct Ambiguous: Error, CustomStringConvertible, Sendable {
        /// Each file that fits more than one table, with those tables.
        public var files: [(file: String, tables: [String])]
        public var description: String {
            "file names that fit more than one table: " + files.map { "\($0.file) (\($0.tables.joined(separator: ", ")))" }
                .joined(separator: "; ")
        }
    }

    /// The files of each table (keyed by the source's spelling), in name order; tables without a
    /// file are left out. Throws when a name fits two tables (hyphens in table names).
    public static func assign(_ fileNames: [String], tables: [String], database: String,
                              fileExtension: String) throws(Ambiguous) -> [String: [String]] {
        var assigned: [String: [String]] = [:]
        var ambiguous: [(file: String, tables: [String])] = []
        let suffix = "." + fileExtension.lowercased()
        for name in fileNames.sorted() where name.lowercased().hasSuffix(suffix) {
            let base = String(name.lowercased().dropLast(suffix.count))
            let owners = tables.filter { fits(base, table: $0.lowercased(), database: database.lowercased()) }
            if owners.count > 1 {
                ambiguous.append((name, owners))
            } else if let owner = owners.first {
                assigned[owner, default: []].append(name)
            }
        }
        guard ambiguous.isEmpty else { throw Ambiguous(files: ambiguous) }
        return assigned
    }

    static func fits(_ base: String, table: String, database: String) -> Bool {
        for stem in [table, database + "-" + table] {
            if base == stem { return true }
            if base.hasPrefix(stem + "-"), isTimestamp(base.dropFirst(stem.count + 1)) { return true }
        }
        return false
    }

    static func isTimestamp(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isNumber else { return false }
        return text.allSatisfy { ($0.isASCII && $0.isNumber) || "tTzZ_.:+-".contains($0) }
    }
}
