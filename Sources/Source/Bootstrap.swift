import Flavor
import MariaDB

/// The schema, users and seed data of a fresh source. Every step is idempotent: `up` twice is harmless.
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
    public func apply(on connection: MariaDBConnection, flavor: ServerFlavor) throws {
        // Accounts. MariaDB's default install has anonymous users that shadow 'user'@'%' from localhost.
        let anonymous = try connection.query("SELECT User, Host FROM mysql.user WHERE User = ''")
        for row in anonymous.rows {
            try connection.execute("DROP USER \(SQLText.account(row[0] ?? "", row[1] ?? ""))")
        }
        for host in ["localhost", "127.0.0.1", "::1"] {
            try connection.execute(flavor.createUserStatement(user: adminUser, host: host, password: adminPassword))
            try connection.execute(flavor.alterUserPasswordStatement(user: adminUser, host: host, password: adminPassword))
            try connection.execute("GRANT ALL PRIVILEGES ON *.* TO \(SQLText.account(adminUser, host)) WITH GRANT OPTION")
        }
        for host in ["%", "localhost"] {
            let account = SQLText.account(etlUser, host)
            try connection.execute(flavor.createUserStatement(user: etlUser, host: host, password: etlPassword))
            try connection.execute(flavor.alterUserPasswordStatement(user: etlUser, host: host, password: etlPassword))
            try connection.execute("GRANT ALL PRIVILEGES ON \(SQLText.identifier(database)).* TO \(account)")
            try connection.execute(Self.etlGlobalGrant(flavor: flavor, account: account))
        }

        // Schema and seed rows.
        try connection.execute("CREATE DATABASE IF NOT EXISTS \(SQLText.identifier(database))")
        try connection.execute("USE \(SQLText.identifier(database))")
        try connection.execute(Self.usersTableDDL("users"))
        try connection.execute(Self.metaTableDDL)
        try connection.transaction { connection in
            let seeded = try connection.query("SELECT value FROM _toolkit_meta WHERE key_name = 'seeded' FOR UPDATE")
            guard seeded.rows.isEmpty else { return }
            let insert = try connection.prepare("INSERT INTO users (name, email, status) VALUES (?, ?, ?)")
            defer { insert.close() }
            for user in Self.seedUsers { try insert.execute([.text(user.name), .text(user.email), .text(user.status)]) }
            try connection.execute("INSERT INTO _toolkit_meta (key_name, value) VALUES ('seeded', 'true')")
        }
        try connection.execute(
            "INSERT INTO _toolkit_meta (key_name, value) VALUES ('version', ?) ON DUPLICATE KEY UPDATE value = VALUES(value)",
            [.text(Self.toolkitVersion)])
    }
}
