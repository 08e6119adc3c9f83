import AgentAPI
import Flavor
import Foundation
import Infrastructure
import MariaDB
import Source

/// `toolkit replicate`: what a binlog consumer meets on the source side.
public enum ReplicationScenarioKind: String, Codable, Sendable, CaseIterable {
    case purge, reset, gtidGap = "gtid-gap", disconnect, lag
}

public struct ReplicationScenario {
    public struct Snapshot: Codable, Sendable {
        public var file: String?
        public var gtid: String
        public var files: [String]
    }

    public struct Result: Codable, Sendable, CustomStringConvertible {
        public var scenario: ReplicationScenarioKind
        public var before: Snapshot
        public var after: Snapshot
        /// Every statement or request it made, in order.
        public var actions: [String]
        public var purgedFiles: [String]?
        public var killedConnections: [String]?
        public var gapGTID: String?
        public var missing: String?
        public var rowsWritten: Int?
        public var note: String?

        enum CodingKeys: String, CodingKey {
            case scenario, before, after, actions, missing, note
            case purgedFiles = "purged_files", killedConnections = "killed_connections", gapGTID = "gap_gtid", rowsWritten = "rows_written"
        }

        public var description: String {
            var lines = ["replicate --scenario \(scenario.rawValue)"]
            lines += actions.map { "  ran: \($0)" }
            if let purgedFiles { lines.append("  purged: " + (purgedFiles.isEmpty ? "nothing" : purgedFiles.joined(separator: ", "))) }
            if let killedConnections { lines.append("  killed: " + (killedConnections.isEmpty ? "no binlog reader was connected" : killedConnections.joined(separator: "; "))) }
            if let gapGTID, let missing { lines.append("  gap: wrote \(gapGTID); never written: \(missing)") }
            if let rowsWritten { lines.append("  rows written: \(rowsWritten)") }
            lines.append("  before: file \(before.file ?? "-"), GTID \(before.gtid.isEmpty ? "(empty)" : before.gtid), \(before.files.count) files")
            lines.append("  after:  file \(after.file ?? "-"), GTID \(after.gtid.isEmpty ? "(empty)" : after.gtid), \(after.files.count) files")
            if let note { lines.append("  \(note)") }
            return lines.joined(separator: "\n")
        }
    }

    public struct Options: Sendable {
        public var gap: Int
        public var writes: Int
        public var delayMs: Int
        public var durationSeconds: Int
        public init(gap: Int = 10, writes: Int = 3, delayMs: Int = 5000, durationSeconds: Int = 60) {
            self.gap = gap
            self.writes = writes
            self.delayMs = delayMs
            self.durationSeconds = durationSeconds
        }
    }

    /// The table gtid-gap writes to.
    public static let gapTable = "gtid_gap_test"

    let target: Target
    public init(target: Target) { self.target = target }

    static func attempt(_ body: () throws(MariaDBError) -> Void) -> MariaDBError? {
        do { try body(); return nil } catch { return error }
    }

    func snapshot(_ connection: MariaDBConnection) throws -> Snapshot {
        try doing("reading the binlog state") {
            Snapshot(file: try connection.currentBinlogFile(), gtid: try connection.gtidExecuted(), files: try connection.binaryLogs().map(\.name))
        }
    }

    public func run(_ kind: ReplicationScenarioKind, options: Options, shouldStop: @escaping () -> Bool = { false },
                    tick: (Int) -> Void = { _ in }) throws -> Result {
        let connection = try target.connect(database: target.database)
        defer { connection.close() }
        let flavor = connection.flavor
        let before = try snapshot(connection)
        var result = Result(scenario: kind, before: before, after: before, actions: [])
        func run(_ sql: String) throws {
            do { try connection.execute(sql) } catch { throw ToolkitError.server("running \(sql)", error) }
            result.actions.append(sql)
        }
        switch kind {
        case .purge:
            try run("FLUSH BINARY LOGS")
            guard let current = try doing("reading the binlog status", { try connection.currentBinlogFile() }),
                  BinlogFileName.isValid(current) else { throw ToolkitError("the server reports no binlog file; is log_bin on?") }
            // MariaDB keeps the previous file until its binlog checkpoint moves on (just after a
            // flush), and any server keeps a file a reader is on: retry for a few seconds.
            let purge = "PURGE BINARY LOGS TO \(SQLText.literal(current))"
            var remaining: [String] = []
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(5))
            repeat {
                try doing("running \(purge)") { try connection.execute(purge) }
                remaining = try doing("listing binlogs") { try connection.binaryLogs().map(\.name) }
                if remaining == [current] || clock.now >= deadline { break }
                Thread.sleep(forTimeInterval: 0.1)
            } while true
            result.actions.append(purge)
            result.purgedFiles = before.files.filter { !remaining.contains($0) }
            let kept = before.files.filter { remaining.contains($0) && $0 != current }
            if !kept.isEmpty { result.note = "still in use by a reader, so kept: \(kept.joined(separator: ", "))" }
        case .reset:
            try run(flavor.resetBinaryLogsStatement)
            result.purgedFiles = before.files
        case .disconnect:
            let threads = try doing("listing binlog dump threads") { try connection.query(flavor.dumpThreadsQuery) }
            var killed: [String] = []
            for row in threads.rows {
                guard let id = row[0].flatMap({ UInt64($0) }) else { continue }
                if let error = Self.attempt({ () throws(MariaDBError) in _ = try connection.execute("KILL CONNECTION \(id)") }) {
                    // 1094, unknown thread id: it went away by itself meanwhile.
                    if error.number == 1094 { continue }
                    throw ToolkitError.server("running KILL CONNECTION \(id)", error)
                }
                result.actions.append("KILL CONNECTION \(id)")
                killed.append("\(id) \(row[1] ?? "?")@\(row[2] ?? "?") (\(row[4] ?? "Binlog Dump"))")
            }
            result.killedConnections = killed
            try run("FLUSH BINARY LOGS")
        case .gtidGap:
            try run("CREATE TABLE IF NOT EXISTS \(SQLText.identifier(Self.gapTable)) (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                    + "note VARCHAR(100) NOT NULL, created_at TIMESTAMP(6) DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB")
            let insert = "INSERT INTO \(SQLText.identifier(Self.gapTable)) (note) VALUES (?)"
            func write(_ note: String) throws {
                do { try connection.execute(insert, [.text(note)]) } catch { throw ToolkitError.server("inserting into \(Self.gapTable)", error) }
            }
            if flavor.family == .mariadb {
                let (domain, binlogPos) = try doing("reading the GTID state") {
                    (Int(try connection.query("SELECT @@SESSION.gtid_domain_id").scalar ?? "0") ?? 0, try connection.gtidExecuted())
                }
                let (first, missing) = GTIDGap.plan(last: GTIDGap.mariaDBLastSeqNo(binlogPos: binlogPos, domain: domain), gap: options.gap)
                try run("SET SESSION gtid_seq_no = \(first)")
                try write("after a gap of \(options.gap)")
                result.actions.append(insert)
                let serverID = try doing("reading server_id") { try connection.globalVariable("server_id") ?? "?" }
                result.gapGTID = "\(domain)-\(serverID)-\(first)"
                result.missing = "\(domain)-\(serverID)-\(missing.lowerBound) ... \(domain)-\(serverID)-\(missing.upperBound)"
                for index in 0..<options.writes { try write("write \(index + 1) after the gap") }
            } else {
                let (uuid, executed) = try doing("reading the GTID state") {
                    (try connection.globalVariable("server_uuid") ?? "", try connection.gtidExecuted())
                }
                let (first, missing) = GTIDGap.plan(last: GTIDGap.mySQLLastNumber(executed: executed, uuid: uuid), gap: options.gap)
                // Automatic GTIDs on MySQL fill the lowest free number, so the writes after the gap
                // carry explicit numbers too; later automatic ones will fill the hole.
                for index in 0...options.writes {
                    try run("SET SESSION gtid_next = \(SQLText.literal("\(uuid):\(first + UInt64(index))"))")
                    try write(index == 0 ? "after a gap of \(options.gap)" : "write \(index) after the gap")
                    result.actions.append(insert)
                }
                try run("SET SESSION gtid_next = 'AUTOMATIC'")
                result.gapGTID = "\(uuid):\(first)"
                result.missing = "\(uuid):\(missing.lowerBound)-\(missing.upperBound)"
                result.note = "MySQL gives later automatic GTIDs the lowest free number, so new writes will fill the gap"
            }
            if options.writes > 0 { result.actions.append("\(options.writes) more INSERTs with the next GTIDs") }
            result.rowsWritten = options.writes + 1
        case .lag:
            guard let state = target.state else {
                throw ToolkitError("replicate --scenario lag needs the agent of a managed source (toolkit up); this server has none")
            }
            let client = try AgentDiscovery.client(state: state)
            let command = FaultCommand(action: .slow, spec: .latency(ms: options.delayMs, scope: .replication),
                                       durationSeconds: options.durationSeconds)
            do {
                _ = try client.apply(command)
            } catch {
                throw ToolkitError("the agent refused the lag: \(error)")
            }
            result.actions.append("agent: \(options.delayMs) ms latency on replication connections for \(options.durationSeconds) s")
            ActionJournal.note(target, command: "replicate", "lag: \(options.delayMs) ms on replication connections for \(options.durationSeconds) s, writing 1 row/s")
            // Writes continue meanwhile, so that readers have events to receive late.
            let generator = DataGenerator(target: target)
            try generator.prepare(table: "users")
            var written = 0
            let clock = ContinuousClock()
            let end = clock.now.advanced(by: .seconds(options.durationSeconds))
            var second = 0
            while clock.now < end && !shouldStop() {
                written += try generator.run(.init(count: 1, table: "users")).rowsInserted
                second += 1
                tick(options.durationSeconds - second)
                let next = clock.now.advanced(by: .seconds(1))
                while clock.now < min(next, end) && !shouldStop() { Thread.sleep(forTimeInterval: 0.05) }
            }
            result.rowsWritten = written
            result.note = shouldStop() && clock.now < end
                ? "stopped writing on Ctrl-C; the agent still ends the lag at its time (toolkit network --slow --off ends it now)"
                : "the agent removed the lag at the end of --duration"
        }
        result.after = try snapshot(connection)
        ActionJournal.note(target, command: "replicate", "\(kind.rawValue): " + result.actions.joined(separator: "; "))
        return result
    }
}

/// Binlog file names as the server makes them: `base.000123`, nothing that could leave a directory.
public enum BinlogFileName {
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 255, name != ".", name != "..", !name.hasPrefix(".") else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
    }
}
