import CLibPQ
import Foundation

/// An error reported by PostgreSQL or libpq, captured at the moment of failure.
public struct PostgresError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The five-character SQLSTATE, or "" when libpq failed before the server answered.
    public let sqlState: String
    public let message: String

    public init(sqlState: String, message: String) {
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String {
        sqlState.isEmpty ? message : "ERROR \(sqlState): \(message)"
    }
}

/// One libpq connection. Blocking: never call it from an event loop. Close it with `close()`.
///
/// The password is never passed in: libpq finds it itself in `PGPASSWORD` or `~/.pgpass`,
/// and honours `PGSSLMODE` and the other `PG*` variables, exactly as `psql` does.
public final class PostgresConnection {
    private var handle: OpaquePointer?

    public init(host: String, port: Int, user: String, database: String, connectTimeoutSeconds: Int = 5) throws(PostgresError) {
        let keywords = ["host", "port", "user", "dbname", "connect_timeout", "application_name", "client_encoding"]
        let values = [host, String(port), user, database, String(connectTimeoutSeconds), "toolkit verify", "UTF8"]
        let connection = Self.connect(keywords, values)
        guard let connection else {
            throw PostgresError(sqlState: "", message: "libpq could not allocate a connection")
        }
        if PQstatus(connection) != CONNECTION_OK {
            let error = PostgresError(sqlState: "", message: Self.text(PQerrorMessage(connection)))
            PQfinish(connection)
            throw error
        }
        handle = connection
    }

    deinit { close() }

    /// Closes the connection. Safe to call twice.
    public func close() {
        if let handle {
            PQfinish(handle)
            self.handle = nil
        }
    }

    /// Runs statements that return no rows.
    public func execute(_ sql: String) throws(PostgresError) {
        let result = try run(sql)
        PQclear(result)
    }

    /// Runs a query and reads every row as text (NULL stays nil).
    public func query(_ sql: String) throws(PostgresError) -> (columns: [String], rows: [[String?]]) {
        let result = try run(sql)
        defer { PQclear(result) }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { Self.text(PQfname(result, Int32($0))) }
        var rows: [[String?]] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<Int32(rowCount) {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    values.append(nil)
                } else {
                    let length = Int(PQgetlength(result, row, column))
                    let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: length)
                    values.append(String(decoding: bytes, as: UTF8.self))
                }
            }
            rows.append(values)
        }
        return (columns, rows)
    }

    /// Runs `COPY (query) TO STDOUT` and hands every data line (text format, without its newline) to `line`.
    public func copyOut(_ copyStatement: String, line: (UnsafeRawBufferPointer) throws -> Void) throws {
        let connection = try openHandle()
        let result = try run(copyStatement, expecting: PGRES_COPY_OUT)
        PQclear(result)
        var buffer: UnsafeMutablePointer<CChar>?
        while true {
            let length = PQgetCopyData(connection, &buffer, 0)
            if length == -1 { break }
            if length == -2 {
                throw PostgresError(sqlState: "", message: Self.text(PQerrorMessage(connection)))
            }
            defer { PQfreemem(buffer) }
            var count = Int(length)
            if count > 0, buffer![count - 1] == 0x0A { count -= 1 }
            try line(UnsafeRawBufferPointer(start: buffer, count: count))
        }
        // The command's final status.
        while let final = PQgetResult(connection) {
            defer { PQclear(final) }
            if PQresultStatus(final) != PGRES_COMMAND_OK { throw Self.error(of: final, connection) }
        }
    }

    // MARK: - Internals

    private func openHandle() throws(PostgresError) -> OpaquePointer {
        guard let handle else { throw PostgresError(sqlState: "", message: "connection is closed") }
        return handle
    }

    private func run(_ sql: String, expecting: ExecStatusType? = nil) throws(PostgresError) -> OpaquePointer {
        let connection = try openHandle()
        guard let result = PQexec(connection, sql) else {
            throw PostgresError(sqlState: "", message: Self.text(PQerrorMessage(connection)))
        }
        let status = PQresultStatus(result)
        let ok = expecting.map { status == $0 } ?? (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        if !ok {
            let error = Self.error(of: result, connection)
            PQclear(result)
            throw error
        }
        return result
    }

    private static func error(of result: OpaquePointer, _ connection: OpaquePointer) -> PostgresError {
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? ""
        var message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) } ?? ""
        if message.isEmpty { message = text(PQerrorMessage(connection)) }
        return PostgresError(sqlState: state, message: message)
    }

    private static func connect(_ keywords: [String], _ values: [String]) -> OpaquePointer? {
        let keys = keywords.map { strdup($0) } + [nil]
        let vals = values.map { strdup($0) } + [nil]
        defer { keys.forEach { free($0) }; vals.forEach { free($0) } }
        return keys.map { UnsafePointer($0) }.withUnsafeBufferPointer { keyPointers in
            vals.map { UnsafePointer($0) }.withUnsafeBufferPointer { valuePointers in
                PQconnectdbParams(keyPointers.baseAddress, valuePointers.baseAddress, 0)
            }
        }
    }

    /// libpq's message on one line (it writes hints on indented lines of their own).
    private static func text(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }
}
