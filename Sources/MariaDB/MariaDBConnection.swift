import CMariaDB

/// Makes sure `mysql_library_init` runs once, before any thread calls `mysql_init`.
private let libraryInitialized: Bool = mysql_server_init(0, nil, nil) == 0

/// One client connection. Blocking: never call it from an event loop.
/// Close it with `close()`; `deinit` closes a connection that was forgotten.
public final class MariaDBConnection {
    private var handle: UnsafeMutablePointer<MYSQL>?
    public let options: ConnectionOptions

    public init(_ options: ConnectionOptions) throws(MariaDBError) {
        self.options = options
        guard libraryInitialized, let handle = mysql_init(nil) else {
            throw MariaDBError(number: 2008, sqlState: "HY000", message: "Connector/C could not allocate a connection")
        }
        var connectTimeout = options.connectTimeoutSeconds
        mysql_options(handle, MYSQL_OPT_CONNECT_TIMEOUT, &connectTimeout)
        if var readTimeout = options.readTimeoutSeconds {
            mysql_options(handle, MYSQL_OPT_READ_TIMEOUT, &readTimeout)
            mysql_options(handle, MYSQL_OPT_WRITE_TIMEOUT, &readTimeout)
        }
        mysql_options(handle, MYSQL_SET_CHARSET_NAME, "utf8mb4")
        var noDefaults: my_bool = 0
        mysql_options(handle, MYSQL_REPORT_DATA_TRUNCATION, &noDefaults)
        let connected = mysql_real_connect(
            handle, options.socket == nil ? options.host : nil, options.user, options.password,
            options.database, UInt32(options.port), options.socket, UInt(CLIENT_FOUND_ROWS)
        )
        if connected == nil {
            let error = Self.error(of: handle)
            mysql_close(handle)
            throw error
        }
        self.handle = handle
    }

    deinit { close() }

    /// Closes the connection. Safe to call twice.
    public func close() {
        if let handle {
            mysql_close(handle)
            self.handle = nil
        }
    }

    public var isOpen: Bool { handle != nil }

    /// The server's version string, e.g. "10.11.6-MariaDB-0+deb12u1".
    public var serverVersion: String {
        guard let handle, let text = mysql_get_server_info(handle) else { return "" }
        return String(cString: text)
    }

    /// The server's id for this connection (`CONNECTION_ID()`).
    public var threadID: UInt {
        guard let handle else { return 0 }
        return UInt(mysql_thread_id(handle))
    }

    /// Runs one statement that returns no rows; returns the affected row count.
    @discardableResult
    public func execute(_ sql: String) throws(MariaDBError) -> UInt64 {
        let handle = try openHandle()
        try run(sql, on: handle)
        // Drain a result if the statement unexpectedly produced one.
        if let result = mysql_store_result(handle) { mysql_free_result(result) }
        return mysql_affected_rows(handle)
    }

    /// Runs a statement with bound parameters; returns the affected row count.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [Value]) throws(MariaDBError) -> UInt64 {
        let statement = try prepare(sql)
        defer { statement.close() }
        return try statement.execute(parameters)
    }

    /// Runs a query and reads all rows as text.
    public func query(_ sql: String) throws(MariaDBError) -> ResultSet {
        let handle = try openHandle()
        try run(sql, on: handle)
        guard let result = mysql_store_result(handle) else {
            if mysql_field_count(handle) != 0 { throw Self.error(of: handle) }
            return ResultSet(columns: [], rows: [])
        }
        defer { mysql_free_result(result) }
        let fieldCount = Int(mysql_num_fields(result))
        var columns: [String] = []
        if let fields = mysql_fetch_fields(result) {
            for index in 0..<fieldCount { columns.append(String(cString: fields[index].name)) }
        }
        var rows: [[String?]] = []
        while let row = mysql_fetch_row(result) {
            guard let lengths = mysql_fetch_lengths(result) else { break }
            var values: [String?] = []
            values.reserveCapacity(fieldCount)
            for index in 0..<fieldCount {
                if let field = row[index] {
                    let bytes = UnsafeRawBufferPointer(start: field, count: Int(lengths[index]))
                    values.append(String(decoding: bytes, as: UTF8.self))
                } else {
                    values.append(nil)
                }
            }
            rows.append(values)
        }
        if mysql_errno(handle) != 0 { throw Self.error(of: handle) }
        return ResultSet(columns: columns, rows: rows)
    }

    /// Runs a query and hands each row, as text, to `body` while the server is still sending
    /// (`mysql_use_result`): no copy of the whole result is held. The array is reused between rows.
    public func forEachRow(_ sql: String, _ body: ([String?]) throws -> Void) throws {
        let handle = try openHandle()
        try run(sql, on: handle)
        guard let result = mysql_use_result(handle) else {
            if mysql_field_count(handle) != 0 { throw Self.error(of: handle) }
            return
        }
        defer { mysql_free_result(result) }
        let fieldCount = Int(mysql_num_fields(result))
        var values: [String?] = []
        values.reserveCapacity(fieldCount)
        while let row = mysql_fetch_row(result) {
            guard let lengths = mysql_fetch_lengths(result) else { break }
            values.removeAll(keepingCapacity: true)
            for index in 0..<fieldCount {
                if let field = row[index] {
                    values.append(String(decoding: UnsafeRawBufferPointer(start: field, count: Int(lengths[index])), as: UTF8.self))
                } else {
                    values.append(nil)
                }
            }
            try body(values)
        }
        if mysql_errno(handle) != 0 { throw Self.error(of: handle) }
    }

    /// Runs a query with bound parameters and reads all rows as text.
    public func query(_ sql: String, _ parameters: [Value]) throws(MariaDBError) -> ResultSet {
        let statement = try prepare(sql)
        defer { statement.close() }
        return try statement.query(parameters)
    }

    public func prepare(_ sql: String) throws(MariaDBError) -> PreparedStatement {
        try PreparedStatement(connection: try openHandle(), sql: sql)
    }

    /// Runs `body` inside one transaction: COMMIT when it returns, ROLLBACK when it throws.
    public func transaction<T>(_ body: (MariaDBConnection) throws -> T) throws -> T {
        try execute("START TRANSACTION")
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            if isOpen { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// True when the server still answers on this connection.
    public func ping() -> Bool {
        guard let handle else { return false }
        return mysql_ping(handle) == 0
    }

    // MARK: - Internals

    private func openHandle() throws(MariaDBError) -> UnsafeMutablePointer<MYSQL> {
        guard let handle else {
            throw MariaDBError(number: 2006, sqlState: "HY000", message: "connection is closed")
        }
        return handle
    }

    private func run(_ sql: String, on handle: UnsafeMutablePointer<MYSQL>) throws(MariaDBError) {
        var sql = sql
        let status = sql.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                mysql_real_query(handle, chars.baseAddress, UInt(chars.count))
            }
        }
        if status != 0 { throw Self.error(of: handle) }
    }

    static func error(of handle: UnsafeMutablePointer<MYSQL>) -> MariaDBError {
        MariaDBError(
            number: mysql_errno(handle),
            sqlState: String(cString: mysql_sqlstate(handle)),
            message: String(cString: mysql_error(handle))
        )
    }
}
