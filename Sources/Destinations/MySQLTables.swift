import Flavor
import MariaDB
import Verification

/// Tables of a MySQL/MariaDB database: the source (read in one consistent snapshot) or a MySQL destination.
/// The session runs in UTC so that TIMESTAMP values come out as UTC.
public final class MySQLTables: TableSource {
    public let database: String
    private let options: ConnectionOptions
    private var connection: MariaDBConnection?
    /// The connection that reads outside the snapshot (re-checks).
    private var freshConnection: MariaDBConnection?
    private var inSnapshot = false

    public init(options: ConnectionOptions, database: String) {
        var options = options
        options.database = database
        options.readTimeoutSeconds = options.readTimeoutSeconds ?? 120
        self.options = options
        self.database = database
    }

    deinit { close() }

    public func close() {
        connection?.close()
        freshConnection?.close()
        connection = nil
        freshConnection = nil
    }

    /// Starts one consistent snapshot: every table read until `endSnapshot` sees the same instant.
    public func beginSnapshot() throws {
        let connection = try open()
        try run("starting a consistent snapshot") {
            try connection.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            try connection.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        }
        inSnapshot = true
    }

    public func endSnapshot() {
        if inSnapshot, let connection { _ = try? connection.execute("COMMIT") }
        inSnapshot = false
    }

    public func tableNames() throws -> [String] {
        let connection = try open()
        return try run("listing the tables of \(database)") {
            try connection.query(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
                [.text(database)]).rows.compactMap { $0[0] }
        }
    }

    public func columns(of table: String) throws -> [DeclaredColumn] {
        let connection = try open()
        return try run("reading the columns of \(database).\(table)") {
            let json = Set(try connection.query(
                "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?",
                [.text(database), .text(table)]).rows.compactMap { row -> String? in
                    // MariaDB's JSON is LONGTEXT with CHECK (json_valid(`col`)).
                    guard let clause = row[0], clause.lowercased().hasPrefix("json_valid(") else { return nil }
                    return clause.dropFirst("json_valid(".count).filter { $0 != "`" && $0 != ")" }.lowercased()
                })
            return try connection.query(
                """
                SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, DATETIME_PRECISION FROM information_schema.COLUMNS
                WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION
                """, [.text(database), .text(table)]).rows.map { row in
                    let name = row[0] ?? ""
                    let digits = row[3].flatMap { Int($0) }
                    let kind = ColumnKind.mysql(dataType: row[1] ?? "", columnType: row[2] ?? "", datetimePrecision: digits,
                                                isJSON: json.contains(name.lowercased()))
                    return DeclaredColumn(name: name, dataType: (row[1] ?? "").lowercased(), kind: kind, instantDigits: digits)
                }
        }
    }

    /// The primary key's columns, in key order; empty when the table has none.
    public func primaryKey(of table: String) throws -> [String] {
        let connection = try open()
        return try run("reading the primary key of \(database).\(table)") {
            try connection.query(
                """
                SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
                WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION
                """, [.text(database), .text(table)]).rows.compactMap { $0[0] }
        }
    }

    public func forEachRow(of table: String, columns: [DeclaredColumn], _ body: ([String?]) throws -> Void) throws {
        let connection = try open()
        try run("reading \(database).\(table)") {
            try connection.forEachRow("SELECT \(selectList(columns)) FROM \(SQLText.identifier(table))", body)
        }
    }

    /// Every row, normalised as it arrives.
    public func rows(of table: String, columns: [DeclaredColumn], shape: TableShape) throws -> [Row] {
        var rows: [Row] = []
        let formats = [ValueFormat()]
        try forEachRow(of: table, columns: columns) { rows.append(shape.row($0, formats: formats)) }
        return rows
    }

    /// Every row as it is now, outside the snapshot (a re-check of a table whose key cannot be listed).
    public func freshRows(of table: String, columns: [DeclaredColumn]) throws -> [[String?]] {
        if freshConnection == nil { freshConnection = try connect() }
        let connection = freshConnection!
        return try run("re-reading \(database).\(table)") {
            try connection.query("SELECT \(selectList(columns)) FROM \(SQLText.identifier(table))").rows
        }
    }

    public func rows(of table: String, columns: [DeclaredColumn], keyColumn: DeclaredColumn, in keys: [Int64]) throws -> [[String?]]? {
        // Outside the snapshot: a re-check wants the rows as they are now.
        if freshConnection == nil { freshConnection = try connect() }
        let connection = freshConnection!
        var rows: [[String?]] = []
        for start in stride(from: 0, to: keys.count, by: 1000) {
            let list = keys[start..<min(start + 1000, keys.count)].map(String.init).joined(separator: ",")
            rows += try run("re-reading \(database).\(table)") {
                try connection.query("SELECT \(selectList(columns)) FROM \(SQLText.identifier(table)) WHERE \(SQLText.identifier(keyColumn.name)) IN (\(list))").rows
            }
        }
        return rows
    }

    public func format(of column: DeclaredColumn) -> ValueFormat {
        ValueFormat(binary: .hex, instantDigits: column.instantDigits)
    }

    private func selectList(_ columns: [DeclaredColumn]) -> String {
        columns.map { column in
            let name = SQLText.identifier(column.name)
            switch column.dataType {
            case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob": return "HEX(\(name))"
            case "bit": return "(\(name) + 0)"
            default: return name
            }
        }.joined(separator: ", ")
    }

    private func open() throws -> MariaDBConnection {
        if let connection { return connection }
        let connection = try connect()
        self.connection = connection
        return connection
    }

    private func connect() throws -> MariaDBConnection {
        do {
            let connection = try MariaDBConnection(options)
            try connection.execute("SET SESSION time_zone = '+00:00'")
            return connection
        } catch {
            throw ReadError("connecting to \(options.endpoint): \(error)")
        }
    }

    private func run<T>(_ doing: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as MariaDBError {
            throw ReadError("\(doing) on \(options.endpoint): \(error)")
        }
    }
}
