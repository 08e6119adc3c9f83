import Flavor
import Foundation
import Infrastructure
import MariaDB

/// `toolkit up` and `toolkit down`: the whole life of the local source.
public struct ManagedSource: Sendable {
    public let state: StateDirectory

    public init(state: StateDirectory) { self.state = state }

    public struct UpRequest: Sendable {
        public var publicPort: Int
        public var database: String
        public var adminPassword: String
        public var etlUser: String
        public var etlPassword: String
        public var listenHost: String
        public var backend: String?
        /// The agent's control address (`unix`, the default, or `tcp:ADDR:PORT`).
        public var control: String?
        /// Without a gateway (library use and tests of the bare server) the server takes the public port itself.
        public var privateServerPort: Bool
        /// The public port is held by our own agent's gateway: not a conflict.
        public var publicPortHeldByAgent = false
        /// TLS (`up --tls`); nil keeps the recorded choice, else `terminate` (a fronted server: `passthrough`).
        public var tls: TLSMode?
        /// Options for the server's `[mysqld]` (`up --server-option`); nil keeps the recorded ones.
        public var serverOptions: [ServerOption]?
        /// Restart a running server so that changed options take effect (`up --restart`).
        public var restart = false
        public init(publicPort: Int, database: String, adminPassword: String, etlUser: String, etlPassword: String,
                    listenHost: String = "127.0.0.1", backend: String? = nil, privateServerPort: Bool = false) {
            self.publicPort = publicPort
            self.database = database
            self.adminPassword = adminPassword
            self.etlUser = etlUser
            self.etlPassword = etlPassword
            self.listenHost = listenHost
            self.backend = backend
            self.privateServerPort = privateServerPort
        }
    }

    /// Creates (first time), starts (if stopped) and bootstraps the source. Harmless when it already runs.
    public func up(_ request: UpRequest) throws -> UpResult {
        let server = try ManagedServer.locate(state: state)
        var config = try SourceConfig.load(from: state.configFile)
        let tlsMode = request.tls ?? config?.tls ?? .terminate
        let serverOptions = request.serverOptions ?? config?.serverOptions ?? []
        var alreadyRunning = server.runningPID() != nil
        if alreadyRunning && request.restart {
            // Checked before the server stops: a refused conf.d must not leave the source down.
            if server.hasIncludeDirectory { try server.requireTrustedIncludeDirectory() }
            try server.stop()
            alreadyRunning = false
        }
        if !alreadyRunning { try server.requireReachableState() }
        if let existing = config, alreadyRunning, existing.publicPort != request.publicPort {
            throw ToolkitError("the source in \(state.root.path) already runs on port \(existing.publicPort); run `toolkit down` first to move it to --port \(request.publicPort)")
        }
        if !alreadyRunning && !request.publicPortHeldByAgent { try PortProbe.requireFree(request.publicPort) }
        // Behind the gateway the server listens on a private loopback port, kept across restarts.
        var serverPort = request.publicPort
        if request.privateServerPort {
            if let previous = config?.serverPort, previous != request.publicPort, alreadyRunning || PortProbe.isFree(previous) {
                serverPort = previous
            } else {
                serverPort = PortProbe.ephemeral()
            }
        }
        let guessedFlavor = server.family == .mariadb ? ServerFlavor.mariadb10_11 : ServerFlavor.mysql8_0
        config = SourceConfig(flavor: server.family.rawValue, publicPort: request.publicPort, serverPort: serverPort,
                              database: request.database, adminUser: "root", adminPassword: request.adminPassword,
                              etlUser: request.etlUser, etlPassword: request.etlPassword,
                              listenHost: request.listenHost, isManaged: true, backend: request.backend,
                              control: request.control ?? config?.control)
        config?.tls = tlsMode
        config?.serverOptions = serverOptions.isEmpty ? nil : serverOptions
        let ca = ToolkitCA(state: state)
        try ca.generateIfNeeded(serverGroup: server.serverGroup)
        if alreadyRunning, let previous = try SourceConfig.load(from: state.configFile) { serverPort = previous.serverPort }
        config?.serverPort = serverPort
        var startedPID: pid_t? = nil
        // A running server keeps the option file it started with (rewriting it would change nothing it
        // runs with): what this `up` would write differs when options or conf.d changed.
        let restartNeeded = alreadyRunning && (try? String(contentsOf: state.serverOptionFile, encoding: .utf8))
            != server.optionFileText(port: serverPort, flavor: guessedFlavor, tls: tlsMode.serverServesTLS ? ca : nil,
                                     options: serverOptions)
        if !alreadyRunning {
            try server.prepareDirectories()
            try server.writeOptionFile(port: serverPort, flavor: guessedFlavor, tls: tlsMode.serverServesTLS ? ca : nil,
                                       options: serverOptions)
            try server.initializeIfNeeded()
            startedPID = try server.start()
        }
        let connection = try adminConnection(password: request.adminPassword)
        defer { connection.close() }
        guard let flavor = try connection.identifyFlavor() else {
            throw ToolkitError("unrecognised server version '\(connection.serverVersion)'")
        }
        try Bootstrap(database: request.database, adminUser: "root", adminPassword: request.adminPassword,
                      etlUser: request.etlUser, etlPassword: request.etlPassword)
            .apply(on: connection, flavor: flavor)
        try config!.save(to: state.configFile)
        var result = UpResult(stateDirectory: state.root.path, flavor: flavor.family.rawValue, version: flavor.version,
                        host: request.listenHost == "0.0.0.0" ? "127.0.0.1" : request.listenHost, port: request.publicPort, serverPort: serverPort,
                        pid: Int(startedPID ?? server.runningPID() ?? 0), alreadyRunning: alreadyRunning,
                        database: request.database,
                        admin: .admin(request.adminPassword),
                        etl: .etl(request.etlUser, request.etlPassword),
                        tls: tlsMode, caCertificate: ca.caCertificate.path)
        result.serverOptions = (config?.serverOptions ?? []).map(\.description)
        if restartNeeded { result.restartNeeded = true }
        return result
    }

    /// Records a server the toolkit did not start, for the agent to front (`up --upstream`).
    public func front(upstreamHost: String, upstreamPort: Int, request: UpRequest) throws -> UpResult {
        try PortProbe.requireFree(request.publicPort)
        try state.prepareOwnDirectories()
        var flavor: ServerFlavor?
        if let connection = try? MariaDBConnection(ConnectionOptions(host: upstreamHost, port: upstreamPort, user: "root",
                                                                     password: request.adminPassword, connectTimeoutSeconds: 3)) {
            flavor = (try? connection.identifyFlavor()) ?? nil
            connection.close()
        }
        let ca = ToolkitCA(state: state)
        try ca.generateIfNeeded()
        var config = SourceConfig(flavor: flavor?.family.rawValue ?? "unknown", publicPort: request.publicPort,
                                  serverPort: upstreamPort, host: upstreamHost, database: request.database,
                                  adminUser: "root", adminPassword: request.adminPassword,
                                  etlUser: request.etlUser, etlPassword: request.etlPassword,
                                  listenHost: request.listenHost, isManaged: false, backend: request.backend,
                                  control: request.control)
        config.tls = request.tls ?? .passthrough
        try config.save(to: state.configFile)
        return UpResult(stateDirectory: state.root.path, flavor: config.flavor, version: flavor?.version ?? "?",
                        host: request.listenHost, port: request.publicPort, serverPort: upstreamPort, pid: 0,
                        alreadyRunning: false, database: request.database,
                        admin: .admin(request.adminPassword),
                        etl: .etl(request.etlUser, request.etlPassword), upstream: "\(upstreamHost):\(upstreamPort)",
                        tls: config.tlsMode, caCertificate: ca.caCertificate.path)
    }

    /// Connects over the socket as root; a fresh install has an empty root password.
    private func adminConnection(password: String) throws -> MariaDBConnection {
        var lastError: MariaDBError?
        for candidate in [password, ""] {
            do {
                return try MariaDBConnection(ConnectionOptions(user: "root", password: candidate, socket: state.socketFile.path))
            } catch {
                lastError = error
                if error.number != 1045 { break }
            }
        }
        throw ToolkitError.server("connecting to the managed server as root", lastError!)
    }

    /// Stops the server cleanly; with `purge`, removes everything `up` created.
    public func down(purge: Bool) throws -> DownResult {
        let server = try ManagedServer.locate(state: state)
        let wasRunning = server.runningPID() != nil
        try server.stop()
        if purge { try server.purge() }
        return DownResult(stateDirectory: state.root.path, wasRunning: wasRunning, purged: purge)
    }
}

public struct UpResult: Codable, Sendable {
    /// An account `up` made. Its password is shown only when it is the well-known default (so a first
    /// run can be followed by hand); one chosen in the environment stays out of terminals and CI logs.
    public struct Account: Codable, Sendable {
        public var user: String
        public var password: String?
        /// Where the password came from when it is not shown.
        public var passwordFrom: String?

        enum CodingKeys: String, CodingKey { case user, password, passwordFrom = "password_from" }

        public init(user: String, password: String, defaultPassword: String, variable: String) {
            self.user = user
            if password == defaultPassword { self.password = password } else { passwordFrom = variable }
        }

        public static func admin(_ password: String) -> Account {
            Account(user: "root", password: password, defaultPassword: Target.defaultAdminPassword, variable: "MYSQL_ROOT_PASSWORD")
        }

        public static func etl(_ user: String, _ password: String) -> Account {
            Account(user: user, password: password, defaultPassword: Target.defaultETLPassword, variable: "TOOLKIT_ETL_PASSWORD")
        }

        var shown: String { password.map { "\($0)   (the default)" } ?? "password from $\(passwordFrom ?? "?")" }
    }
    public var stateDirectory: String
    public var flavor: String
    public var version: String
    public var host: String
    public var port: Int
    public var serverPort: Int
    public var pid: Int
    public var alreadyRunning: Bool
    public var database: String
    public var admin: Account
    public var etl: Account
    /// Set when the gateway fronts a server the toolkit did not start.
    public var upstream: String?
    /// The agent's pid, once it runs.
    public var agentPID: Int?
    public var backend: String?
    /// What the toolkit does with TLS, and the CA clients verify the server (and the gateway) with.
    public var tls: TLSMode?
    public var caCertificate: String?
    /// The options added to the server's configuration (`up --server-option`).
    public var serverOptions: [String]?
    /// Set when the recorded server options differ from what the running server started with.
    public var restartNeeded: Bool?

    enum CodingKeys: String, CodingKey {
        case serverOptions = "server_options", restartNeeded = "restart_needed"
        case flavor, version, host, port, pid, database, admin, etl, upstream, backend, tls
        case caCertificate = "ca_certificate"
        case agentPID = "agent_pid"
        case stateDirectory = "state_directory", serverPort = "server_port", alreadyRunning = "already_running"
    }

    public init(stateDirectory: String, flavor: String, version: String, host: String, port: Int, serverPort: Int,
                pid: Int, alreadyRunning: Bool, database: String, admin: Account, etl: Account, upstream: String? = nil,
                tls: TLSMode? = nil, caCertificate: String? = nil) {
        self.tls = tls
        self.caCertificate = caCertificate
        self.stateDirectory = stateDirectory
        self.flavor = flavor
        self.version = version
        self.host = host
        self.port = port
        self.serverPort = serverPort
        self.pid = pid
        self.alreadyRunning = alreadyRunning
        self.database = database
        self.admin = admin
        self.etl = etl
        self.upstream = upstream
    }
}

extension UpResult: CustomStringConvertible {
    private var tlsLine: String {
        let ca = caCertificate ?? "?"
        switch tls ?? .terminate {
        case .terminate: return "on, terminated and observed by the gateway; CA \(ca)"
        case .passthrough: return "on, relayed blind by the gateway (not observable); CA \(ca)"
        case .off: return "off"
        }
    }

    public var description: String {
        """
        \(upstream.map { "Gateway started in front of \($0)" } ?? "\(alreadyRunning ? "Source already running" : "Source started"): \(flavor == "mariadb" ? "MariaDB" : "MySQL") \(version) (pid \(pid))"), state in \(stateDirectory)
          host      \(host)
          port      \(port)\(upstream == nil ? "   (gateway; the server itself listens on 127.0.0.1:\(serverPort))" : "")
          agent     \(agentPID.map { "pid \($0), \(backend ?? "gateway") backend" } ?? "not running")
          database  \(database)
          ETL user  \(etl.user) / \(etl.shown); replication privileges granted
          admin     \(admin.user) / \(admin.shown)
          TLS       \(tlsLine)\(optionsLine)

          mysql -h \(host) -P \(port) -u \(etl.user) -p \(database)\(restartLine)
        """
    }

    private var optionsLine: String {
        guard let serverOptions, !serverOptions.isEmpty else { return "" }
        return "\n  options   " + serverOptions.joined(separator: " ")
    }

    private var restartLine: String {
        restartNeeded == true
            ? "\n\nThe server's options changed (--server-option, conf.d or --tls) but it still runs with the old ones: "
                + "a restart is needed, `toolkit up --restart` does it."
            : ""
    }
}

public struct DownResult: Codable, Sendable, CustomStringConvertible {
    public var stateDirectory: String
    public var wasRunning: Bool
    public var purged: Bool

    enum CodingKeys: String, CodingKey {
        case stateDirectory = "state_directory", wasRunning = "was_running", purged
    }

    public var description: String {
        let what = wasRunning ? "Source stopped" : "Source was not running"
        return purged ? "\(what); removed its data and configuration from \(stateDirectory)" : "\(what); data kept in \(stateDirectory)"
    }
}
