/// The set-checker's answer for one table. The counts add up:
/// `sourceRows = matched + changed + missing` and
/// `destinationRows = matched + changed + extra + duplicates + deletesNotPropagated`.
public struct TableReport: Codable, Sendable, Hashable {
    public var table: String
    public var key: [String]
    public var profile: Profile
    public var sourceRows = 0
    /// Live rows at the destination, copies included.
    public var destinationRows = 0
    public var matched = 0
    /// Source keys not live at the destination (for a table without a key: source copies without a partner).
    public var missing = 0
    /// Keys live at the destination that the source does not have (without a key: copies).
    public var extra = 0
    /// Surplus live copies of a key: a key live three times counts 2.
    public var duplicates = 0
    /// Same key, the first live copy differs.
    public var changed = 0
    public var changedColumns: [String: Int] = [:]
    /// Differences that were gone when the keys were read again (the source or the pipeline moved on).
    public var rechecked = 0
    /// Change-log lines equal to the previous line of their key (at-least-once delivery; not a difference).
    public var redelivered: Int?
    /// Keys the run deleted at the source that a query-based sync's destination still holds: a cursor
    /// cannot see a delete (reported, not a difference); nil when no deleted keys were given.
    public var deletesNotPropagated: Int?
    /// The time column in which every missing row shares its whole second with a row that arrived:
    /// the trace of a sync whose cursor (`updated_at > last value`) is kept in whole seconds.
    public var missingShareSecondIn: String?
    /// Source rows holding a MySQL zero date in a compared column.
    public var zeroDates = 0
    public var notReplicatedColumns: [String] = []
    /// The first keys of each class; generated rows as tag ranges (gen-000000000042..gen-000000000057).
    public var examples: [String: [String]] = [:]

    public init(table: String, key: [String], profile: Profile) {
        self.table = table
        self.key = key
        self.profile = profile
    }

    public var differences: Int { missing + extra + duplicates + changed }

    enum CodingKeys: String, CodingKey {
        case table, key, profile, matched, missing, extra, duplicates, changed, rechecked, redelivered, examples
        case sourceRows = "source_rows", destinationRows = "destination_rows", changedColumns = "changed_columns"
        case zeroDates = "zero_dates", notReplicatedColumns = "not_replicated_columns"
        case deletesNotPropagated = "deletes_not_propagated"
        case missingShareSecondIn = "missing_share_second_in"
    }
}

/// `toolkit verify`'s whole answer.
public struct VerifyReport: Codable, Sendable, Hashable {
    public enum Verdict: String, Codable, Sendable { case match, differences, error }
    public var verdict: Verdict
    public var tables: [TableReport]
    public var notReplicatedTables: [String]
    public var seconds: Double
    public var error: String?

    public init(tables: [TableReport], notReplicatedTables: [String], seconds: Double, error: String? = nil) {
        self.tables = tables
        self.notReplicatedTables = notReplicatedTables
        self.seconds = seconds
        self.error = error
        verdict = error != nil ? .error : tables.contains { $0.differences > 0 } ? .differences : .match
    }

    /// Over every table.
    public var sourceRows: Int { tables.reduce(0) { $0 + $1.sourceRows } }
    public var destinationRows: Int { tables.reduce(0) { $0 + $1.destinationRows } }
    public var missing: Int { tables.reduce(0) { $0 + $1.missing } }
    public var extra: Int { tables.reduce(0) { $0 + $1.extra } }
    public var duplicates: Int { tables.reduce(0) { $0 + $1.duplicates } }
    public var changed: Int { tables.reduce(0) { $0 + $1.changed } }
    public var deletesNotPropagated: Int { tables.reduce(0) { $0 + ($1.deletesNotPropagated ?? 0) } }

    /// The first rows of a class (`missing`, `extra`, `duplicates`, `changed`) over every table,
    /// each named with its table and key: "users id=261", "t a=4,b=7", "users gen-000000000042..gen-000000000044".
    public func named(_ kind: String) -> [String] {
        tables.flatMap { table in
            (table.examples[kind] ?? []).map { example in
                let values = example.split(separator: ",", omittingEmptySubsequences: false)
                guard !example.contains("="), !table.key.isEmpty, values.count == table.key.count, !example.hasPrefix("gen-") else {
                    return "\(table.table) \(example)"
                }
                return "\(table.table) " + zip(table.key, values).map { "\($0)=\($1)" }.joined(separator: ",")
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case verdict, tables, seconds, error
        case notReplicatedTables = "not_replicated_tables"
    }
}

extension TableReport: CustomStringConvertible {
    public var description: String {
        var text = "\(table): \(sourceRows) source rows, \(destinationRows) at the destination — "
        if differences == 0 {
            text += "match (\(matched) rows)"
        } else {
            text += "\(matched) matched, \(missing) missing, \(extra) extra, \(duplicates) duplicates, \(changed) changed"
            if !changedColumns.isEmpty {
                text += " (" + changedColumns.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"
            }
        }
        if rechecked > 0 { text += "; \(rechecked) differences resolved when re-read" }
        if let redelivered, redelivered > 0 { text += "; \(redelivered) lines redelivered" }
        if let deletesNotPropagated, deletesNotPropagated > 0 { text += "; \(deletesNotPropagated) deleted rows still there (not propagated)" }
        if let missingShareSecondIn { text += "; " + CursorPrecisionText.hint(missing: missing, column: missingShareSecondIn) }
        if zeroDates > 0 { text += "; \(zeroDates) rows with zero dates" }
        if !notReplicatedColumns.isEmpty { text += "; columns not replicated: \(notReplicatedColumns.joined(separator: ", "))" }
        for (kind, keys) in examples.sorted(by: { $0.key < $1.key }) {
            text += "\n  \(kind): \(keys.joined(separator: ", "))"
        }
        return text
    }
}

extension VerifyReport: CustomStringConvertible {
    public var description: String {
        var lines = tables.map(\.description)
        if !notReplicatedTables.isEmpty { lines.append("Not replicated: \(notReplicatedTables.joined(separator: ", "))") }
        if let error { lines.append("Error: \(error)") }
        let summary: String
        switch verdict {
        case .match: summary = "MATCH"
        case .differences: summary = "DIFFERENCES"
        case .error: summary = "ERROR"
        }
        lines.append(String(format: "\(summary) (%.2f s)", seconds))
        return lines.joined(separator: "\n")
    }
}

/// What the trace of a cursor in whole seconds is called wherever a report says it.
public enum CursorPrecisionText {
    public static func hint(missing: Int, column: String) -> String {
        "\(missing == 1 ? "the missing row shares its" : "all \(missing) missing rows share their") second in \(column) with a row "
            + "that arrived: this looks like cursor precision (a sync reading \(column) > its last value in whole seconds "
            + "misses rows written later in that second)"
    }
}
