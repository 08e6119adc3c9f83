import Flavor
import Foundation
import MariaDB

/// One reading of `toolkit monitor`: binlog and row counts, and rates against the previous reading.
public struct MonitorSample: Codable, Sendable {
    public var at: Date
    public var file: String?
    public var position: UInt64?
    public var gtid: String?
    public var files: [BinlogState.File]
    public var binlogBytes: UInt64
    public var tables: [String: Int]
    public var binlogBytesPerSecond: Double?
    public var rowsPerSecond: Double?

    enum CodingKeys: String, CodingKey {
        case at, file, position, gtid, files, tables
        case binlogBytes = "binlog_bytes", binlogBytesPerSecond = "binlog_bytes_per_second", rowsPerSecond = "rows_per_second"
    }

    public static func read(_ connection: MariaDBConnection, flavor: ServerFlavor, database: String, previous: MonitorSample?) throws -> MonitorSample {
        let binlog = try BinlogState.read(connection, flavor: flavor)
        let tables = try TableCounts.read(connection, database: database)
        var sample = MonitorSample(at: Date(), file: binlog.file, position: binlog.position, gtid: binlog.gtid,
                                   files: binlog.files, binlogBytes: binlog.totalBytes, tables: tables)
        if let previous {
            let seconds = sample.at.timeIntervalSince(previous.at)
            if seconds > 0 {
                let bytes = Double(sample.binlogBytes) - Double(previous.binlogBytes)
                let rows = Double(sample.totalRows - previous.totalRows)
                sample.binlogBytesPerSecond = max(0, bytes) / seconds
                sample.rowsPerSecond = rows / seconds
            }
        }
        return sample
    }

    public var totalRows: Int { tables.values.reduce(0, +) }
}

extension MonitorSample: CustomStringConvertible {
    public var description: String {
        var lines = [
            "Binlog  \(file ?? "?"):\(position ?? 0)   GTID \(gtid?.isEmpty == false ? gtid! : "(none)")",
            "Files   " + files.map { "\($0.name) \(ByteCount.text($0.size))" }.joined(separator: ", "),
            "Rows    " + tables.keys.sorted().map { "\($0) \(tables[$0]!)" }.joined(separator: ", "),
        ]
        if let bytes = binlogBytesPerSecond, let rows = rowsPerSecond {
            lines.append(String(format: "Rates   %@/s binlog, %.1f rows/s", ByteCount.text(UInt64(bytes)), rows))
        }
        return lines.joined(separator: "\n")
    }
}
