import Foundation
import Infrastructure
import MariaDB

/// The server a command works on, and with which credentials. Resolved from, in order of
/// precedence: flags, the environment (`MYSQL_HOST`, `MYSQL_PORT`, `MYSQL_USER`, `MYSQL_PWD`,
/// `MYSQL_ROOT_PASSWORD`, `MYSQL_DATABASE`), a config file (`--config` or the managed
/// source's `toolkit.json`), and the defaults.
public struct Target: Sendable {
    public var admin: ConnectionOptions
    public var database: String
    public var etlUser: String
    public var etlPassword: String
    /// The managed source's state, when this target is the server `toolkit up` started.
    public var state: StateDirectory?
    public var config: SourceConfig?

    public static let defaultDatabase = "testdb"
    public static let defaultAdminPassword = "rootpassword"
    public static let defaultETLUser = "hevo"
    public static let defaultETLPassword = "hevopassword"

    public struct Overrides: Sendable {
        public var host: String?
        public var port: Int?
        public var user: String?
        public var password: String?
        public var database: String?
        public var socket: String?
        public var configFile: String?
        public var home: String?
        public init() {}
    }

    public static func resolve(_ flags: Overrides, environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> Target {
        let state = StateDirectory.resolve(flag: flags.home, environment: env)
        let config: SourceConfig?
        if let file = flags.configFile {
            guard FileManager.default.fileExists(atPath: file) else { throw ToolkitError.usage("--config \(file): no such file") }
            do {
                config = try SourceConfig.load(from: URL(fileURLWithPath: file))
            } catch {
                throw ToolkitError.usage("--config must name a readable JSON file in the shape of toolkit.json; \(error)")
            }
        } else {
            config = try SourceConfig.load(from: state.configFile)
        }
        // A state directory named on purpose but holding no source must not quietly fall back to
        // whatever answers on 127.0.0.1:3306 (another instance's server).
        let namesServer = flags.host != nil || flags.port != nil || flags.socket != nil
            || env["MYSQL_HOST"].nonEmpty != nil || env["MYSQL_PORT"].nonEmpty != nil
        let namedHome = flags.home.nonEmpty.map { "--home \($0)" } ?? env["TOOLKIT_HOME"].nonEmpty.map { "TOOLKIT_HOME \($0)" }
        if config == nil, !namesServer, let namedHome {
            throw ToolkitError.usage(
                "\(namedHome) holds no toolkit source (no toolkit.json): run `toolkit up` with it, or name a server with --host and --port")
        }
        let host = flags.host ?? env["MYSQL_HOST"].nonEmpty ?? config?.host ?? "127.0.0.1"
        let portText = env["MYSQL_PORT"].nonEmpty
        var port = flags.port ?? config?.serverPort ?? 3306
        if flags.port == nil, let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw ToolkitError.usage("MYSQL_PORT must be a port number from 1 to 65535, got '\(portText)'")
            }
            port = value
        }
        let user = flags.user ?? env["MYSQL_USER"].nonEmpty ?? config?.adminUser ?? "root"
        let password: String
        if let given = flags.password ?? env["MYSQL_PWD"] {
            password = given
        } else if user == "root", let root = env["MYSQL_ROOT_PASSWORD"].nonEmpty {
            password = root
        } else if let config, user == config.adminUser {
            password = config.adminPassword
        } else if let config, user == config.etlUser {
            password = config.etlPassword
        } else {
            password = defaultAdminPassword
        }
        let database = flags.database ?? env["MYSQL_DATABASE"].nonEmpty ?? config?.database ?? defaultDatabase
        let isManaged = config?.isManaged == true && flags.host == nil && env["MYSQL_HOST"].nonEmpty == nil && flags.configFile == nil
        let options = ConnectionOptions(host: host, port: port, user: user, password: password,
                                        database: nil, socket: flags.socket)
        return Target(admin: options, database: database,
                      etlUser: config?.etlUser ?? env["TOOLKIT_ETL_USER"].nonEmpty ?? defaultETLUser,
                      etlPassword: config?.etlPassword ?? env["TOOLKIT_ETL_PASSWORD"].nonEmpty ?? defaultETLPassword,
                      state: isManaged ? state : nil, config: config)
    }

    /// Opens an admin connection, or fails with the server's error number and message.
    public func connect(database: String? = nil, readTimeout: UInt32? = nil) throws -> MariaDBConnection {
        var options = admin
        options.database = database
        options.readTimeoutSeconds = readTimeout
        do {
            return try MariaDBConnection(options)
        } catch {
            throw ToolkitError.server("connecting to \(options.endpoint)", error)
        }
    }
}

extension Optional where Wrapped == String {
    var nonEmpty: String? {
        guard let self, !self.isEmpty else { return nil }
        return self
    }
}
