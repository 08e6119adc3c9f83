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

        enum CodingKeys: String, CodingKey {
            case exists, running, port, source
            case ioRunning = "io_running", sqlRunning = "sql_running"
            case lastIOErrno = "last_io_errno", lastIOError = "last_io_error"
            case lastSQLErrno = "last_sql_errno", lastSQLError = "last_sql_error"
            case secondsBehind = "seconds_behind", gtidPosition = "gtid_position"
        }

        /// Both replication threads running.
        public var replicating: Bool { ioRunning == "Yes" && sqlRunning == "Yes" }

        public var description: String {
            guard exists else { return "Pipeline  none (start one with `toolkit pipeline up`)" }
            guard running, let port else { return "Pipeline  replica stopped (`toolkit pipeline up` starts it again)" }
            var lines = ["Pipeline  replica on 127.0.0.1:\(port), reading \(source ?? "?") through the gateway"]
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
            try ensureCheckAccount(source: source)
            return try status()
        }
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
        let connection = try connect(source: source)
        defer { connection.close() }
        try connection.execute("SET GLOBAL slave_net_timeout = \(netTimeoutSeconds)")
        if fresh {
            try connection.execute(ServerFlavor.mariadb10_11.changeSourceStatement(
                host: recorded.sourceHost, port: recorded.sourcePort, user: source.etlUser, password: source.etlPassword,
                retrySeconds: retrySeconds))
        }
        try connection.execute("START SLAVE")
        try ensureCheckAccount(source: source)
        return try status()
    }

    /// The read-only account `run` compares the replica's tables with, over TCP as `toolkit verify`'s
    /// `mysql://toolkit_check@127.0.0.1:PORT/DB` (the source's accounts are not replicated: they are
    /// written with the binlog off). Its password is the source's admin password, which the toolkit
    /// already keeps (mode 0600); the statements stay out of the replica's binlog too.
    public static let checkUser = "toolkit_check"

    public func ensureCheckAccount(source: SourceConfig) throws {
        let connection = try connect(source: source)
        defer { connection.close() }
        let flavor = ServerFlavor.mariadb10_11
        let statements = [flavor.sessionBinaryLogStatement(enabled: false)]
            + flavor.accountStatements(user: Self.checkUser, host: "127.0.0.1", password: source.adminPassword)
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
        guard status.running, let values = try? replicationStatus() else { return status }
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

    /// As root over the replica's socket. Once the source's bootstrap has replicated, root has
    /// the source's password; before, none.
    public func connect(source: SourceConfig? = nil) throws -> MariaDBConnection {
        let password = source?.adminPassword ?? (try? SourceConfig.load(from: home.configFile))??.adminPassword ?? Target.defaultAdminPassword
        do {
            return try MariaDBConnection(ConnectionOptions(user: "root", password: password, socket: state.socketFile.path))
        } catch {
            return try MariaDBConnection(ConnectionOptions(user: "root", password: "", socket: state.socketFile.path))
        }
    }
}
