import Flavor
import MariaDB

/// The schema, users and seed data of a fresh source. Every step is idempotent: `up` twice is harmless
/// and writes nothing to the binary log the second time.
public struct Bootstrap: Sendable {
    public var database: String
    public var adminUser: String
    public var adminPassword: String
    public var etlUser: String
    public var etlPassword: String

    public init(database: String, adminUser: String, adminPassword: String, etlUser: String, etlPassword: String) {
        self.database = database
        self.adminUser = adminUser
        self.adminPassword = adminPassword
        self.etlUser = etlUser
        self.etlPassword = etlPassword
    }

    public static let seedUsers: [(name: String, email: String, status: String)] = [
        ("Alice Johnson", "alice@example.com", "active"),
        ("Bob Smith", "bob@example.com", "active"),
        ("Carol White", "carol@example.com", "inactive"),
        ("David Brown", "david@example.com", "pending"),
        ("Eve Davis", "eve@example.com", "active"),
    ]

    /// The `users` table of the original toolkit, plus an index on the e-mail that carries generated tags.
    public static func usersTableDDL(_ table: String) -> String {
        """
        CREATE TABLE IF NOT EXISTS \(SQLText.identifier(table)) (
          id INT AUTO_INCREMENT PRIMARY KEY,
          name VARCHAR(100) NOT NULL,
          email VARCHAR(255) NOT NULL,
          status ENUM('active','inactive','pending') DEFAULT 'active',
          created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
          updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
          KEY idx_email (email)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """
    }

    public static let metaTableDDL = """
        CREATE TABLE IF NOT EXISTS _toolkit_meta (
          key_name VARCHAR(64) PRIMARY KEY,
          value VARCHAR(255),
          updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
        """

    /// The soak's heartbeat: one row, set to now (microseconds since 1970) every second while a
    /// soak runs. Data checks leave it out as they leave out `_toolkit_meta`; a destination's
    /// newest heartbeat tells its lag.
    public static let heartbeatTable = "_toolkit_heartbeat"
    public static let heartbeatTableDDL = """
        CREATE TABLE IF NOT EXISTS _toolkit_heartbeat (
          id TINYINT PRIMARY KEY,
          beat_us BIGINT NOT NULL
        ) ENGINE=InnoDB
        """
    public static func heartbeatUpdate(database: String) -> String {
        "INSERT INTO \(SQLText.identifier(database))._toolkit_heartbeat (id, beat_us) VALUES (1, ?) ON DUPLICATE KEY UPDATE beat_us = VALUES(beat_us)"
    }

    public static let toolkitVersion = "1.0.0"

    // The server settings a fresh source has, which `break --undo` brings back.
    /// `wait_timeout` of a fresh source (the server's default).
    public static let waitTimeoutSeconds = 28_800
    /// `binlog_row_image` of a fresh source (as in `ServerFlavor.cdcServerOptions`).
    public static let binlogRowImage = "FULL"

    /// The global privileges the ETL user gets: reading, and this flavor's replication privileges.
    public static func etlGlobalGrant(flavor: ServerFlavor, account: String) -> String {
        "GRANT SELECT, RELOAD, SHOW DATABASES, \(flavor.replicationPrivileges.joined(separator: ", ")) ON *.* TO \(account)"
    }

    /// Applies accounts, schema and seed rows over an admin connection.
    ///
    /// Account statements carry passwords, so they never reach the binary log (every binlog
    /// reader would receive them): they run with this session's binary logging off. Schema and
    /// seed rows are written only where missing, so `up` on a bootstrapped source changes
    /// nothing and writes nothing to the binary log.
    public func apply(on connection: MariaDBConnection, flavor: ServerFlavor) throws {
        try connection.execute(flavor.sessionBinaryLogStatement(enabled: false))
        try applyAccounts(on: connection, flavor: flavor)
        try connection.execute(flavor.sessionBinaryLogStatement(enabled: true))
        try applySchema(on: connection)
    }

    /// MariaDB's default install has anonymous users that shadow 'user'@'%' from localhost: removed.
    private func applyAccounts(on connection: MariaDBConnection, flavor: ServerFlavor) throws {
        let anonymous = try connection.query("SELECT User, Host FROM mysql.user WHERE User = ''")
        for row in anonymous.rows {
            try connection.execute("DROP USER \(SQLText.account(row[0] ?? "", row[1] ?? ""))")
        }
        for host in ["localhost", "127.0.0.1", "::1"] {
            for statement in flavor.accountStatements(user: adminUser, host: host, password: adminPassword) { try connection.execute(statement) }
            try connection.execute("GRANT ALL PRIVILEGES ON *.* TO \(SQLText.account(adminUser, host)) WITH GRANT OPTION")
        }
        for host in ["%", "localhost"] {
            let account = SQLText.account(etlUser, host)
            for statement in flavor.accountStatements(user: etlUser, host: host, password: etlPassword) { try connection.execute(statement) }
            try connection.execute("GRANT ALL PRIVILEGES ON \(SQLText.identifier(database)).* TO \(account)")
            try connection.execute(Self.etlGlobalGrant(flavor: flavor, account: account))
        }
    }

    /// Creates what is missing, and only that: a `CREATE ... IF NOT EXISTS` of something that
    /// exists still goes to the binary log, and some readers cannot parse it.
    private func applySchema(on connection: MariaDBConnection) throws {
        let schemaExists = try connection.query(
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [.text(database)]).scalar != "0"
        if !schemaExists { try connection.execute("CREATE DATABASE \(SQLText.identifier(database))") }
        try connection.execute("USE \(SQLText.identifier(database))")
        let tables = Set(try connection.query(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", [.text(database)]).rows.compactMap { $0[0] })
        if !tables.contains("users") { try connection.execute(Self.usersTableDDL("users")) }
        if !tables.contains("_toolkit_meta") { try connection.execute(Self.metaTableDDL) }
        if !tables.contains(Self.heartbeatTable) { try connection.execute(Self.heartbeatTableDDL) }
        let meta = try connection.query("SELECT key_name, value FROM _toolkit_meta WHERE key_name IN ('seeded', 'version')").rows
        let values = Dictionary(meta.map { ($0[0] ?? "", $0[1] ?? "") }, uniquingKeysWith: { first, _ in first })
        if values["seeded"] == nil {
            try connection.transaction { connection in
                let seeded = try connection.query("SELECT value FROM _toolkit_meta WHERE key_name = 'seeded' FOR UPDATE")
                guard seeded.rows.isEmpty else { return }
                let insert = try connection.prepare("INSERT INTO users (name, email, status) VALUES (?, ?, ?)")
                defer { insert.close() }
                for user in Self.seedUsers { try insert.execute([.text(user.name), .text(user.email), .text(user.status)]) }
                try connection.execute("INSERT INTO _toolkit_meta (key_name, value) VALUES ('seeded', 'true')")
            }
        }
        if values["version"] != Self.toolkitVersion {
            try connection.execute(
                "INSERT INTO _toolkit_meta (key_name, value) VALUES ('version', ?) ON DUPLICATE KEY UPDATE value = VALUES(value)",
                [.text(Self.toolkitVersion)])
        }
    }
}
