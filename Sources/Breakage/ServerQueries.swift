import Flavor
import Infrastructure
import MariaDB
import Source

/// Small reads several breakages share.
extension MariaDBConnection {
    /// The server's flavor as it is (MariaDB 10.11 when it cannot be read).
    var flavor: ServerFlavor { ((try? identifyFlavor()) ?? nil) ?? .mariadb10_11 }

    /// The binlog file names, oldest first, with their sizes.
    func binaryLogs() throws(MariaDBError) -> [(name: String, size: UInt64)] {
        try query(flavor.binaryLogsStatement).rows.map {
            (name: $0[0] ?? "", size: UInt64($0.count > 1 ? $0[1] ?? "0" : "0") ?? 0)
        }
    }

    /// The file the server writes now.
    func currentBinlogFile() throws(MariaDBError) -> String? {
        try query(flavor.binlogStatusStatement).value("File")
    }

    /// Every GTID written to the binary log, as the server prints it.
    func gtidExecuted() throws(MariaDBError) -> String {
        (try query(flavor.gtidExecutedQuery).scalar ?? "").split(whereSeparator: \.isNewline).joined()
    }

    func globalVariable(_ name: String) throws(MariaDBError) -> String? {
        try query("SELECT @@GLOBAL.\(name)").scalar
    }
}

/// Runs `body`, turning a server error into a one-line `ToolkitError` that says what we were doing.
@discardableResult
func doing<T>(_ what: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as MariaDBError {
        throw ToolkitError.server(what, error)
    }
}
