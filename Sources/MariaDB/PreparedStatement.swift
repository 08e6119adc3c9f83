import CMariaDB

/// A server-side prepared statement. Close it explicitly; it must not outlive its connection.
public final class PreparedStatement {
    private var statement: UnsafeMutablePointer<MYSQL_STMT>?
    public let parameterCount: Int

    init(connection: UnsafeMutablePointer<MYSQL>, sql: String) throws(MariaDBError) {
        guard let statement = mysql_stmt_init(connection) else {
            throw MariaDBConnection.error(of: connection)
        }
        var sql = sql
        let status = sql.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                mysql_stmt_prepare(statement, chars.baseAddress, UInt(chars.count))
            }
        }
        if status != 0 {
            let error = Self.error(of: statement)
            mysql_stmt_close(statement)
            throw error
        }
        self.statement = statement
        self.parameterCount = Int(mysql_stmt_param_count(statement))
    }

    deinit { close() }

    public func close() {
        if let statement {
            mysql_stmt_close(statement)
            self.statement = nil
        }
    }

    /// Executes with `parameters` bound in order; returns the affected row count.
    @discardableResult
    public func execute(_ parameters: [Value]) throws(MariaDBError) -> UInt64 {
        let statement = try openStatement()
        try bindAndExecute(parameters, statement)
        return UInt64(mysql_stmt_affected_rows(statement))
    }

    /// Executes with `parameters` and reads every row back as text.
    public func query(_ parameters: [Value]) throws(MariaDBError) -> ResultSet {
        let statement = try openStatement()
        try bindAndExecute(parameters, statement)
        guard let metadata = mysql_stmt_result_metadata(statement) else {
            return ResultSet(columns: [], rows: [])
        }
        defer { mysql_free_result(metadata) }
        let count = Int(mysql_num_fields(metadata))
        var columns: [String] = []
        if let fields = mysql_fetch_fields(metadata) {
            for index in 0..<count { columns.append(String(cString: fields[index].name)) }
        }
        let capacity = 256
        let buffers = (0..<count).map { _ in UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8) }
        let lengths = UnsafeMutablePointer<UInt>.allocate(capacity: max(count, 1))
        let nulls = UnsafeMutablePointer<my_bool>.allocate(capacity: max(count, 1))
        let binds = UnsafeMutablePointer<MYSQL_BIND>.allocate(capacity: max(count, 1))
        defer {
            buffers.forEach { $0.deallocate() }
            lengths.deallocate(); nulls.deallocate(); binds.deallocate()
        }
        for index in 0..<count {
            binds[index] = MYSQL_BIND()
            binds[index].buffer_type = MYSQL_TYPE_STRING
            binds[index].buffer = buffers[index]
            binds[index].buffer_length = UInt(capacity)
            binds[index].length = lengths + index
            binds[index].is_null = nulls + index
        }
        if count > 0, mysql_stmt_bind_result(statement, binds) != 0 { throw Self.error(of: statement) }
        if mysql_stmt_store_result(statement) != 0 { throw Self.error(of: statement) }
        var rows: [[String?]] = []
        while true {
            let status = mysql_stmt_fetch(statement)
            if status == MYSQL_NO_DATA { break }
            if status == 1 { throw Self.error(of: statement) }
            var row: [String?] = []
            for index in 0..<count {
                if nulls[index] != 0 { row.append(nil); continue }
                let length = Int(lengths[index])
                if length <= capacity {
                    row.append(String(decoding: UnsafeRawBufferPointer(start: buffers[index], count: length), as: UTF8.self))
                } else {
                    // Truncated: fetch the whole column into a buffer of its own size.
                    let whole = UnsafeMutableRawPointer.allocate(byteCount: length, alignment: 8)
                    defer { whole.deallocate() }
                    var column = MYSQL_BIND()
                    var columnLength: UInt = 0
                    column.buffer_type = MYSQL_TYPE_STRING
                    column.buffer = whole
                    column.buffer_length = UInt(length)
                    withUnsafeMutablePointer(to: &columnLength) { column.length = $0 }
                    if mysql_stmt_fetch_column(statement, &column, UInt32(index), 0) != 0 {
                        throw Self.error(of: statement)
                    }
                    row.append(String(decoding: UnsafeRawBufferPointer(start: whole, count: length), as: UTF8.self))
                }
            }
            rows.append(row)
        }
        mysql_stmt_free_result(statement)
        return ResultSet(columns: columns, rows: rows)
    }

    // MARK: - Internals

    private func openStatement() throws(MariaDBError) -> UnsafeMutablePointer<MYSQL_STMT> {
        guard let statement else {
            throw MariaDBError(number: 2030, sqlState: "HY000", message: "statement is closed")
        }
        return statement
    }

    private func bindAndExecute(_ parameters: [Value], _ statement: UnsafeMutablePointer<MYSQL_STMT>) throws(MariaDBError) {
        guard parameters.count == parameterCount else {
            throw MariaDBError(number: 2034, sqlState: "HY000",
                               message: "statement takes \(parameterCount) parameters, \(parameters.count) given")
        }
        let storage = ParameterStorage(parameters)
        defer { storage.release() }
        if parameterCount > 0, mysql_stmt_bind_param(statement, storage.binds) != 0 {
            throw Self.error(of: statement)
        }
        if mysql_stmt_execute(statement) != 0 { throw Self.error(of: statement) }
    }

    static func error(of statement: UnsafeMutablePointer<MYSQL_STMT>) -> MariaDBError {
        MariaDBError(
            number: mysql_stmt_errno(statement),
            sqlState: String(cString: mysql_stmt_sqlstate(statement)),
            message: String(cString: mysql_stmt_error(statement))
        )
    }
}

/// Owns the memory Connector/C reads parameters from, for the duration of one execute.
private struct ParameterStorage {
    let binds: UnsafeMutablePointer<MYSQL_BIND>
    private var allocations: [UnsafeMutableRawPointer] = []
    private let count: Int

    init(_ parameters: [Value]) {
        count = parameters.count
        binds = .allocate(capacity: max(count, 1))
        for (index, parameter) in parameters.enumerated() {
            var bind = MYSQL_BIND()
            switch parameter {
            case .null:
                bind.buffer_type = MYSQL_TYPE_NULL
            case .int(let value):
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
                buffer.storeBytes(of: value, as: Int64.self)
                allocations.append(buffer)
                bind.buffer_type = MYSQL_TYPE_LONGLONG
                bind.buffer = buffer
            case .double(let value):
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
                buffer.storeBytes(of: value, as: Double.self)
                allocations.append(buffer)
                bind.buffer_type = MYSQL_TYPE_DOUBLE
                bind.buffer = buffer
            case .text(let value):
                let utf8 = Array(value.utf8)
                bind = Self.bytes(utf8, type: MYSQL_TYPE_STRING, allocations: &allocations)
            case .bytes(let value):
                bind = Self.bytes(value, type: MYSQL_TYPE_BLOB, allocations: &allocations)
            }
            binds[index] = bind
        }
    }

    private static func bytes(_ bytes: [UInt8], type: enum_field_types,
                              allocations: inout [UnsafeMutableRawPointer]) -> MYSQL_BIND {
        var bind = MYSQL_BIND()
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        if !bytes.isEmpty {
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        }
        allocations.append(buffer)
        bind.buffer_type = type
        bind.buffer = buffer
        bind.buffer_length = UInt(bytes.count)
        return bind
    }

    func release() {
        allocations.forEach { $0.deallocate() }
        binds.deallocate()
    }
}
