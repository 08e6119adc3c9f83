import Flavor
import Foundation
import Infrastructure
import MariaDB
import Source

/// `toolkit transaction`: ONE real transaction on ONE connection. Nothing it writes is visible
/// to other sessions until it commits, and the binary log holds it as one GTID.
public final class TransactionRun {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case manyRows = "many-rows", largeData = "large-data", longRunning = "long-running", mixed
    }
    public enum DataType: String, Codable, Sendable, CaseIterable { case text, blob }
    public enum InterruptChoice: String, Codable, Sendable, CaseIterable { case commit, rollback }

    public struct Request: Sendable {
        public var kind: Kind
        public var table: String
        public var rows: Int
        public var sizeKB: Int
        public var durationSeconds: Int
        public var dataType: DataType
        public var opsPerSecond: Int
        public var onInterrupt: InterruptChoice
        public init(kind: Kind, table: String = "txn_test", rows: Int = 1000, sizeKB: Int = 100, durationSeconds: Int = 60,
                    dataType: DataType = .text, opsPerSecond: Int = 1, onInterrupt: InterruptChoice = .commit) {
            self.kind = kind
            self.table = table
            self.rows = rows
            self.sizeKB = sizeKB
            self.durationSeconds = durationSeconds
            self.dataType = dataType
            self.opsPerSecond = opsPerSecond
            self.onInterrupt = onInterrupt
        }
    }

    public struct Progress: Sendable {
        public var elapsed: Double
        public var rowsInserted: Int
        public var bytes: Int
    }

    public struct Result: Codable, Sendable {
        public var type: Kind
        public var table: String
        public var runID: String
        public var rowsInserted: Int
        public var rowsUpdated: Int
        public var rowsDeleted: Int
        public var payloadBytes: Int
        public var statements: Int
        public var maxAllowedPacket: Int
        public var largestStatementBytes: Int
        public var outcome: String
        public var interrupted: Bool
        public var gtid: String?
        public var seconds: Double

        enum CodingKeys: String, CodingKey {
            case type, table, statements, outcome, interrupted, gtid, seconds
            case runID = "run_id", rowsInserted = "rows_inserted", rowsUpdated = "rows_updated", rowsDeleted = "rows_deleted"
            case payloadBytes = "payload_bytes", maxAllowedPacket = "max_allowed_packet"
            case largestStatementBytes = "largest_statement_bytes"
        }
    }

    /// Small rows (many-rows, mixed, long-running) carry this many payload bytes.
    public static let smallPayloadBytes = 64

    private let target: Target

    public init(target: Target) { self.target = target }

    public static func tableDDL(_ table: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(SQLText.identifier(table)) (
          id BIGINT AUTO_INCREMENT PRIMARY KEY,
          run_id CHAR(36) NOT NULL,
          seq INT NOT NULL,
          payload_text LONGTEXT NULL,
          payload_blob LONGBLOB NULL,
          created_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6),
          KEY idx_run (run_id, seq)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """
    }

    /// Deterministic payload of `bytes` bytes: letters for text, every byte value for blob.
    public static func payload(bytes: Int, type: DataType, seed: Int) -> Value {
        switch type {
        case .text:
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
            let data = (0..<bytes).map { alphabet[($0 &+ seed) % alphabet.count] }
            return .text(String(decoding: data, as: UTF8.self))
        case .blob:
            return .bytes((0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) })
        }
    }

    public func run(_ request: Request, shouldStop: @escaping () -> Bool,
                    progress: (Progress) -> Void = { _ in }) throws -> Result {
        let connection = try target.connect(database: target.database)
        defer { connection.close() }
        let table = SQLText.identifier(request.table)
        let maxPacket = try doing("reading max_allowed_packet") {
            Int(try connection.query("SELECT @@SESSION.max_allowed_packet").scalar ?? "") ?? 16_777_216
        }
        let payloadBytes = request.kind == .largeData ? request.sizeKB * 1024 : Self.smallPayloadBytes
        let rows = request.kind == .longRunning ? 0 : request.rows
        let plan: TransactionPlan
        do { plan = try TransactionPlan(rows: rows, payloadBytes: payloadBytes, maxAllowedPacket: maxPacket) } catch {
            throw ToolkitError(error.description)
        }
        try doing("preparing \(target.database).\(request.table)") {
            try connection.execute(Self.tableDDL(request.table))
            let columns = try connection.query(
                "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                [.text(target.database), .text(request.table)]).rows.compactMap { $0[0]?.lowercased() }
            for needed in ["run_id", "seq", "payload_text", "payload_blob"] where !columns.contains(needed) {
                throw ToolkitError("table \(target.database).\(request.table) has no column '\(needed)'; use a new --table, which transaction creates")
            }
        }

        let runID = UUID().uuidString.lowercased()
        let column = request.dataType == .text ? "payload_text" : "payload_blob"
        let payloadValue = Self.payload(bytes: payloadBytes, type: request.dataType, seed: 0)
        var result = Result(type: request.kind, table: request.table, runID: runID, rowsInserted: 0, rowsUpdated: 0,
                            rowsDeleted: 0, payloadBytes: 0, statements: 0, maxAllowedPacket: maxPacket,
                            largestStatementBytes: plan.largestStatementBytes, outcome: "committed",
                            interrupted: false, gtid: nil, seconds: 0)
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Double {
            let duration = clock.now - start
            return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        var statements: [Int: PreparedStatement] = [:]
        defer { statements.values.forEach { $0.close() } }
        func insert(_ count: Int) throws {
            if statements[count] == nil {
                let values = Array(repeating: "(?, ?, ?)", count: count).joined(separator: ", ")
                statements[count] = try connection.prepare("INSERT INTO \(table) (run_id, seq, \(column)) VALUES \(values)")
            }
            var parameters: [Value] = []
            parameters.reserveCapacity(count * 3)
            for index in 0..<count {
                parameters += [.text(runID), .int(Int64(result.rowsInserted + index + 1)), payloadValue]
            }
            try statements[count]!.execute(parameters)
            result.rowsInserted += count
            result.payloadBytes += count * payloadBytes
            result.statements += 1
        }

        do {
            try connection.execute("START TRANSACTION")
            switch request.kind {
            case .manyRows, .largeData, .mixed:
                var lastReport = 0.0
                for size in plan.statementSizes {
                    if shouldStop() { result.interrupted = true; break }
                    try insert(size)
                    if elapsed() - lastReport >= 1 {
                        lastReport = elapsed()
                        progress(Progress(elapsed: lastReport, rowsInserted: result.rowsInserted, bytes: result.payloadBytes))
                    }
                }
                if request.kind == .mixed && !result.interrupted {
                    result.rowsUpdated = Int(try connection.execute(
                        "UPDATE \(table) SET \(column) = ? WHERE run_id = ? AND seq % 2 = 0",
                        [Self.payload(bytes: 16, type: request.dataType, seed: 7), .text(runID)]))
                    result.rowsDeleted = Int(try connection.execute(
                        "DELETE FROM \(table) WHERE run_id = ? AND seq % 4 = 1", [.text(runID)]))
                    result.statements += 2
                }
            case .longRunning:
                let interval = 1.0 / Double(request.opsPerSecond)
                var next = 0.0
                var lastReport = 0.0
                while elapsed() < Double(request.durationSeconds) {
                    if shouldStop() { result.interrupted = true; break }
                    if elapsed() >= next {
                        try insert(1)
                        next += interval
                    }
                    if elapsed() - lastReport >= 1 {
                        lastReport = elapsed()
                        progress(Progress(elapsed: lastReport, rowsInserted: result.rowsInserted, bytes: result.payloadBytes))
                    }
                    Thread.sleep(forTimeInterval: max(0, min(0.05, next - elapsed(), Double(request.durationSeconds) - elapsed())))
                }
            }
            if result.interrupted && request.onInterrupt == .rollback {
                try connection.execute("ROLLBACK")
                result.outcome = "rolled back"
            } else {
                try connection.execute("COMMIT")
                if connection.flavor.family == .mariadb {
                    result.gtid = try connection.query("SELECT @@SESSION.last_gtid").scalar.flatMap { $0.isEmpty ? nil : $0 }
                }
            }
        } catch let error as MariaDBError {
            if connection.isOpen { _ = try? connection.execute("ROLLBACK") }
            throw ToolkitError.server("transaction on \(target.database).\(request.table) (\(result.rowsInserted) rows written, rolled back)", error)
        }
        result.seconds = elapsed()
        ActionJournal.note(target, command: "transaction", "\(request.kind.rawValue) on \(request.table): \(result.rowsInserted) rows in one transaction, \(result.outcome)" + (result.gtid.map { " as GTID \($0)" } ?? ""))
        return result
    }
}

extension TransactionRun.Result: CustomStringConvertible {
    public var description: String {
        var lines = ["Transaction \(type.rawValue) on \(table) (run \(runID)): \(outcome)" + (interrupted ? " after Ctrl-C" : "")]
        lines.append("  \(rowsInserted) rows inserted" + (rowsUpdated + rowsDeleted > 0 ? ", \(rowsUpdated) updated, \(rowsDeleted) deleted" : "")
            + ", \(payloadBytes) payload bytes in \(statements) statements, one transaction")
        lines.append("  largest statement \(largestStatementBytes) bytes (max_allowed_packet \(maxAllowedPacket))")
        if let gtid { lines.append("  GTID \(gtid)") }
        lines.append(String(format: "  %.2f s", seconds))
        return lines.joined(separator: "\n")
    }
}
