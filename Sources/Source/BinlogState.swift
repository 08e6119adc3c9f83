import Flavor
import MariaDB

/// Where the binary log stands now: current file, position, GTID set, and every file with its size.
public struct BinlogState: Codable, Sendable, Hashable {
    public struct File: Codable, Sendable, Hashable { public var name: String; public var size: UInt64 }
    public var enabled: Bool
    public var file: String?
    public var position: UInt64?
    public var gtid: String?
    public var filesCount: Int
    public var totalBytes: UInt64
    public var files: [File]

    enum CodingKeys: String, CodingKey {
        case enabled, file, position, gtid, files
        case filesCount = "files_count", totalBytes = "total_bytes"
    }

    public static func read(_ connection: MariaDBConnection, flavor: ServerFlavor) throws -> BinlogState {
        let enabled = try connection.query("SELECT @@GLOBAL.log_bin").scalar == "1"
        guard enabled else {
            return BinlogState(enabled: false, file: nil, position: nil, gtid: nil, filesCount: 0, totalBytes: 0, files: [])
        }
        let status = try connection.query(flavor.binlogStatusStatement)
        let gtid = try connection.query(flavor.gtidExecutedQuery).scalar?.replacingNewlines()
        let logs = try connection.query(flavor.binaryLogsStatement)
        let files = logs.rows.map { File(name: $0[0] ?? "", size: UInt64($0.count > 1 ? $0[1] ?? "0" : "0") ?? 0) }
        return BinlogState(enabled: true, file: status.value("File"), position: status.value("Position").flatMap { UInt64($0) },
                           gtid: gtid, filesCount: files.count, totalBytes: files.reduce(0) { $0 + $1.size }, files: files)
    }
}

extension String {
    func replacingNewlines() -> String { split(whereSeparator: \.isNewline).joined() }
}
