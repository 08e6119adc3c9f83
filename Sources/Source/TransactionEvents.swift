import Flavor
import MariaDB

/// What the source's binlog holds of one transaction: its row events and their tables, read with
/// `SHOW BINLOG EVENTS` from its GTID event to its end. For a reader that skipped the rest of it.
public struct TransactionEvents: Sendable, Hashable {
    public private(set) var rowEvents = 0
    /// `schema.table`, in the order first seen.
    public private(set) var tables: [String] = []
    /// False when the reading stopped before the transaction's end (the limit, the binlog's end).
    public private(set) var complete = false
    private var sawGTID = false

    public init() {}

    /// Adds one row of `SHOW BINLOG EVENTS` (`Event_type`, `Info`); true once the transaction ended.
    public mutating func add(type: String, info: String) -> Bool {
        switch type {
        case "Gtid", "Anonymous_Gtid":
            // The next transaction's GTID: one that had no end event of its own (a DDL) ended before it.
            if sawGTID { complete = true; return true }
            sawGTID = true
        case "Xid", "XA_prepare":
            complete = true
        case "Table_map":
            // "table_id: 33 (testdb.users)"
            if let open = info.lastIndex(of: "("), let close = info.lastIndex(of: ")"), open < close {
                let table = String(info[info.index(after: open)..<close])
                if !tables.contains(table) { tables.append(table) }
            }
        case "Query":
            let statement = info.drop { $0 == " " }.prefix(8).uppercased()
            if statement.hasPrefix("COMMIT") || statement.hasPrefix("ROLLBACK") { complete = true }
        default:
            // Write_rows_v1, Update_rows, Delete_rows_compressed_v1 ...; not Annotate_rows or Rows_query.
            if type.contains("_rows"), !type.hasPrefix("Annotate"), !type.hasPrefix("Rows_query") { rowEvents += 1 }
        }
        return complete
    }

    /// Reads the transaction whose GTID event starts at `file`:`start`, `page` events at a time and
    /// at most `limit` of them.
    public static func read(file: String, start: UInt64, on connection: MariaDBConnection,
                            limit: Int = 1_000_000, page: Int = 10_000) throws(MariaDBError) -> TransactionEvents {
        var events = TransactionEvents()
        var position = start
        var read = 0
        while read < limit {
            let rows = try connection.query("SHOW BINLOG EVENTS IN \(SQLText.literal(file)) FROM \(position) LIMIT \(page)").rows
            guard !rows.isEmpty else { return events }
            for row in rows {
                // Log_name, Pos, Event_type, Server_id, End_log_pos, Info
                read += 1
                guard row.count >= 6 else { continue }
                if events.add(type: row[2] ?? "", info: row[5] ?? "") { return events }
                if let end = row[4].flatMap({ UInt64($0) }) { position = end }
            }
            if rows.count < page { return events }
        }
        return events
    }
}
