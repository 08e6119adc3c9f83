import Foundation

/// `mysqlbinlog --read-from-remote-server`, a binlog reader written by others, run as the ETL user.
struct BinlogReader {
    let port: Int
    let user: String
    let password: String
    /// More client options, such as `--ssl-ca=...`.
    var options: [String] = []

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

    /// Reads every binlog from `firstFile` (at `position`, if given) to the current end and stops.
    func read(from firstFile: String, position: UInt64? = nil) throws -> Reading {
        let options = try ClientOptionFile(password: password)
        defer { withExtendedLifetime(options) {} }
        let binary = ["/usr/bin/mysqlbinlog", "/usr/bin/mariadb-binlog"].first { FileManager.default.fileExists(atPath: $0) }!
        let run = try Run.program(binary, [
            options.argument, "--read-from-remote-server", "--host=127.0.0.1", "--port=\(port)",
            "--user=\(user)", "--base64-output=DECODE-ROWS", "--verbose", "--to-last-log",
        ] + self.options + (position.map { ["--start-position=\($0)"] } ?? []) + [firstFile], timeout: 120)
        guard run.status == 0 else {
            throw ReaderError(message: "mysqlbinlog exited \(run.status): \(run.stderr)")
        }
        return Reading(text: run.stdout)
    }

    struct ReaderError: Error, CustomStringConvertible { var message: String; var description: String { message } }
}

/// A `[client]` option file (mode 0600) carrying a password, so that it never shows on a
/// child's command line; removed when released. Keep it alive as long as the client runs.
final class ClientOptionFile {
    let url: URL

    init(password: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("client-\(UUID().uuidString).cnf")
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw FixtureError("cannot create \(url.path)")
        }
        try "[client]\npassword=\(password)\n".write(to: url, atomically: false, encoding: .utf8)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The client's first argument.
    var argument: String { "--defaults-extra-file=\(url.path)" }
}
