import PostgreSQL
import Verification

/// Tables of one schema of a PostgreSQL database, read with `COPY ... TO STDOUT` in a UTC session.
/// The password is libpq's business: PGPASSWORD or ~/.pgpass.
public final class PostgresTables: TableSource {
    public let schema: String
    private let connection: PostgresConnection
    private let endpoint: String

    public init(user: String, host: String, port: Int, database: String, schema: String) throws {
        endpoint = "\(user)@\(host):\(port)/\(database)"
        self.schema = schema
        do {
            connection = try PostgresConnection(host: host, port: port, user: user, database: database)
            try connection.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1")
        } catch {
            throw ReadError("connecting to postgres://\(endpoint): \(error)")
        }
    }

    deinit { connection.close() }

    public func close() { connection.close() }

    public func tableNames() throws -> [String] {
        try run("listing the tables of schema \(schema)") {
            try connection.query("""
                SELECT table_name FROM information_schema.tables
                WHERE table_schema = \(Self.literal(schema)) AND table_type = 'BASE TABLE' ORDER BY table_name
                """).rows.compactMap { $0[0] }
        }
    }

    public func columns(of table: String) throws -> [DeclaredColumn] {
        try run("reading the columns of \(schema).\(table)") {
            try connection.query("""
                SELECT column_name, data_type, datetime_precision FROM information_schema.columns
                WHERE table_schema = \(Self.literal(schema)) AND table_name = \(Self.literal(table)) ORDER BY ordinal_position
                """).rows.map { row in
                    let type = (row[1] ?? "").lowercased()
                    let digits = type.hasPrefix("timestamp") ? row[2].flatMap { Int($0) } : nil
                    return DeclaredColumn(name: row[0] ?? "", dataType: type, kind: .text, instantDigits: digits)
                }
        }
    }

    public func forEachRow(of table: String, columns: [DeclaredColumn], _ body: ([String?]) throws -> Void) throws {
        try copy("SELECT \(selectList(columns)) FROM \(Self.identifier(schema)).\(Self.identifier(table))", table: table, body)
    }

    public func rows(of table: String, columns: [DeclaredColumn], keyColumn: DeclaredColumn, in keys: [Int64]) throws -> [[String?]]? {
        var rows: [[String?]] = []
        for start in stride(from: 0, to: keys.count, by: 1000) {
            let list = keys[start..<min(start + 1000, keys.count)].map(String.init).joined(separator: ",")
            try copy("""
                SELECT \(selectList(columns)) FROM \(Self.identifier(schema)).\(Self.identifier(table))
                WHERE \(Self.identifier(keyColumn.name)) IN (\(list))
                """, table: table) { rows.append($0) }
        }
        return rows
    }

    public func format(of column: DeclaredColumn) -> ValueFormat {
        // timestamp columns print without trailing fractional zeros: their declared precision counts.
        ValueFormat(binary: .hex, instantDigits: column.instantDigits)
    }

    private func copy(_ query: String, table: String, _ body: ([String?]) throws -> Void) throws {
        var fields: [String?] = []
        do {
            try connection.copyOut("COPY (\(query)) TO STDOUT") { line in
                CopyText.fields(line, into: &fields)
                try body(fields)
            }
        } catch let error as PostgresError {
            throw ReadError("reading \(schema).\(table) on postgres://\(endpoint): \(error)")
        }
    }

    private func selectList(_ columns: [DeclaredColumn]) -> String {
        columns.map { column in
            let name = Self.identifier(column.name)
            return column.dataType == "bytea" ? "encode(\(name), 'hex')" : name
        }.joined(separator: ", ")
    }

    private func run<T>(_ doing: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw ReadError("\(doing) on postgres://\(endpoint): \(error)")
        }
    }

    static func identifier(_ name: String) -> String {
        "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }

    static func literal(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
    }
}

/// PostgreSQL's COPY text format: tab-separated fields, `\N` for NULL, backslash escapes.
enum CopyText {
    static func fields(_ line: UnsafeRawBufferPointer) -> [String?] {
        var fields: [String?] = []
        self.fields(line, into: &fields)
        return fields
    }

    /// The fields of one line into `fields` (emptied first, its storage kept).
    static func fields(_ line: UnsafeRawBufferPointer, into fields: inout [String?]) {
        fields.removeAll(keepingCapacity: true)
        let bytes = line.bindMemory(to: UInt8.self)
        var start = 0
        var index = 0
        var escaped = false
        let count = bytes.count
        while index <= count {
            if index == count || bytes[index] == 0x09 {
                let field = UnsafeBufferPointer(rebasing: bytes[start..<index])
                if field.count == 2 && field[0] == 0x5C && field[1] == 0x4E {
                    fields.append(nil)
                } else if escaped {
                    fields.append(unescape(field))
                } else {
                    fields.append(String(decoding: field, as: UTF8.self))
                }
                start = index + 1
                escaped = false
            } else if bytes[index] == 0x5C {
                escaped = true
                if index + 1 < count { index += 1 } // the escaped byte is never a separator
            }
            index += 1
        }
    }

    private static func unescape(_ field: UnsafeBufferPointer<UInt8>) -> String {
        var current: [UInt8] = []
        current.reserveCapacity(field.count)
        var index = 0
        let count = field.count
        while index < count {
            let byte = field[index]
            guard byte == 0x5C, index + 1 < count else {
                current.append(byte)
                index += 1
                continue
            }
            index += 1
            let next = field[index]
            switch next {
            case 0x74: current.append(0x09)
            case 0x6E: current.append(0x0A)
            case 0x72: current.append(0x0D)
            case 0x62: current.append(0x08)
            case 0x66: current.append(0x0C)
            case 0x76: current.append(0x0B)
            case 0x30...0x37:
                var value = Int(next - 0x30)
                var digits = 1
                while digits < 3, index + 1 < count, (0x30...0x37).contains(field[index + 1]) {
                    index += 1
                    value = value * 8 + Int(field[index] - 0x30)
                    digits += 1
                }
                current.append(UInt8(truncatingIfNeeded: value))
            default: current.append(next)
            }
            index += 1
        }
        return String(decoding: current, as: UTF8.self)
    }
}
