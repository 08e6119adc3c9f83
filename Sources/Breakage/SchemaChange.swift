import Flavor
import Foundation
import Infrastructure
import MariaDB
import Source

/// `toolkit schema-change`: the DDL a CDC reader must follow. The statements are planned from
/// what the table holds now (pure, see `SchemaChangePlanner`), then run one by one.
public enum SchemaChangeKind: String, Codable, Sendable, CaseIterable {
    case addColumn = "add-column", dropColumn = "drop-column", alterColumn = "alter-column"
    case createTable = "create-table", dropTable = "drop-table", renameTable = "rename-table"
    case renameColumn = "rename-column", truncateTable = "truncate-table"
    case addColumnWithDefault = "add-column-with-default", changeEnum = "change-enum"

    /// Changes that work on a table the toolkit created when --table is not given.
    public var defaultsToToolkitTable: Bool { [.dropTable, .renameTable, .truncateTable].contains(self) }
}

/// What a table looks like to the planner.
public struct TableShape: Sendable, Hashable {
    public struct Column: Sendable, Hashable {
        public var name: String
        public var type: String
        public var nullable: Bool
        public var defaultValue: String?
        public init(name: String, type: String, nullable: Bool = true, defaultValue: String? = nil) {
            self.name = name
            self.type = type
            self.nullable = nullable
            self.defaultValue = defaultValue
        }
    }
    public var name: String
    public var columns: [Column]
    public init(name: String, columns: [Column]) { self.name = name; self.columns = columns }
}

public struct SchemaChangePlanner: Sendable {
    public static let columnPrefix = "tk_col_"
    public static let tablePrefix = "tk_table_"

    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case noSuchTable(String)
        case tableExists(String)
        case nothingToChange(String)
        case protectedTable(String)
        public var description: String {
            switch self {
            case .noSuchTable(let table): return "table '\(table)' does not exist"
            case .tableExists(let table): return "table '\(table)' already exists"
            case .nothingToChange(let reason): return reason
            case .protectedTable(let table): return "schema-change leaves the toolkit's own table '\(table)' alone"
            }
        }
    }

    /// The toolkit's bookkeeping tables (its version, the soak's heartbeat), which no schema change touches.
    public static let protectedTables: Set<String> = ["_toolkit_meta", "_toolkit_heartbeat"]

    /// The next free `prefix<N>` names after every existing one, `count` of them.
    public static func nextNames(prefix: String, existing: [String], count: Int) -> [String] {
        let highest = existing.compactMap { name -> Int? in
            guard name.lowercased().hasPrefix(prefix) else { return nil }
            return Int(name.dropFirst(prefix.count).prefix { $0.isNumber })
        }.max() ?? 0
        return (1...max(1, count)).map { "\(prefix)\(highest + $0)" }
    }

    /// Names made by the toolkit (`prefix<N>...`), newest (highest N) first.
    public static func toolkitNames(prefix: String, in names: [String]) -> [String] {
        names.filter { $0.lowercased().hasPrefix(prefix) && $0.dropFirst(prefix.count).first?.isNumber == true }
            .sorted { (Int($0.dropFirst(prefix.count).prefix { $0.isNumber }) ?? 0) > (Int($1.dropFirst(prefix.count).prefix { $0.isNumber }) ?? 0) }
    }

    /// The values of an `enum('a','b')` column type; quotes inside values are doubled.
    public static func enumValues(_ columnType: String) -> [String]? {
        let text = columnType.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("enum("), text.hasSuffix(")") else { return nil }
        let inner = Array(text.dropFirst(5).dropLast())
        var values: [String] = []
        var index = 0
        while index < inner.count {
            guard inner[index] == "'" else { index += 1; continue }
            var value = ""
            index += 1
            while index < inner.count {
                if inner[index] == "'" {
                    if index + 1 < inner.count && inner[index + 1] == "'" { value.append("'"); index += 2; continue }
                    break
                }
                if inner[index] == "\\" && index + 1 < inner.count { value.append(inner[index + 1]); index += 2; continue }
                value.append(inner[index])
                index += 1
            }
            values.append(value)
            index += 1
        }
        return values
    }

    /// The DDL for `count` changes of `kind`. `table` is the table named by --table (nil: the default),
    /// `tables` every table in the database, `shape` the target table's columns when it exists.
    public static func plan(_ kind: SchemaChangeKind, table: String?, count: Int, tables: [String],
                            shape: TableShape?, column: String? = nil) throws(Problem) -> [String] {
        let quote = SQLText.identifier
        func requireShape() throws(Problem) -> TableShape {
            guard let shape else { throw .noSuchTable(table ?? "users") }
            if protectedTables.contains(shape.name) { throw .protectedTable(shape.name) }
            return shape
        }
        func toolkitColumns(_ shape: TableShape) throws(Problem) -> [String] {
            if let column {
                guard shape.columns.contains(where: { $0.name == column }) else {
                    throw .nothingToChange("table '\(shape.name)' has no column '\(column)'")
                }
                return [column]
            }
            let names = toolkitNames(prefix: columnPrefix, in: shape.columns.map(\.name))
            guard !names.isEmpty else {
                throw .nothingToChange("table '\(shape.name)' has no column added by schema-change (\(columnPrefix)N); run --type add-column first, or name one with --column")
            }
            return Array(names.prefix(count))
        }
        switch kind {
        case .addColumn, .addColumnWithDefault:
            let shape = try requireShape()
            return nextNames(prefix: columnPrefix, existing: shape.columns.map(\.name), count: count).map { name in
                kind == .addColumn
                    ? "ALTER TABLE \(quote(shape.name)) ADD COLUMN \(quote(name)) VARCHAR(255) NULL"
                    : "ALTER TABLE \(quote(shape.name)) ADD COLUMN \(quote(name)) VARCHAR(64) NOT NULL DEFAULT 'toolkit-default'"
            }
        case .dropColumn:
            let shape = try requireShape()
            return try toolkitColumns(shape).map { "ALTER TABLE \(quote(shape.name)) DROP COLUMN \(quote($0))" }
        case .alterColumn:
            let shape = try requireShape()
            return try toolkitColumns(shape).map { "ALTER TABLE \(quote(shape.name)) MODIFY COLUMN \(quote($0)) TEXT NULL" }
        case .renameColumn:
            let shape = try requireShape()
            var taken = shape.columns.map(\.name)
            return try toolkitColumns(shape).map { old in
                let new = nextNames(prefix: columnPrefix, existing: taken, count: 1)[0]
                taken.append(new)
                return "ALTER TABLE \(quote(shape.name)) RENAME COLUMN \(quote(old)) TO \(quote(new))"
            }
        case .changeEnum:
            let shape = try requireShape()
            guard let enumColumn = shape.columns.first(where: { column == nil ? enumValues($0.type) != nil : $0.name == column }),
                  var values = enumValues(enumColumn.type) else {
                throw .nothingToChange("table '\(shape.name)' has no ENUM column" + (column.map { " named '\($0)'" } ?? ""))
            }
            var statements: [String] = []
            for _ in 0..<count {
                values.append(nextNames(prefix: "tk_value_", existing: values, count: 1)[0])
                var ddl = "ALTER TABLE \(quote(shape.name)) MODIFY COLUMN \(quote(enumColumn.name)) ENUM("
                    + values.map(SQLText.literal).joined(separator: ",") + ")"
                ddl += enumColumn.nullable ? " NULL" : " NOT NULL"
                if let value = enumColumn.defaultValue { ddl += " DEFAULT \(SQLText.literal(value))" }
                statements.append(ddl)
            }
            return statements
        case .createTable:
            let names: [String]
            if let table {
                guard !tables.contains(table) else { throw .tableExists(table) }
                names = [table] + (count > 1 ? nextNames(prefix: tablePrefix, existing: tables, count: count - 1) : [])
            } else {
                names = nextNames(prefix: tablePrefix, existing: tables, count: count)
            }
            return names.map {
                "CREATE TABLE \(quote($0)) (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, "
                    + "created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            }
        case .dropTable, .renameTable, .truncateTable:
            let targets: [String]
            if let table {
                guard tables.contains(table) else { throw .noSuchTable(table) }
                targets = [table]
            } else {
                targets = Array(toolkitNames(prefix: tablePrefix, in: tables).prefix(count))
                guard !targets.isEmpty else {
                    throw .nothingToChange("no table created by schema-change (\(tablePrefix)N) to \(kind.rawValue.replacingOccurrences(of: "-table", with: "")); run --type create-table first, or name one with --table")
                }
            }
            if let protected = targets.first(where: protectedTables.contains) { throw .protectedTable(protected) }
            var taken = tables
            return targets.map { old in
                switch kind {
                case .dropTable: return "DROP TABLE \(quote(old))"
                case .truncateTable: return "TRUNCATE TABLE \(quote(old))"
                default:
                    let new = nextNames(prefix: tablePrefix, existing: taken, count: 1)[0]
                    taken.append(new)
                    return "RENAME TABLE \(quote(old)) TO \(quote(new))"
                }
            }
        }
    }
}

/// Runs a schema change against the server.
public struct SchemaChange {
    public struct Result: Codable, Sendable, CustomStringConvertible {
        public var type: SchemaChangeKind
        public var database: String
        public var statements: [String]
        public var binlogFile: String?
        public var gtid: String?
        public var description: String {
            (["Ran \(statements.count) DDL statement\(statements.count == 1 ? "" : "s") on \(database) (\(type.rawValue)):"]
                + statements.map { "  \($0);" }
                + (gtid.map { ["  GTID after: \($0)"] } ?? [])).joined(separator: "\n")
        }
    }

    let target: Target
    public init(target: Target) { self.target = target }

    public func run(_ kind: SchemaChangeKind, table: String?, count: Int, column: String?) throws -> Result {
        let connection = try target.connect(database: target.database)
        defer { connection.close() }
        let database = target.database
        let statements: [String] = try doing("reading the schema of \(database)") {
            let tables = try connection.query(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'",
                [.text(database)]).rows.compactMap { $0[0] }
            let name = kind.defaultsToToolkitTable || kind == .createTable ? table : (table ?? "users")
            var shape: TableShape?
            if let name, tables.contains(name) {
                let columns = try connection.query(
                    "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS "
                        + "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                    [.text(database), .text(name)]).rows.map { row in
                        TableShape.Column(name: row[0] ?? "", type: row[1] ?? "", nullable: row[2] == "YES",
                                          defaultValue: Self.unquotedDefault(row[3]))
                    }
                shape = TableShape(name: name, columns: columns)
            }
            do {
                return try SchemaChangePlanner.plan(kind, table: name, count: count, tables: tables, shape: shape, column: column)
            } catch let problem as SchemaChangePlanner.Problem {
                throw ToolkitError(problem.description)
            }
        }
        var ran: [String] = []
        for statement in statements {
            do {
                try connection.execute(statement)
            } catch {
                throw ToolkitError.server("running \(statement)" + (ran.isEmpty ? "" : " (after \(ran.count) that succeeded)"), error)
            }
            ran.append(statement)
            ActionJournal.note(target, command: "schema-change", statement)
        }
        let gtid = try? connection.gtidExecuted()
        return Result(type: kind, database: database, statements: ran, binlogFile: try? connection.currentBinlogFile(), gtid: gtid)
    }

    /// information_schema shows MariaDB defaults as SQL ('active', NULL, current_timestamp()); MySQL shows them bare.
    static func unquotedDefault(_ raw: String?) -> String? {
        guard let raw, raw != "NULL" else { return nil }
        if raw.hasPrefix("'") && raw.hasSuffix("'") && raw.count >= 2 {
            return String(raw.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
        }
        return raw
    }
}
