import Foundation

/// What `toolkit up` records about the source it manages (`toolkit.json`, mode 0600).
public struct SourceConfig: Codable, Sendable, Hashable {
    public var flavor: String
    /// The port ETL tools connect to.
    public var publicPort: Int
    /// The port the server itself listens on (loopback). Equal to `publicPort` without a gateway.
    public var serverPort: Int
    public var host: String
    public var database: String
    public var adminUser: String
    public var adminPassword: String
    public var etlUser: String
    public var etlPassword: String
    /// Where the gateway listens for ETL tools (the public port's address).
    public var listenHost: String
    /// False when the agent fronts a server the toolkit did not start (`up --upstream`).
    public var isManaged: Bool
    /// The agent's fault backend: "gateway" or "iptables".
    public var backend: String?
    /// Where the agent's control API listens: nil or "unix" for its socket in `run/`, "tcp:ADDR:PORT" when asked for.
    public var control: String?
    /// TLS (`up --tls`): nil, from a config written before TLS, means `terminate`.
    public var tls: TLSMode?

    /// What the toolkit does with TLS for this source.
    public var tlsMode: TLSMode { tls ?? .terminate }
    /// MiB the agent's journal segments may take before the oldest are deleted (nil: 512).
    public var journalBudgetMiB: Int?
    /// Options added to the server's `[mysqld]` section (`up --server-option`); nil or empty: none.
    public var serverOptions: [ServerOption]?

    enum CodingKeys: String, CodingKey {
        case flavor, host, database, backend, control, tls
        case publicPort = "public_port", serverPort = "server_port"
        case adminUser = "admin_user", adminPassword = "admin_password"
        case etlUser = "etl_user", etlPassword = "etl_password"
        case listenHost = "listen_host", isManaged = "managed"
        case journalBudgetMiB = "journal_budget_mib"
        case serverOptions = "server_options"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        flavor = try container.decode(String.self, forKey: .flavor)
        publicPort = try container.decode(Int.self, forKey: .publicPort)
        serverPort = try container.decode(Int.self, forKey: .serverPort)
        host = try container.decodeIfPresent(String.self, forKey: .host) ?? "127.0.0.1"
        database = try container.decodeIfPresent(String.self, forKey: .database) ?? "testdb"
        adminUser = try container.decodeIfPresent(String.self, forKey: .adminUser) ?? "root"
        adminPassword = try container.decodeIfPresent(String.self, forKey: .adminPassword) ?? "rootpassword"
        etlUser = try container.decodeIfPresent(String.self, forKey: .etlUser) ?? "hevo"
        etlPassword = try container.decodeIfPresent(String.self, forKey: .etlPassword) ?? "hevopassword"
        listenHost = try container.decodeIfPresent(String.self, forKey: .listenHost) ?? "127.0.0.1"
        isManaged = try container.decodeIfPresent(Bool.self, forKey: .isManaged) ?? true
        backend = try container.decodeIfPresent(String.self, forKey: .backend)
        control = try container.decodeIfPresent(String.self, forKey: .control)
        tls = try container.decodeIfPresent(TLSMode.self, forKey: .tls)
        journalBudgetMiB = try container.decodeIfPresent(Int.self, forKey: .journalBudgetMiB)
        serverOptions = try container.decodeIfPresent([ServerOption].self, forKey: .serverOptions)
    }

    public init(flavor: String, publicPort: Int, serverPort: Int, host: String = "127.0.0.1", database: String,
                adminUser: String, adminPassword: String, etlUser: String, etlPassword: String,
                listenHost: String = "127.0.0.1", isManaged: Bool = true, backend: String? = nil, control: String? = nil) {
        self.flavor = flavor
        self.publicPort = publicPort
        self.serverPort = serverPort
        self.host = host
        self.database = database
        self.adminUser = adminUser
        self.adminPassword = adminPassword
        self.etlUser = etlUser
        self.etlPassword = etlPassword
        self.listenHost = listenHost
        self.isManaged = isManaged
        self.backend = backend
        self.control = control
    }

    public static func load(from url: URL) throws -> SourceConfig? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(SourceConfig.self, from: Data(contentsOf: url))
        } catch {
            throw ToolkitError("cannot read \(url.path): \(readFailure(error))")
        }
    }

    public func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        FileManager.default.createFile(atPath: url.path, contents: data, attributes: [.posixPermissions: 0o600])
        try data.write(to: url, options: .atomic)
        chmod(url.path, 0o600)
    }
}

/// One line on why a file could not be read: the decoder's finding or the system's message.
func readFailure(_ error: any Error) -> String {
    switch error {
    case DecodingError.dataCorrupted(let context): "not valid JSON (\(context.debugDescription))"
    case DecodingError.keyNotFound(let key, _): "no '\(key.stringValue)' key"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
        "a value of the wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
    default: error.localizedDescription
    }
}
