import Foundation

/// `mysqlbinlog --read-from-remote-server`, a binlog reader written by others, run as the ETL user.
struct BinlogReader {
    let port: Int
    let user: String
    let password: String

    struct Reading {
        var text: String
        /// Rows inserted into `table`, as decoded row events ("### INSERT INTO `db`.`table`").
        func insertedRows(database: String, table: String) -> Int {
            let marker = "### INSERT INTO `\(database)`.`\(table)`"
            return text.split(separator: "\n").filter { $0.hasPrefix(marker) }.count
        }
        /// The end position of the last event read.
        var lastEndPosition: UInt64? {
            text.split(separator: "\n").reversed().lazy.compactMap { line -> UInt64? in
                guard let range = line.range(of: "end_log_pos ") else { return nil }
                return UInt64(line[range.upperBound...].prefix { $0.isNumber })
            }.first
        }
        /// Every GTID the reader saw ("GTID 0-1-42").
        var gtids: [String] {
            text.split(separator: "\n").compactMap { line in
                guard let range = line.range(of: "GTID ") , line.hasPrefix("#") else { return nil }
                return String(line[range.upperBound...].prefix { !$0.isWhitespace })
            }
        }
    }

    /// Reads every binlog from `firstFile` to the current end and stops.
    func read(from firstFile: String) throws -> Reading {
        let options = FileManager.default.temporaryDirectory.appendingPathComponent("reader-\(UUID().uuidString).cnf")
        try "[client]\npassword=\(password)\n".write(to: options, atomically: true, encoding: .utf8)
        chmod(options.path, 0o600)
        defer { try? FileManager.default.removeItem(at: options) }
        let binary = ["/usr/bin/mysqlbinlog", "/usr/bin/mariadb-binlog"].first { FileManager.default.fileExists(atPath: $0) }!
        let run = try Run.program(binary, [
            "--defaults-extra-file=\(options.path)", "--read-from-remote-server", "--host=127.0.0.1", "--port=\(port)",
            "--user=\(user)", "--base64-output=DECODE-ROWS", "--verbose", "--to-last-log", firstFile,
        ], timeout: 120)
        guard run.status == 0 else {
            throw ReaderError(message: "mysqlbinlog exited \(run.status): \(run.stderr)")
        }
        return Reading(text: run.stdout)
    }

    struct ReaderError: Error, CustomStringConvertible { var message: String; var description: String { message } }
}
