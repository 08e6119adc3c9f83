import Agent
import Breakage
import Flavor
import AgentAPI
import Destinations
import Faults
import Foundation
import Infrastructure
import MariaDB
import Measurements
import Pipeline
import Source
import Verification

/// The world a run on this machine reaches: the agent over its control API, its journal on
/// disk, the source and the managed replica over libmariadb, an external destination through
/// `Destinations`' readers, a step's command as this very binary run as a child.
public struct LiveRunWorld: RunWorld {
    public let state: StateDirectory
    public let agent: AgentClient
    public let target: Target
    /// The managed replica, or nil for an external pipeline.
    public let replica: ReplicaPipeline?
    /// The password of the replica's checking account (the source's admin password).
    public let replicaPassword: String
    /// An external pipeline's destination; its MySQL password (`TOOLKIT_DEST_PASSWORD`) if it has one.
    public let destination: DestinationAddress?
    public let destinationPassword: String
    /// The toolkit executable a `toolkit:` step runs.
    public let executable: String
    public let etlLog: ETLLog?

    public init(state: StateDirectory, agent: AgentClient, target: Target, replica: ReplicaPipeline?, replicaPassword: String,
                destination: DestinationAddress?, destinationPassword: String, executable: String, etlLog: ETLLog?) {
        self.state = state
        self.agent = agent
        self.target = target
        self.replica = replica
        self.replicaPassword = replicaPassword
        self.destination = destination
        self.destinationPassword = destinationPassword
        self.executable = executable
        self.etlLog = etlLog
    }

    public func agentStatus() throws -> AgentStatus { try agent.status() }
    public func apply(_ command: FaultCommand) throws -> AgentStatus { try agent.apply(command) }
    public func restoreAll() throws -> AgentStatus { try agent.restoreAll() }
    public func window(_ id: Int) throws -> WindowReport { try agent.window(id) }
    public func journal(from start: Double) -> [JournalEvent] { JournalDirectory(state: state).events(from: start) }
    public func journalSummary(window id: Int) -> WindowReport? { JournalDirectory(state: state).summary(window: id) }

    public func etlSessions(user: String) -> ETLSessions? {
        guard let connection = try? target.connect() else { return nil }
        defer { connection.close() }
        guard let rows = try? connection.query(
            "SELECT COMMAND, IFNULL(STATE, '') FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()",
            [.text(user)]).rows else { return nil }
        let dumps = rows.filter { ($0.first ?? nil)?.hasPrefix("Binlog Dump") == true }
        return ETLSessions(dumpStates: dumps.map { ($0.count > 1 ? $0[1] : nil) ?? "" }, others: rows.count - dumps.count)
    }

    public func sourceGTIDPosition() -> String? {
        guard let connection = try? target.connect() else { return nil }
        defer { connection.close() }
        return (try? connection.query("SELECT @@GLOBAL.gtid_binlog_pos"))?.rows.first?.first ?? nil
    }

    public func replicaStatus() -> ReplicaPipeline.Status? { try? replica?.status() }

    /// In process, as `toolkit verify` compares: every table of the source against an external
    /// pipeline's destination, or the managed replica read as a MySQL destination.
    public func checkData(wait: Duration, deletedAtSource: [String: Set<String>]? = nil,
                          shouldStop: @escaping @Sendable () -> Bool) -> VerifyReport {
        let reader: TableSource
        do { reader = try openDestination() } catch {
            return VerifyReport(tables: [], notReplicatedTables: [], seconds: 0, error: Self.message(error))
        }
        let source = MySQLTables(options: target.admin, database: target.database)
        defer { source.close() }
        do {
            var request = VerifyRequest()
            request.deletedAtSource = deletedAtSource
            return try Verifier(source: source, destination: reader, request: request).verify(wait: wait, shouldStop: shouldStop)
        } catch {
            return VerifyReport(tables: [], notReplicatedTables: [], seconds: 0, error: Self.message(error))
        }
    }

    /// The destination's reader: an external pipeline's, or the managed replica read as a MySQL destination.
    func openDestination() throws -> TableSource {
        if let destination { return try destination.open(mysqlPassword: destinationPassword) }
        if let replica, let port = replica.settings?.port {
            let options = ConnectionOptions(host: "127.0.0.1", port: port, user: ReplicaPipeline.checkUser, password: replicaPassword)
            return MySQLTables(options: options, database: target.database)
        }
        throw ToolkitError("no destination: the managed replica is not set up")
    }

    static func message(_ error: Error) -> String {
        (error as? ReadError)?.description ?? (error as? ToolkitError)?.message ?? "\(error)"
    }

    /// This very binary run as a child with the run's state directory; what it reported on one
    /// line, and how it failed (exit status and its last error line), if it did.
    public func runStep(_ arguments: [String], limit: Duration) -> StepOutcome {
        let command = "toolkit " + arguments.joined(separator: " ")
        var environment = ProcessInfo.processInfo.environment
        environment["TOOLKIT_HOME"] = state.root.path
        let result: ChildProcess.Captured
        do { result = try ChildProcess.capture(executable, arguments, environment: environment, timeout: limit) } catch {
            return StepOutcome(text: "could not start \(command): \(error)", failure: "could not start: \(error)")
        }
        if result.status == 0 {
            return StepOutcome(text: "\(command): " + Self.summary(of: result.stdout, command: arguments.joined(separator: " ")))
        }
        if result.status == 128 + SIGKILL {
            return StepOutcome(text: "\(command): stopped after \(limit) without an answer", failure: "stopped after \(limit) without an answer")
        }
        let last = result.stderr.split(separator: "\n").last.map { ": \($0)" } ?? ""
        return StepOutcome(text: "\(command): exit \(result.status)\(last)", failure: "exit \(result.status)\(last)")
    }

    /// What a toolkit command reported, on one line: its findings (purged, killed, kept...) without
    /// the title that repeats the command, the statements it ran or the before/after lines.
    public static func summary(of report: String, command: String) -> String {
        let lines = report.split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { line in !line.isEmpty && !command.hasPrefix(line) && !["ran:", "before:", "after:"].contains { line.hasPrefix($0) } }
        return lines.isEmpty ? "done" : lines.joined(separator: "; ")
    }
}

extension LiveRunWorld: SoakWorld {
    public func killETLConnections(user: String) throws -> String {
        var request = ConnectionBreakage.Request()
        request.killETLConnections = true
        let result = try ConnectionBreakage(target: target).run(request)
        return result.killedConnections.isEmpty ? "no session of \(user) to kill"
            : "killed \(result.killedConnections.count) session(s) of \(user): " + result.killedConnections.joined(separator: "; ")
    }

    public func ensureHeartbeatTable() throws {
        let connection = try target.connect()
        defer { connection.close() }
        let exists = try connection.query(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            [.text(target.database), .text(Bootstrap.heartbeatTable)]).scalar != "0"
        if !exists {
            _ = try connection.execute("USE \(SQLText.identifier(target.database))")
            _ = try connection.execute(Bootstrap.heartbeatTableDDL)
        }
    }

    /// Read with the destination's own reader, as a data check reads a table.
    public func destinationHeartbeat() throws -> Double? {
        let reader = try openDestination()
        defer { (reader as? MySQLTables)?.close() }
        // Readers that cannot list tables are told which one is asked for.
        if let files = reader as? FileTables { try files.bind(sourceTables: [Bootstrap.heartbeatTable], database: target.database) }
        if let command = reader as? ExecTables { command.bind(sourceTables: [Bootstrap.heartbeatTable], database: target.database) }
        guard let table = try reader.tableNames().first(where: { $0.lowercased() == Bootstrap.heartbeatTable }) else { return nil }
        let columns = try reader.columns(of: table)
        guard let index = columns.firstIndex(where: { $0.name.lowercased() == "beat_us" }) else { return nil }
        let rows = try reader.rows(of: table, columns: columns)
        let beats = rows.compactMap { row in row[index].flatMap { Double($0) } }
        return beats.max().map { $0 / 1_000_000 }
    }

    public func sourceRows(taggedWith prefix: String) -> [String: Int]? {
        guard let connection = try? target.connect() else { return nil }
        defer { connection.close() }
        guard let rows = try? connection.query(
            "SELECT email, id FROM \(SQLText.identifier(target.database)).users WHERE email LIKE ?", [.text(prefix + "%")]).rows else { return nil }
        var ids: [String: Int] = [:]
        for row in rows { if let email = row[0], let id = row[1].flatMap({ Int($0) }) { ids[email] = id } }
        return ids
    }
}

/// The first column of the first row, as a number.
func firstInt(_ result: ResultSet?) -> Int? {
    guard let row = result?.rows.first, let value = row.first, let text = value else { return nil }
    return Int(text)
}
