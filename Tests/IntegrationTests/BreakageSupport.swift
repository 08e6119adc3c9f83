import Foundation
import MariaDB

/// Reading binlogs for the breakage tests: transactions as GTID groups, and local file reads.
extension BinlogReader.Reading {
    /// The text of each event group, split at its "GTID d-s-n" line, with that GTID.
    var groups: [(gtid: String, text: String)] {
        var result: [(String, String)] = []
        var current: (String, [Substring])?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("#"), let range = line.range(of: "GTID ") {
                if let current { result.append((current.0, current.1.joined(separator: "\n"))) }
                current = (String(line[range.upperBound...].prefix { !$0.isWhitespace }), [line])
            } else {
                current?.1.append(line)
            }
        }
        if let current { result.append((current.0, current.1.joined(separator: "\n"))) }
        return result
    }

    /// GTIDs whose group inserts into `table`.
    func gtidsInserting(database: String, table: String) -> [String] {
        groups.filter { $0.text.contains("### INSERT INTO `\(database)`.`\(table)`") }.map(\.gtid)
    }
}

enum LocalBinlog {
    static var binary: String {
        ["/usr/bin/mysqlbinlog", "/usr/bin/mariadb-binlog"].first { FileManager.default.fileExists(atPath: $0) }!
    }

    /// `mysqlbinlog FILE` on a local file.
    static func read(_ path: String) throws -> Run {
        try Run.program(binary, ["--base64-output=DECODE-ROWS", "--verbose", path], timeout: 60)
    }

    static func sha256(_ path: String) throws -> String {
        let run = try Run.program("/usr/bin/sha256sum", [path])
        return String(run.stdout.prefix { !$0.isWhitespace })
    }
}

extension SourceFixture {
    /// The binlog files the server lists, oldest first.
    func binlogFiles() throws -> [String] {
        let connection = try connect()
        defer { connection.close() }
        return try connection.query("SHOW BINARY LOGS").rows.compactMap { $0[0] }
    }

    func currentBinlog() throws -> String {
        let connection = try connect()
        defer { connection.close() }
        return try connection.query("SHOW MASTER STATUS").value("File") ?? ""
    }

    var reader: BinlogReader { BinlogReader(port: port, user: "hevo", password: "hevopassword") }

    func json(_ run: Run) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8))) as? [String: Any] ?? [:]
    }
}
