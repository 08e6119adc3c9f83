import Foundation

/// Jepsen's set-checker questions asked of one table: which source rows are live at the
/// destination, unchanged, changed, missing; which destination rows are extra or duplicated.
public enum Comparison {
    public struct Outcome: Sendable {
        public var report: TableReport
        /// Keys that differ in any way (missing, extra, duplicated, changed).
        public var differingKeys: Set<String>
    }

    /// Compares `source` (unique keys) with the destination's *live* rows (and their `index`, when
    /// it was built beforehand, e.g. while the source was still being read).
    /// `deletedAtSource`: keys deleted at the source that a sync which cannot see deletes may keep:
    /// such a row at the destination counts as `deletesNotPropagated`, not as extra.
    public static func compare(_ shape: TableShape, profile: Profile, source: [Row], destination: [Row],
                               index: DestinationIndex? = nil, exampleLimit: Int = 10, deletedAtSource: Set<String>? = nil) -> Outcome {
        var report = TableReport(table: shape.table, key: shape.keyColumns, profile: profile)
        report.notReplicatedColumns = shape.notReplicatedColumns
        report.sourceRows = source.count
        report.destinationRows = destination.count
        report.zeroDates = source.reduce(0) { $0 + ($1.cells.contains(.zeroDate) ? 1 : 0) }
        if shape.key.isEmpty { return multiset(shape, report: report, source: source, destination: destination) }

        var result = classify(shape, report: report, source: source, destination: destination,
                              index: index ?? DestinationIndex(destination), deletedAtSource: deletedAtSource)
        result.report.examples = result.examples.render(limit: exampleLimit)
        return Outcome(report: result.report, differingKeys: result.differing)
    }

    private struct Classified {
        var report: TableReport
        var differing: Set<String>
        var examples: Examples
    }

    private static func classify(_ shape: TableShape, report: TableReport, source: [Row], destination: [Row],
                                 index: DestinationIndex, deletedAtSource: Set<String>?) -> Classified {
        var report = report
        if deletedAtSource != nil { report.deletesNotPropagated = 0 }
        var examples = Examples(shape: shape)
        var differing = Set<String>()
        let first = index.first, copies = index.copies
        var inSource = [Bool](repeating: false, count: first.count)
        var missingRows: [Int] = []
        for (position, row) in source.enumerated() {
            guard let slot = index.slot(of: row) else {
                report.missing += 1
                differing.insert(row.key)
                examples.add("missing", row)
                if missingRows.count <= CursorPrecision.limit { missingRows.append(position) }
                continue
            }
            inSource[slot] = true
            if copies[slot] > 1 {
                report.duplicates += copies[slot] - 1
                differing.insert(row.key)
                examples.add("duplicates", row)
            }
            let other = destination[first[slot]]
            var same = row.cells == other.cells
            if !same {
                same = true
                for (index, column) in shape.columns.enumerated() where !row.cells[index].matches(other.cells[index], kind: column.kind) {
                    same = false
                    report.changedColumns[column.name, default: 0] += 1
                }
            }
            if same {
                report.matched += 1
            } else {
                report.changed += 1
                differing.insert(row.key)
                examples.add("changed", row)
            }
        }
        for slot in 0..<first.count where !inSource[slot] {
            let row = destination[first[slot]]
            if copies[slot] == 1, deletedAtSource?.contains(row.key) == true {
                report.deletesNotPropagated! += 1
                continue
            }
            report.extra += 1
            report.duplicates += copies[slot] - 1
            differing.insert(row.key)
            examples.add("extra", row)
            if copies[slot] > 1 { examples.add("duplicates", row) }
        }
        report.missingShareSecondIn = CursorPrecision.column(shape, source: source, missing: missingRows)
        return Classified(report: report, differing: differing, examples: examples)
    }

    /// A cursor that misses rows because of its precision: a sync that reads `updated_at > last value`
    /// with the value in whole seconds never sees the rows written later in the second it last read.
    /// Its trace: every missing row shares its second, in one time column, with a row that arrived.
    enum CursorPrecision {
        /// Above this many missing rows the table is not searched for the trace.
        static let limit = 10_000

        /// The time column in which every missing row (indexes into `source`) shares its whole second
        /// with a source row that arrived; names like `updated_at` or `modified` first. Nil when none does.
        static func column(_ shape: TableShape, source: [Row], missing: [Int]) -> String? {
            guard !missing.isEmpty, missing.count <= limit, missing.count < source.count else { return nil }
            let candidates = shape.columns.indices.filter { if case .instant = shape.columns[$0].kind { return true } else { return false } }
                .sorted { a, b in preferred(shape.columns[a].name) && !preferred(shape.columns[b].name) }
            let isMissing = Set(missing)
            for column in candidates {
                func second(_ row: Row) -> Int64? {
                    guard case .instant(let micros, _) = row.cells[column] else { return nil }
                    return Cell.floor(micros, 1_000_000)
                }
                let wanted = Set(missing.compactMap { second(source[$0]) })
                guard wanted.count > 0, missing.allSatisfy({ second(source[$0]) != nil }) else { continue }
                var found = Set<Int64>()
                for (position, row) in source.enumerated() where !isMissing.contains(position) {
                    if let value = second(row), wanted.contains(value) { found.insert(value) }
                    if found.count == wanted.count { return shape.columns[column].name }
                }
            }
            return nil
        }

        private static func preferred(_ name: String) -> Bool {
            let name = name.lowercased()
            return name.contains("updated") || name.contains("modified") || name.contains("changed")
        }
    }

    /// A table without a key: rows are compared as a multiset of whole rows.
    static func multiset(_ shape: TableShape, report: TableReport, source: [Row], destination: [Row]) -> Outcome {
        var report = report
        let digits = shape.columns.map { column -> Int in
            if case .instant(let digits) = column.kind { return digits }
            return 6
        }
        func identity(_ row: Row) -> [Cell] {
            row.cells.enumerated().map { $0.element.hashable(digits: digits[$0.offset]) }
        }
        var counts: [[Cell]: (source: Int, destination: Int, row: Row)] = [:]
        for row in source { counts[identity(row), default: (0, 0, row)].source += 1 }
        for row in destination { counts[identity(row), default: (0, 0, row)].destination += 1 }
        var examples = Examples(shape: shape)
        for entry in counts.values {
            let common = min(entry.source, entry.destination)
            report.matched += common
            if entry.source > common { report.missing += entry.source - common; examples.add("missing", entry.row) }
            if entry.destination > common { report.extra += entry.destination - common; examples.add("extra", entry.row) }
        }
        report.examples = examples.render(limit: 10)
        return Outcome(report: report, differingKeys: [])
    }

    /// The rows of `first` outside `keys`, and the rows of `fresh` inside them: the data a re-check compares.
    public static func merge(_ first: [Row], _ fresh: [Row], keys: Set<String>) -> [Row] {
        first.filter { !keys.contains($0.key) } + fresh.filter { keys.contains($0.key) }
    }

    /// Compares, then — when rows differ and `reread` can read the differing keys again — compares the
    /// re-read rows for those keys and counts the differences that went away as `rechecked`.
    public static func compareRechecking(_ shape: TableShape, profile: Profile, source: [Row], destination: [Row],
                                         index: DestinationIndex? = nil, deletedAtSource: Set<String>? = nil,
                                         reread: (Set<String>) throws -> (source: [Row], destination: [Row])?) rethrows -> TableReport {
        let first = compare(shape, profile: profile, source: source, destination: destination, index: index,
                            deletedAtSource: deletedAtSource)
        guard !first.differingKeys.isEmpty, let fresh = try reread(first.differingKeys) else { return first.report }
        let keys = first.differingKeys
        let second = compare(shape, profile: profile, source: merge(source, fresh.source, keys: keys),
                             destination: merge(destination, fresh.destination, keys: keys), deletedAtSource: deletedAtSource)
        var report = second.report
        report.rechecked = keys.subtracting(second.differingKeys).count
        return report
    }
}

/// The destination's live rows by key: for each distinct key its first copy and how many copies
/// there are. Whole-number keys are hashed as numbers, which is several times faster than text.
public struct DestinationIndex: Sendable {
    enum Slots: Sendable {
        case numbers([Int64: Int])
        case texts([String: Int])
    }
    let slots: Slots
    /// Per distinct key: the index of its first live copy, and the number of copies.
    let first: [Int]
    let copies: [Int]

    public init(_ destination: [Row]) {
        var first: [Int] = []
        var copies: [Int] = []
        first.reserveCapacity(destination.count)
        copies.reserveCapacity(destination.count)
        func build<Key: Hashable>(_ keyOf: (Row) -> Key) -> [Key: Int] {
            var slots: [Key: Int] = [:]
            slots.reserveCapacity(destination.count)
            for (index, row) in destination.enumerated() {
                let key = keyOf(row)
                if let slot = slots[key] {
                    copies[slot] += 1
                } else {
                    slots[key] = first.count
                    first.append(index)
                    copies.append(1)
                }
            }
            return slots
        }
        if destination.allSatisfy({ $0.number != nil }) {
            slots = .numbers(build { $0.number! })
        } else {
            slots = .texts(build { $0.key })
        }
        self.first = first
        self.copies = copies
    }

    /// The slot of `row`'s key, or nil when the destination does not have it.
    func slot(of row: Row) -> Int? {
        switch slots {
        case .numbers(let slots):
            // A key that is not a whole number cannot equal one that is.
            guard let number = row.number else { return nil }
            return slots[number]
        case .texts(let slots):
            return slots[row.key]
        }
    }
}

/// The first keys of each class, in the toolkit's own order (numbers as numbers, text by bytes);
/// generated rows as ranges of their tags.
struct Examples {
    let shape: TableShape
    let emailColumn: Int?
    var keys: [String: [Row]] = [:]

    init(shape: TableShape) {
        self.shape = shape
        emailColumn = shape.columns.firstIndex { $0.name.lowercased() == "email" && $0.kind == .text }
    }

    mutating func add(_ kind: String, _ row: Row) {
        keys[kind, default: []].append(row)
    }

    func render(limit: Int) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (kind, rows) in keys {
            var tags: [Int64] = []
            var others: [Row] = []
            for row in rows {
                if let emailColumn, case .text(let email) = row.cells[emailColumn], let tag = GeneratedTagText.sequence(email) {
                    tags.append(tag)
                } else {
                    others.append(row)
                }
            }
            var entries = GeneratedTagText.ranges(tags.sorted())
            let numeric = shape.numericKey
            let sorted = others.map(\.key).sorted { a, b in
                if numeric, let x = Int64(a), let y = Int64(b) { return x < y }
                return a.utf8.lexicographicallyPrecedes(b.utf8)
            }
            entries += sorted.map { $0.replacingOccurrences(of: "\u{1F}", with: ",") }
            result[kind] = Array(entries.prefix(limit))
        }
        return result
    }
}

/// The tag `generate-data` writes in the e-mail column: gen-000000000042@toolkit.test.
public enum GeneratedTagText {
    public static func sequence(_ email: String) -> Int64? {
        guard email.hasPrefix("gen-"), email.hasSuffix("@toolkit.test") else { return nil }
        return Int64(email.dropFirst(4).dropLast("@toolkit.test".count))
    }

    public static func tag(_ sequence: Int64) -> String {
        let digits = String(sequence)
        return "gen-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// Sorted sequence numbers as ranges: [42, 43, 44, 50] → ["gen-…42..gen-…44", "gen-…50"].
    public static func ranges(_ sorted: [Int64]) -> [String] {
        var result: [String] = []
        var start: Int64?
        var previous: Int64 = 0
        func flush() {
            guard let first = start else { return }
            result.append(first == previous ? tag(first) : "\(tag(first))..\(tag(previous))")
        }
        for value in sorted {
            if let _ = start, value == previous + 1 || value == previous {
                previous = value
                continue
            }
            flush()
            start = value
            previous = value
        }
        flush()
        return result
    }
}
