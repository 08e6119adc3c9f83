import Flavor
import MariaDB

/// Exact row counts of the base tables of one database.
public enum TableCounts {
    public static func read(_ connection: MariaDBConnection, database: String, limit: Int = 100) throws -> [String: Int] {
        let tables = try connection.query(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME LIMIT \(limit)",
            [.text(database)])
        var counts: [String: Int] = [:]
        for row in tables.rows {
            guard let name = row[0] else { continue }
            let count = try connection.query("SELECT COUNT(*) FROM \(SQLText.identifier(database)).\(SQLText.identifier(name))")
            counts[name] = Int(count.scalar ?? "0") ?? 0
        }
        return counts
    }
}
