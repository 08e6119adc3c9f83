import Foundation
import Verification

/// What to compare, from `toolkit verify`'s flags.
public struct VerifyRequest: Sendable {
    /// Tables named with `--table`; empty = every source table but the toolkit's bookkeeping (`BookkeepingTables`).
    public var tables: [String] = []
    public var profile: Profile = .auto
    /// `--key`; nil = the source's primary key.
    public var key: [String]?
    /// `--columns`; nil = every column both sides have.
    public var columns: [String]?
    /// `--changelog` (implied by the singer and debezium profiles for files).
    public var changeLog = false
    /// Keys (as `Row.key`) deleted at the source per table (lower case) that the destination may
    /// keep: a query-based sync cannot see deletes. Counted as `deletes_not_propagated`.
    public var deletedAtSource: [String: Set<String>]?

    public init() {}
}

/// Reads the source (one consistent snapshot) and a destination, and compares them table by table.
public final class Verifier {
    public let source: MySQLTables
    public let destination: TableSource
    public let request: VerifyRequest
    private var destinationIsFile: Bool { destination is FileTables }

    public init(source: MySQLTables, destination: TableSource, request: VerifyRequest) {
        self.source = source
        self.destination = destination
        self.request = request
    }

    public struct Pass: Sendable {
        public var tables: [TableReport]
        public var notReplicatedTables: [String]
        /// Every table the destination has, as it spells them.
        public var destinationTables: [String] = []

        /// Not one of the source's tables is at the destination: a pipeline that replicated
        /// nothing does not match, whatever else the destination holds.
        public var nothingReplicated: Bool { tables.isEmpty && !notReplicatedTables.isEmpty }

        /// The one line `verify` reports for it: what was looked for, what was found.
        public var nothingReplicatedError: String {
            let found = destinationTables.isEmpty ? "no tables" : "only " + destinationTables.sorted().joined(separator: ", ")
            return "no table of the source is at the destination: looked for \(notReplicatedTables.joined(separator: ", ")), found \(found)"
        }
    }

    /// One full comparison of every table.
    public func run() throws -> Pass {
        let sourceTables = try source.tableNames().filter { !BookkeepingTables.contains($0) }
        var selected: [(name: String, named: Bool)]
        if request.tables.isEmpty {
            selected = sourceTables.map { ($0, false) }
        } else {
            selected = try request.tables.map { wanted in
                guard let found = sourceTables.first(where: { $0.lowercased() == wanted.lowercased() }) else {
                    throw ReadError("--table \(wanted): the source database \(source.database) has no such table", usage: true)
                }
                return (found, true)
            }
        }
        if let files = destination as? FileTables { try files.bind(sourceTables: sourceTables, database: source.database) }
        if let command = destination as? ExecTables { command.bind(sourceTables: selected.map(\.name), database: source.database) }
        let destinationTables = try destination.tableNames()
        try source.beginSnapshot()
        defer { source.endSnapshot() }
        var reports: [TableReport] = []
        var notReplicated: [String] = []
        for (table, named) in selected {
            var destinationName = destinationTables.first { $0.lowercased() == table.lowercased() }
            if destinationName == nil, named, let files = destination as? FileTables, !files.files(of: table).isEmpty {
                destinationName = table // PATH is the table's file itself
            }
            guard let destinationName else {
                if named {
                    reports.append(try absent(table))
                } else {
                    notReplicated.append(table)
                }
                continue
            }
            reports.append(try compare(table, destinationName))
        }
        return Pass(tables: reports, notReplicatedTables: notReplicated, destinationTables: destinationTables)
    }

    /// A named table the destination does not have: every source row is missing.
    private func absent(_ table: String) throws -> TableReport {
        let columns = try source.columns(of: table)
        let key = try keyColumns(table, columns)
        let shape = TableShape(table: table, columns: columns.map { ComparedColumn(name: $0.name, kind: $0.kind) },
                               key: key.compactMap { name in columns.firstIndex { $0.name.lowercased() == name.lowercased() } })
        let rows = try source.rows(of: table, columns: columns, shape: shape)
        return Comparison.compare(shape, profile: request.profile, source: rows, destination: []).report
    }

    private func keyColumns(_ table: String, _ columns: [DeclaredColumn]) throws -> [String] {
        try requireKnown(request.columns, flag: "--columns", table, columns)
        if let key = request.key {
            try requireKnown(key, flag: "--key", table, columns)
            return key
        }
        return try source.primaryKey(of: table)
    }

    /// A name in --key or --columns that the source table does not have is a typo, not a column to skip.
    private func requireKnown(_ names: [String]?, flag: String, _ table: String, _ columns: [DeclaredColumn]) throws {
        for name in names ?? [] where !columns.contains(where: { $0.name.lowercased() == name.lowercased() }) {
            throw ReadError("\(flag) \(name): table \(table) has no such column (it has \(columns.map(\.name).joined(separator: ", ")))",
                            usage: true)
        }
    }

    private struct Plan {
        var shape: TableShape
        var profile: Profile
        var sourceColumns: [DeclaredColumn]
        var destinationColumns: [DeclaredColumn]
        var markers: [DeclaredColumn]
        var formats: [ValueFormat]
        var changeLog: Bool
        var destinationName: String
    }

    private func plan(_ table: String, _ destinationName: String) throws -> Plan {
        let sourceColumns = try source.columns(of: table)
        let destinationAll = try destination.columns(of: destinationName)
        let profile = request.profile == .auto ? Profile.detect(columns: destinationAll.map(\.name)) : request.profile
        var byName: [String: DeclaredColumn] = [:]
        for column in destinationAll where !profile.isMetadata(column.name) { byName[column.name.lowercased()] = column }
        let key = try keyColumns(table, sourceColumns).map { $0.lowercased() }
        let wanted = request.columns.map { Set($0.map { $0.lowercased() }).union(key) }
        var compared: [DeclaredColumn] = []
        var atDestination: [DeclaredColumn] = []
        var notReplicated: [String] = []
        for column in sourceColumns {
            let lower = column.name.lowercased()
            if let wanted, !wanted.contains(lower) { continue }
            if let other = byName[lower] {
                compared.append(column)
                atDestination.append(other)
            } else {
                notReplicated.append(column.name)
            }
        }
        for name in key where !compared.contains(where: { $0.name.lowercased() == name }) {
            throw ReadError("table \(table): key column \(name) is not at the destination")
        }
        let shape = TableShape(table: table, columns: compared.map { ComparedColumn(name: $0.name, kind: $0.kind) },
                               key: key.compactMap { name in compared.firstIndex { $0.name.lowercased() == name } },
                               notReplicatedColumns: notReplicated)
        let markerNames = profile.markerColumns(in: destinationAll.map(\.name))
        let markers = destinationAll.filter { markerNames.contains($0.name) }
        let changeLog = destinationIsFile && (request.changeLog || profile.impliesChangeLog)
        return Plan(shape: shape, profile: profile, sourceColumns: compared, destinationColumns: atDestination,
                    markers: markers, formats: atDestination.map { destination.format(of: $0) },
                    changeLog: changeLog, destinationName: destinationName)
    }

    /// The destination's live rows, indexed by key on the thread that read them.
    private struct Read {
        var rows: [Row]
        var redelivered: Int
        var index: DestinationIndex?
    }

    private func compare(_ table: String, _ destinationName: String) throws -> TableReport {
        let plan = try plan(table, destinationName)
        // Both sides are read at the same time, each on its own connection.
        let destinationRead = ConcurrentRead { [self] in
            let read = try destinationRows(plan) { body in
                try destination.forEachRow(of: destinationName, columns: plan.destinationColumns + plan.markers, body)
            }
            return Read(rows: read.rows, redelivered: read.redelivered,
                        index: plan.shape.key.isEmpty ? nil : DestinationIndex(read.rows))
        }
        let sourceRows = try source.rows(of: table, columns: plan.sourceColumns, shape: plan.shape)
        let read = try destinationRead.value()
        let deleted = request.deletedAtSource.map { $0[table.lowercased()] ?? [] }
        var report = try Comparison.compareRechecking(plan.shape, profile: plan.profile, source: sourceRows, destination: read.rows,
                                                      index: read.index, deletedAtSource: deleted) { keys in try reread(plan, keys) }
        if plan.changeLog { report.redelivered = read.redelivered }
        return report
    }

    /// The live rows among what the destination returned (folded first when it is a change log).
    private func destinationRows(_ plan: Plan, _ raw: [[String?]]) -> (rows: [Row], redelivered: Int) {
        destinationRows(plan) { body in raw.forEach(body) }
    }

    /// The live rows among the rows `produce` hands over, normalised one by one as they are read.
    private func destinationRows(_ plan: Plan, _ produce: (([String?]) -> Void) throws -> Void) rethrows -> (rows: [Row], redelivered: Int) {
        let count = plan.destinationColumns.count
        let markerNames = plan.markers.map { $0.name.lowercased() }
        func markers(_ values: [String?]) -> [String: String?] {
            var result: [String: String?] = [:]
            for (index, name) in markerNames.enumerated() { result[name] = values[count + index] }
            return result
        }
        var rows: [Row] = []
        if plan.changeLog {
            var lines: [ChangeLog.Line] = []
            try produce { values in
                let row = plan.shape.row(Array(values[0..<count]), formats: plan.formats)
                lines.append(ChangeLog.Line(key: row.key, signature: Array(values[0..<count]),
                                            isDelete: !plan.profile.isLive(markers: markers(values)), row: row))
            }
            let folded = ChangeLog.fold(lines)
            return (folded.rows, folded.redelivered)
        }
        try produce { values in
            // Marker columns follow the compared ones; `row` reads only the first `count` values.
            if markerNames.isEmpty || plan.profile.isLive(markers: markers(values)) {
                rows.append(plan.shape.row(values, formats: plan.formats))
            }
        }
        return (rows, 0)
    }

    /// The differing keys read again on both sides, outside the snapshot.
    private func reread(_ plan: Plan, _ keys: Set<String>) throws -> (source: [Row], destination: [Row])? {
        let shape = plan.shape
        guard !shape.key.isEmpty else { return nil }
        let columns = plan.destinationColumns + plan.markers
        if shape.key.count == 1, shape.columns[shape.key[0]].kind == .integer, !plan.changeLog {
            let numbers = keys.compactMap { Int64($0) }
            let keyIndex = shape.key[0]
            if numbers.count == keys.count,
               let sourceRaw = try source.rows(of: shape.table, columns: plan.sourceColumns,
                                               keyColumn: plan.sourceColumns[keyIndex], in: numbers),
               let destinationRaw = try destination.rows(of: plan.destinationName, columns: columns,
                                                         keyColumn: plan.destinationColumns[keyIndex], in: numbers) {
                return (sourceRaw.map { shape.row($0, formats: [ValueFormat()]) }, destinationRows(plan, destinationRaw).rows)
            }
        }
        let sourceRaw = try source.freshRows(of: shape.table, columns: plan.sourceColumns)
        let destinationRaw = try destination.rows(of: plan.destinationName, columns: columns)
        return (sourceRaw.map { shape.row($0, formats: [ValueFormat()]) }, destinationRows(plan, destinationRaw).rows)
    }
}

/// Work started on a thread of its own; `value()` waits for its result.
final class ConcurrentRead<T>: @unchecked Sendable {
    private var result: Result<T, Error>?
    private let done = DispatchSemaphore(value: 0)
    private let work: () throws -> T

    init(_ work: @escaping () throws -> T) {
        self.work = work
        let thread = Thread { [self] in
            result = Result { try self.work() }
            done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func value() throws -> T {
        done.wait()
        return try result!.get()
    }
}
