import Flavor
import Foundation
import Infrastructure
import MariaDB

/// `toolkit generate-data`: tagged rows in multi-row prepared inserts over one persistent
/// connection, each chunk one transaction. If the link drops it reconnects and finds out
/// whether the in-doubt chunk committed, so that no row is lost or doubled.
public final class DataGenerator {
    public struct Request: Sendable {
        public var count: Int
        public var table: String
        public var rowsPerSecond: Int?
        public var chunkSize: Int
        /// Earlier generated rows to update (name, status, updated_at) after the inserts.
        public var updates: Int
        /// Earlier generated rows to delete after the inserts.
        public var deletes: Int
        public init(count: Int, table: String, rowsPerSecond: Int? = nil, chunkSize: Int = 5000,
                    updates: Int = 0, deletes: Int = 0) {
            self.count = count
            self.table = table
            self.rowsPerSecond = rowsPerSecond
            self.chunkSize = chunkSize
            self.updates = updates
            self.deletes = deletes
        }
    }

    public struct Progress: Sendable {
        public var inserted: Int
        public var total: Int
        public var elapsed: Double
    }

    public struct Summary: Codable, Sendable {
        public var table: String
        public var rowsInserted: Int
        public var rowsUpdated: Int
        public var rowsDeleted: Int
        public var firstTag: Int64?
        public var lastTag: Int64?
        public var seconds: Double
        public var rowsPerSecond: Double
        public var reconnects: Int
        public var inDoubtCommitted: Int
        public var inDoubtRetried: Int
        public var interrupted: Bool

        enum CodingKeys: String, CodingKey {
            case table, seconds, reconnects, interrupted
            case rowsInserted = "rows_inserted", rowsUpdated = "rows_updated", rowsDeleted = "rows_deleted", firstTag = "first_tag", lastTag = "last_tag"
            case rowsPerSecond = "rows_per_second", inDoubtCommitted = "in_doubt_committed", inDoubtRetried = "in_doubt_retried"
        }
    }

    private let target: Target
    private let database: String
    private var connection: MariaDBConnection?
    private var statements: [Int: PreparedStatement] = [:]
    public private(set) var reconnects = 0
    private var inDoubtCommitted = 0
    private var inDoubtRetried = 0
    /// How long to keep trying to reconnect before giving up.
    public var reconnectWindow: Duration = .seconds(120)

    public init(target: Target) {
        self.target = target
        self.database = target.database
    }

    deinit { closeConnection() }

    /// Makes sure the table and the sequence row exist. Call once before `run`.
    public func prepare(table: String) throws {
        let connection = try open()
        do {
            try connection.execute(Bootstrap.metaTableDDL)
            try connection.execute(Bootstrap.usersTableDDL(table))
            try connection.execute("INSERT IGNORE INTO _toolkit_meta (key_name, value) VALUES ('generate_seq', '0')")
            let columns = try connection.query(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                [.text(database), .text(table)]).rows.compactMap { $0[0]?.lowercased() }
            for needed in ["name", "email", "status"] where !columns.contains(needed) {
                throw ToolkitError("table \(database).\(table) has no column '\(needed)'; generate-data writes users-shaped rows (name, email, status)")
            }
        } catch let error as MariaDBError {
            throw ToolkitError.server("preparing \(database).\(table)", error)
        }
    }

    /// Inserts `request.count` rows; stops early (after a whole chunk) when `shouldStop` says so.
    public func run(_ request: Request, shouldStop: () -> Bool = { false },
                    progress: (Progress) -> Void = { _ in }) throws -> Summary {
        let clock = ContinuousClock()
        let start = clock.now
        var inserted = 0
        var firstTag: Int64?
        var lastTag: Int64?
        var interrupted = false
        let chunk = request.rowsPerSecond.map { min(request.chunkSize, max(1, $0 / 10)) } ?? request.chunkSize
        while inserted < request.count {
            if shouldStop() { interrupted = true; break }
            if let rate = request.rowsPerSecond {
                let due = start.advanced(by: .seconds(Double(inserted) / Double(rate)))
                let now = clock.now
                if due > now { Thread.sleep(forTimeInterval: (due - now).seconds) }
            }
            let size = min(chunk, request.count - inserted)
            let tags = try insertChunk(size, table: request.table)
            firstTag = firstTag ?? tags.lowerBound
            lastTag = tags.upperBound
            inserted += size
            progress(Progress(inserted: inserted, total: request.count, elapsed: (clock.now - start).seconds))
        }
        var updated = 0
        var deleted = 0
        if !interrupted {
            if request.updates > 0 { updated = try change(.update, count: request.updates, table: request.table) }
            if request.deletes > 0 { deleted = try change(.delete, count: request.deletes, table: request.table) }
        }
        let seconds = (clock.now - start).seconds
        return Summary(table: request.table, rowsInserted: inserted, rowsUpdated: updated, rowsDeleted: deleted, firstTag: firstTag, lastTag: lastTag,
                       seconds: seconds, rowsPerSecond: seconds > 0 ? Double(inserted) / seconds : 0,
                       reconnects: reconnects, inDoubtCommitted: inDoubtCommitted, inDoubtRetried: inDoubtRetried,
                       interrupted: interrupted)
    }

    /// One transaction: reserve `size` tags, insert the rows, advance the sequence.
    private func insertChunk(_ size: Int, table: String) throws -> ClosedRange<Int64> {
        let clock = ContinuousClock()
        var giveUpAt: ContinuousClock.Instant?
        while true {
            var reserved: ClosedRange<Int64>?
            do {
                let connection = try open()
                return try connection.transaction { connection in
                    let current = try connection.query(
                        "SELECT value FROM _toolkit_meta WHERE key_name = 'generate_seq' FOR UPDATE").scalar
                    let base = Int64(current ?? "0") ?? 0
                    let tags = (base + 1)...(base + Int64(size))
                    reserved = tags
                    try statement(for: size, table: table, on: connection).execute(Self.values(tags))
                    try connection.execute("UPDATE _toolkit_meta SET value = ? WHERE key_name = 'generate_seq'",
                                           [.text(String(tags.upperBound))])
                    return tags
                }
            } catch let error as MariaDBError where error.isConnectionLost {
                closeConnection()
                giveUpAt = giveUpAt ?? clock.now.advanced(by: reconnectWindow)
                try reconnect(until: giveUpAt!, lastError: error)
                if let tags = reserved {
                    if try landed(tags, table: table) {
                        inDoubtCommitted += 1
                        return tags
                    }
                    inDoubtRetried += 1
                }
            } catch let error as MariaDBError {
                throw ToolkitError.server("inserting into \(database).\(table)", error)
            }
        }
    }

    enum Change { case update, delete }

    /// One transaction that updates (name, status, updated_at) or deletes up to `count` earlier
    /// generated rows, a run of consecutive ids from a random point. After a lost connection it
    /// finds out whether the in-doubt transaction committed, so that it is neither lost nor doubled.
    private func change(_ change: Change, count: Int, table: String) throws -> Int {
        let clock = ContinuousClock()
        var giveUpAt: ContinuousClock.Instant?
        let marker = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let quoted = SQLText.identifier(table)
        while true {
            var chosen: [String]?
            do {
                let connection = try open()
                return try connection.transaction { connection in
                    let bounds = try connection.query("SELECT MIN(id), MAX(id) FROM \(quoted) WHERE email LIKE 'gen-%'")
                    guard let low = bounds.rows.first?[0].flatMap({ Int64($0) }),
                          let high = bounds.rows.first?[1].flatMap({ Int64($0) }) else { return 0 }
                    let from = Int64.random(in: low...high)
                    var ids = try connection.query(
                        "SELECT id FROM \(quoted) WHERE id >= ? AND email LIKE 'gen-%' ORDER BY id LIMIT ? FOR UPDATE",
                        [.int(from), .int(Int64(count))]).rows.compactMap { $0[0] }
                    if ids.count < count {
                        ids += try connection.query(
                            "SELECT id FROM \(quoted) WHERE id < ? AND email LIKE 'gen-%' ORDER BY id LIMIT ? FOR UPDATE",
                            [.int(from), .int(Int64(count - ids.count))]).rows.compactMap { $0[0] }
                    }
                    guard !ids.isEmpty else { return 0 }
                    chosen = ids
                    let list = ids.joined(separator: ",")
                    switch change {
                    case .update:
                        return Int(try connection.execute("""
                            UPDATE \(quoted) SET name = CONCAT('Updated User ', id, ' ', ?),
                              status = CASE status WHEN 'active' THEN 'inactive' WHEN 'inactive' THEN 'pending' ELSE 'active' END,
                              updated_at = CURRENT_TIMESTAMP WHERE id IN (\(list))
                            """, [.text(marker)]))
                    case .delete:
                        return Int(try connection.execute("DELETE FROM \(quoted) WHERE id IN (\(list))"))
                    }
                }
            } catch let error as MariaDBError where error.isConnectionLost {
                closeConnection()
                giveUpAt = giveUpAt ?? clock.now.advanced(by: reconnectWindow)
                try reconnect(until: giveUpAt!, lastError: error)
                if let ids = chosen {
                    let list = ids.joined(separator: ",")
                    let condition = change == .update ? "AND name = CONCAT('Updated User ', id, ' ', ?)" : ""
                    let found = Int(try open().query("SELECT COUNT(*) FROM \(quoted) WHERE id IN (\(list)) \(condition)",
                                                     change == .update ? [.text(marker)] : []).scalar ?? "0") ?? 0
                    if change == .update ? found == ids.count : found == 0 {
                        inDoubtCommitted += 1
                        return ids.count
                    }
                    inDoubtRetried += 1
                }
            } catch let error as MariaDBError {
                throw ToolkitError.server("\(change == .update ? "updating" : "deleting from") \(database).\(table)", error)
            }
        }
    }

    /// After a lost connection: did the in-doubt chunk commit? Its first and last tags tell.
    private func landed(_ tags: ClosedRange<Int64>, table: String) throws -> Bool {
        let found = try open().query(
            "SELECT COUNT(*) FROM \(SQLText.identifier(table)) WHERE email IN (?, ?)",
            [.text(GeneratedTag.email(tags.lowerBound)), .text(GeneratedTag.email(tags.upperBound))]).scalar
        return Int(found ?? "0") == (tags.count == 1 ? 1 : 2)
    }

    private func reconnect(until deadline: ContinuousClock.Instant, lastError: MariaDBError) throws {
        var delay = 0.2
        var error = lastError
        while ContinuousClock().now < deadline {
            Thread.sleep(forTimeInterval: delay)
            delay = min(delay * 2, 2)
            do {
                _ = try open()
                reconnects += 1
                return
            } catch let failure {
                error = failure
            }
        }
        throw ToolkitError.server("reconnecting to \(target.admin.endpoint) (gave up after \(reconnectWindow))", error)
    }

    private func open() throws(MariaDBError) -> MariaDBConnection {
        if let connection { return connection }
        var options = target.admin
        options.database = database
        options.readTimeoutSeconds = 30
        let connection = try MariaDBConnection(options)
        self.connection = connection
        return connection
    }

    private func closeConnection() {
        statements.values.forEach { $0.close() }
        statements = [:]
        connection?.close()
        connection = nil
    }

    private func statement(for rows: Int, table: String, on connection: MariaDBConnection) throws -> PreparedStatement {
        if let cached = statements[rows] { return cached }
        let placeholders = Array(repeating: "(?, ?, ?)", count: rows).joined(separator: ", ")
        let statement = try connection.prepare(
            "INSERT INTO \(SQLText.identifier(table)) (name, email, status) VALUES \(placeholders)")
        statements[rows] = statement
        return statement
    }

    private static func values(_ tags: ClosedRange<Int64>) -> [Value] {
        var values: [Value] = []
        values.reserveCapacity(tags.count * 3)
        for tag in tags {
            values.append(.text(GeneratedTag.name(tag)))
            values.append(.text(GeneratedTag.email(tag)))
            values.append(.text(GeneratedTag.status(tag)))
        }
        return values
    }
}

extension Duration {
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
