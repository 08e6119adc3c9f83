import Flavor
import Foundation
import Infrastructure
import MariaDB
import Source

/// A pipeline out of the box: a second server the toolkit starts as a replica of its source,
/// connected *through the gateway* as the ETL user, with an ETL tool's reconnect habits (retry
/// every second, a dead connection noticed after a few seconds). Its tables are the destination.
/// Lives in `TOOLKIT_HOME/pipeline-replica`.
public struct ReplicaPipeline: Sendable {
    public let state: StateDirectory
    /// The source's state directory it belongs to.
    public let home: StateDirectory

    public init(home: StateDirectory) {
        self.home = home
        state = StateDirectory(root: home.root.appendingPathComponent("pipeline-replica"))
    }

    /// What `pipeline up` records: where the replica listens and how it reaches the source.
    public struct Settings: Codable, Sendable, Hashable {
        public var port: Int
        public var sourceHost: String
        public var sourcePort: Int
        public var retrySeconds: Int
        public var netTimeoutSeconds: Int

        enum CodingKeys: String, CodingKey {
            case port
            case sourceHost = "source_host", sourcePort = "source_port"
            case retrySeconds = "retry_seconds", netTimeoutSeconds = "net_timeout_seconds"
        }
    }

    /// `SHOW SLAVE STATUS`, reduced to what a tester reads.
    public struct Status: Codable, Sendable, Hashable, CustomStringConvertible {
        public var exists: Bool
        public var running: Bool
        public var port: Int?
        public var source: String?
        public var ioRunning: String?
        public var sqlRunning: String?
        public var lastIOErrno: Int?
        public var lastIOError: String?
        public var lastSQLErrno: Int?
        public var lastSQLError: String?
        public var secondsBehind: Int?
        public var gtidPosition: String?
        /// Why the replica's state could not be read (it did not answer in time, say while it waits for disk space).
        public var problem: String?

        enum CodingKeys: String, CodingKey {
            case exists, running, port, source, problem
            case ioRunning = "io_running", sqlRunning = "sql_running"
            case lastIOErrno = "last_io_errno", lastIOError = "last_io_error"
            case lastSQLErrno = "last_sql_errno", lastSQLError = "last_sql_error"
            case secondsBehind = "seconds_behind", gtidPosition = "gtid_position"
        }

        public init(exists: Bool, running: Bool, port: Int? = nil, source: String? = nil) {
            self.exists = exists
            self.running = running
            self.port = port
            self.source = source
        }

        /// Both replication threads running.
        public var replicating: Bool { ioRunning == "Yes" && sqlRunning == "Yes" }

        public var description: String {
            guard exists else { return "Pipeline  none (start one with `toolkit pipeline up`)" }
            guard running, let port else { return "Pipeline  replica stopped (`toolkit pipeline up` starts it again)" }
            var lines = ["Pipeline  replica on 127.0.0.1:\(port), reading \(source ?? "?") through the gateway"]
            if let problem { lines.append("State     unknown: \(problem)") }
            lines.append("Threads   IO \(ioRunning ?? "?"), SQL \(sqlRunning ?? "?")"
                + (secondsBehind.map { ", \($0) s behind" } ?? ""))
            if let gtidPosition { lines.append("Position  gtid \(gtidPosition)") }
            if let lastIOErrno, lastIOErrno != 0 { lines.append("IO error  \(lastIOErrno): \(lastIOError ?? "")") }
            if let lastSQLErrno, lastSQLErrno != 0 { lines.append("SQL error \(lastSQLErrno): \(lastSQLError ?? "")") }
            return lines.joined(separator: "\n")
        }
    }

    var settingsFile: URL { state.root.appendingPathComponent("pipeline.json") }

    public var settings: Settings? {
        guard let data = try? Data(contentsOf: settingsFile) else { return nil }
        return try? JSONDecoder().decode(Settings.self, from: data)
    }

    /// Creates (first time) and starts the replica, pointed at the gateway as the ETL user.
    /// Idempotent: a running replica is left as it is.
    public func up(source: SourceConfig, retrySeconds: Int = 1, netTimeoutSeconds: Int = 4) throws -> Status {
        let server = try ManagedServer.locate(state: state)
        if server.runningPID() != nil, settings != nil {
            try ensureAccounts(source: source)
            return try status()
        }
        try server.requireReachableState()
        try FileManager.default.createDirectory(at: state.root, withIntermediateDirectories: true)
        let port = settings?.port ?? PortProbe.ephemeral()
        let fresh = !server.isInitialized
        try server.prepareDirectories()
        try server.writeOptionFile(port: port, flavor: .mariadb10_11, serverID: 2)
        try server.initializeIfNeeded()
        _ = try server.start()
        let recorded = Settings(port: port, sourceHost: source.listenHost == "0.0.0.0" ? "127.0.0.1" : source.listenHost,
                                sourcePort: source.publicPort, retrySeconds: retrySeconds, netTimeoutSeconds: netTimeoutSeconds)
        let data = try JSONEncoder().encode(recorded)
        try data.write(to: settingsFile, options: .atomic)
        chmod(settingsFile.path, 0o600)
        // A fresh replica's root accounts have no password: closed before anything else is done.
        try ensureAccounts(source: source)
        let connection = try connect(source: source)
        defer { connection.close() }
        try connection.execute("SET GLOBAL slave_net_timeout = \(netTimeoutSeconds)")
        if fresh {
            try connection.execute(ServerFlavor.mariadb10_11.changeSourceStatement(
                host: recorded.sourceHost, port: recorded.sourcePort, user: source.etlUser, password: source.etlPassword,
                retrySeconds: retrySeconds))
        }
        try connection.execute("START SLAVE")
        return try status()
    }

    /// The read-only account `run` compares the replica's tables with, over TCP as `toolkit verify`'s
    /// `mysql://toolkit_check@127.0.0.1:PORT/DB` (the source's accounts are not replicated: they are
    /// written with the binlog off). Its password is the source's admin password, which the toolkit
    /// already keeps (mode 0600); the statements stay out of the replica's binlog too.
    public static let checkUser = "toolkit_check"

    /// The hosts the replica's root may log in from, all with the source's admin password.
    static let rootHosts = ["localhost", "127.0.0.1", "::1"]

    /// The replica's accounts, made safe and complete (idempotent; none of it reaches the replica's binlog):
    /// a fresh install's root accounts have no password and ALL PRIVILEGES WITH GRANT OPTION, so any
    /// local account could rewrite the destination over 127.0.0.1. Root gets the source's admin
    /// password on localhost, 127.0.0.1 and ::1; its other accounts (root@HOSTNAME) and anonymous ones
    /// are dropped; `toolkit_check` is created for `run`'s comparisons.
    public func ensureAccounts(source: SourceConfig) throws {
        let connection = try connect(source: source)
        defer { connection.close() }
        let flavor = ServerFlavor.mariadb10_11
        try connection.execute(flavor.sessionBinaryLogStatement(enabled: false))
        let accounts = try connection.query("SELECT User, Host FROM mysql.user WHERE User IN ('root', '')").rows
        var statements: [String] = []
        for row in accounts {
            let user = row[0] ?? "", host = row[1] ?? ""
            if user.isEmpty || !Self.rootHosts.contains(host) { statements.append("DROP USER \(SQLText.account(user, host))") }
        }
        for host in Self.rootHosts {
            statements += flavor.accountStatements(user: "root", host: host, password: source.adminPassword)
            statements.append("GRANT ALL PRIVILEGES ON *.* TO \(SQLText.account("root", host)) WITH GRANT OPTION")
        }
        statements += flavor.accountStatements(user: Self.checkUser, host: "127.0.0.1", password: source.adminPassword)
            + ["GRANT SELECT, SHOW VIEW ON *.* TO \(SQLText.account(Self.checkUser, "127.0.0.1"))"]
        for statement in statements {
            try connection.execute(statement)
        }
    }

    /// Stops the replica (and with `purge`, removes it and its data).
    public func down(purge: Bool) throws {
        guard FileManager.default.fileExists(atPath: state.root.path) else { return }
        let server = try ManagedServer.locate(state: state)
        if server.runningPID() != nil {
            if let connection = try? connect() { _ = try? connection.execute("STOP SLAVE"); connection.close() }
            try server.stop()
        }
        if purge {
            try server.purge()
            try? FileManager.default.removeItem(at: state.root)
        }
    }

    public func status() throws -> Status {
        guard let settings else {
            return Status(exists: false, running: false)
        }
        let server = try ManagedServer.locate(state: state)
        var status = Status(exists: true, running: server.runningPID() != nil, port: settings.port,
                            source: "\(settings.sourceHost):\(settings.sourcePort)")
        guard status.running else { return status }
        let values: [String: String]
        do {
            values = try replicationStatus()
        } catch {
            status.problem = "the replica did not answer SHOW SLAVE STATUS (each wait bounded to \(Self.answerSeconds) s): \(error)"
            return status
        }
        status.ioRunning = values["Slave_IO_Running"]
        status.sqlRunning = values["Slave_SQL_Running"]
        status.lastIOErrno = values["Last_IO_Errno"].flatMap { Int($0) }
        status.lastIOError = values["Last_IO_Error"].flatMap { $0.isEmpty ? nil : $0 }
        status.lastSQLErrno = values["Last_SQL_Errno"].flatMap { Int($0) }
        status.lastSQLError = values["Last_SQL_Error"].flatMap { $0.isEmpty ? nil : $0 }
        status.secondsBehind = values["Seconds_Behind_Master"].flatMap { Int($0) }
        status.gtidPosition = values["Gtid_Slave_Pos"] ?? appliedGTIDPosition()
        return status
    }

    /// `@@gtid_slave_pos`: the last transaction the replica applied, per domain.
    public func appliedGTIDPosition() -> String? {
        guard let connection = try? connect() else { return nil }
        defer { connection.close() }
        return (try? connection.query("SELECT @@GLOBAL.gtid_slave_pos"))?.rows.first?.first ?? nil
    }

    /// `SHOW SLAVE STATUS` as column → value (empty when replication is not configured).
    public func replicationStatus() throws -> [String: String] {
        let connection = try connect()
        defer { connection.close() }
        return try connection.query("SHOW SLAVE STATUS").firstRowByColumn
    }

    /// As root over the replica's socket, with the source's admin password (`ensureAccounts` sets it);
    /// a replica just installed has none yet.
    /// Every wait for the replica's answer is bounded: a replica waiting for disk space holds the locks
    /// `SHOW SLAVE STATUS` needs, and `pipeline status` would wait with it.
    public static let answerSeconds: UInt32 = 10

    public func connect(source: SourceConfig? = nil) throws -> MariaDBConnection {
        let password = source?.adminPassword ?? (try? SourceConfig.load(from: home.configFile))??.adminPassword ?? Target.defaultAdminPassword
        func options(_ password: String) -> ConnectionOptions {
            ConnectionOptions(user: "root", password: password, socket: state.socketFile.path,
                              connectTimeoutSeconds: Self.answerSeconds, readTimeoutSeconds: Self.answerSeconds)
        }
        do {
            return try MariaDBConnection(options(password))
        } catch {
            // Only a refused password is worth another try: a replica that does not answer would cost the wait twice.
            guard error.number == 1045 else { throw error }
            return try MariaDBConnection(options(""))
        }
    }
}
