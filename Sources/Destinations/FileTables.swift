import Foundation
import Verification

/// A file per table: `PATH/TABLE.jsonl` (or `.csv`) or `PATH/DB-TABLE.jsonl` (a Singer stream's
/// name), each optionally followed by `-TIMESTAMP` where a file target rotated (target-jsonl's
/// `testdb-users-20261125T100000.jsonl`), read in name order (`FileNaming`); or PATH itself when
/// it is a file (one `--table`). One line is one record.
public final class FileTables: TableSource {
    public enum Format: String, Sendable { case jsonl, csv }
    public let path: String
    public let format: Format
    private var parsed: (table: String, records: Records)?
    /// The files of each source table, once `bind` was told the source's tables.
    private var assignment: [String: [String]]?

    struct Records {
        var columns: [String] = []
        var index: [String: Int] = [:]
        var rows: [[String?]] = []

        mutating func column(_ name: String) -> Int {
            let lower = name.lowercased()
            if let found = index[lower] { return found }
            columns.append(name)
            index[lower] = columns.count - 1
            return columns.count - 1
        }

        /// Each row's values of `wanted`, in its order; nil where a row has no such value.
        func forEachRow(_ wanted: [DeclaredColumn], _ body: ([String?]) throws -> Void) rethrows {
            let positions = wanted.map { index[$0.name.lowercased()] }
            for row in rows {
                try body(positions.map { position in position.flatMap { $0 < row.count ? row[$0] : nil } })
            }
        }
    }

    public init(path: String, format: Format) {
        self.path = path
        self.format = format
    }

    private var isDirectory: Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// Which file holds which of the source's tables; throws when a file name fits two of them.
    public func bind(sourceTables: [String], database: String) throws {
        guard isDirectory else { return }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        do {
            assignment = try FileNaming.assign(names, tables: sourceTables, database: database, fileExtension: format.rawValue)
        } catch {
            throw ReadError("\(path): \(error)")
        }
    }

    /// The source tables that have a file (known once `bind` was called).
    public func tableNames() throws -> [String] {
        isDirectory ? (assignment ?? [:]).keys.sorted() : []
    }

    /// The files holding `table`, in name order.
    func files(of table: String) -> [String] {
        guard isDirectory else { return FileManager.default.fileExists(atPath: path) ? [path] : [] }
        let chosen = assignment?.first { $0.key.lowercased() == table.lowercased() }?.value ?? []
        return chosen.map { (path as NSString).appendingPathComponent($0) }
    }

    public func columns(of table: String) throws -> [DeclaredColumn] {
        let records = try read(table)
        parsed = (table, records)
        return records.columns.map { DeclaredColumn(name: $0, dataType: format.rawValue, kind: .text) }
    }

    public func forEachRow(of table: String, columns: [DeclaredColumn], _ body: ([String?]) throws -> Void) throws {
        let records: Records
        if let parsed, parsed.table == table { records = parsed.records } else { records = try read(table) }
        parsed = nil
        try records.forEachRow(columns, body)
    }

    public func rows(of table: String, columns: [DeclaredColumn], keyColumn: DeclaredColumn, in keys: [Int64]) throws -> [[String?]]? {
        nil
    }

    public func format(of column: DeclaredColumn) -> ValueFormat {
        ValueFormat(binary: .base64, instantDigits: nil)
    }

    private func read(_ table: String) throws -> Records {
        var records = Records()
        for file in files(of: table) {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ReadError("cannot read \(file)")
            }
            switch format {
            case .jsonl: try JSONLines.read(data, file: file, into: &records)
            case .csv: try CSVFile.read(data, file: file, into: &records)
            }
        }
        return records
    }
}

/// One JSON object per line. Scalars are kept as their text (numbers exactly as written), nested
/// objects and arrays as their JSON text, `null` as NULL.
enum JSONLines {
    static func read(_ data: Data, file: String, into records: inout FileTables.Records) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            let bytes = buffer.bindMemory(to: UInt8.self)
            var start = 0
            var lineNumber = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != 0x0A { end += 1 }
                lineNumber += 1
                var parser = Parser(bytes: bytes, position: start, end: end)
                parser.skipSpace()
                if parser.position < end {
                    guard let pairs = parser.object() else {
                        throw ReadError("\(file) line \(lineNumber): not a JSON object")
                    }
                    var row: [String?] = Array(repeating: nil, count: records.columns.count)
                    for (name, value) in pairs {
                        let column = records.column(name)
                        if column >= row.count { row += Array(repeating: nil, count: column - row.count + 1) }
                        row[column] = value
                    }
                    records.rows.append(row)
                }
                start = end + 1
            }
        }
    }

    struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var position: Int
        let end: Int

        mutating func skipSpace() {
            while position < end, [0x20, 0x09, 0x0D].contains(bytes[position]) { position += 1 }
        }

        mutating func object() -> [(String, String?)]? {
            guard position < end, bytes[position] == 0x7B else { return nil }
            position += 1
            var pairs: [(String, String?)] = []
            skipSpace()
            if position < end, bytes[position] == 0x7D { position += 1; return pairs }
            while true {
                skipSpace()
                guard let name = string() else { return nil }
                skipSpace()
                guard position < end, bytes[position] == 0x3A else { return nil }
                position += 1
                skipSpace()
                guard let value = value() else { return nil }
                pairs.append((name, value))
                skipSpace()
                guard position < end else { return nil }
                if bytes[position] == 0x2C { position += 1; continue }
                if bytes[position] == 0x7D { position += 1; return pairs }
                return nil
            }
        }

        /// A value's text; `.some(nil)` for null.
        mutating func value() -> String?? {
            guard position < end else { return nil }
            switch bytes[position] {
            case 0x22:
                guard let text = string() else { return nil }
                return .some(text)
            case 0x7B, 0x5B:
                let start = position
                guard skipNested() else { return nil }
                return .some(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
            default:
                let start = position
                while position < end, ![0x2C, 0x7D, 0x5D, 0x20, 0x09, 0x0D].contains(bytes[position]) { position += 1 }
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                if text == "null" { return .some(nil) }
                return text.isEmpty ? nil : .some(text)
            }
        }

        mutating func skipNested() -> Bool {
            var depth = 0
            while position < end {
                let byte = bytes[position]
                if byte == 0x22 {
                    guard string() != nil else { return false }
                    continue
                }
                if byte == 0x7B || byte == 0x5B { depth += 1 }
                if byte == 0x7D || byte == 0x5D {
                    depth -= 1
                    if depth == 0 { position += 1; return true }
                }
                position += 1
            }
            return false
        }

        mutating func string() -> String? {
            guard position < end, bytes[position] == 0x22 else { return nil }
            position += 1
            let start = position
            // Fast path: no escapes.
            while position < end, bytes[position] != 0x22, bytes[position] != 0x5C { position += 1 }
            if position < end, bytes[position] == 0x22 {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                position += 1
                return text
            }
            var out = Array(bytes[start..<position])
            while position < end {
                let byte = bytes[position]
                if byte == 0x22 { position += 1; return String(decoding: out, as: UTF8.self) }
                if byte != 0x5C { out.append(byte); position += 1; continue }
                position += 1
                guard position < end else { return nil }
                let escaped = bytes[position]
                position += 1
                switch escaped {
                case 0x6E: out.append(0x0A)
                case 0x74: out.append(0x09)
                case 0x72: out.append(0x0D)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x75:
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar), position + 1 < end, bytes[position] == 0x5C, bytes[position + 1] == 0x75 {
                        position += 2
                        guard let low = hex4() else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    out += Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
                default: out.append(escaped)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard position + 4 <= end else { return nil }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<(position + 4)]), as: UTF8.self)
            position += 4
            return UInt32(text, radix: 16)
        }
    }
}

/// CSV with a header row (RFC 4180 quoting). NULL is an empty unquoted field or `\N`; `""` is the
/// empty string. With `nullText` (DuckDB's and SnowSQL's `NULL`) NULL is that unquoted text or `\N`,
/// and an empty field is the empty string.
enum CSVFile {
    static func read(_ data: Data, file: String, nullText: String? = nil, into records: inout FileTables.Records) throws {
        let null = nullText.map { Array($0.utf8) }
        var header: [Int]?
        var row: [String?] = []
        var field: [UInt8] = []
        var quoted = false
        var inQuotes = false
        var index = data.startIndex
        var line = 1, rowLine = 1
        func endField() {
            if !quoted && (field == [0x5C, 0x4E] || (null.map { field == $0 } ?? field.isEmpty)) {
                row.append(nil)
            } else {
                row.append(String(decoding: field, as: UTF8.self))
            }
            field.removeAll(keepingCapacity: true)
            quoted = false
        }
        func endRow() throws {
            endField()
            if let header {
                guard row.count <= header.count else {
                    throw ReadError("\(file) line \(rowLine): \(row.count) fields, the header names \(header.count)")
                }
                var aligned: [String?] = Array(repeating: nil, count: records.columns.count)
                for (position, value) in row.enumerated() where position < header.count { aligned[header[position]] = value }
                records.rows.append(aligned)
            } else {
                header = row.map { records.column($0 ?? "") }
            }
            row.removeAll(keepingCapacity: true)
        }
        while index < data.endIndex {
            let byte = data[index]
            index += 1
            if byte == 0x0A { line += 1 }
            if inQuotes {
                if byte == 0x22 {
                    if index < data.endIndex, data[index] == 0x22 { field.append(0x22); index += 1 } else { inQuotes = false }
                } else {
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case 0x22: inQuotes = true; quoted = true
            case 0x2C: endField()
            case 0x0A:
                if field.last == 0x0D { field.removeLast() }
                if row.isEmpty && field.isEmpty && !quoted { rowLine = line; continue } // blank line
                try endRow()
                rowLine = line
            default: field.append(byte)
            }
        }
        if inQuotes { throw ReadError("\(file) line \(rowLine): a quoted field is not closed") }
        if !row.isEmpty || !field.isEmpty || quoted { try endRow() }
    }
}
