import Foundation
import Infrastructure
import MariaDB
import Source
import Testing

@Suite("Managed source: up, bootstrap, down", .tags(.integration))
struct ManagedSourceTests {
    let fixture = SourceFixture.shared

    @Test func bootstrapCreatesSchemaUsersAndSeedRows() throws {
        let connection = try fixture.connect()
        defer { connection.close() }
        #expect(try connection.query("SELECT COUNT(*) FROM mysql.user WHERE User = ''").scalar == "0")
        #expect(try connection.query("SELECT value FROM testdb._toolkit_meta WHERE key_name = 'version'").scalar == "1.0.0")
        let seed = try connection.query("SELECT email FROM testdb.users WHERE email LIKE '%@example.com' ORDER BY id")
        #expect(seed.rows.map { $0[0] } == Bootstrap.seedUsers.map(\.email))
        let columns = try connection.query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='testdb' AND TABLE_NAME='users' ORDER BY ORDINAL_POSITION")
        #expect(columns.rows.map { $0[0] ?? "" } == ["id", "name", "email", "status", "created_at", "updated_at"])
    }

    @Test func serverIsConfiguredForCDC() throws {
        let connection = try fixture.connect()
        defer { connection.close() }
        let rows = try connection.query("SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin','binlog_format','binlog_row_image','server_id','binlog_row_metadata','bind_address')").rows
        var value: [String: String] = [:]
        for row in rows { value[row[0]!] = row[1] }
        #expect(value["log_bin"] == "ON")
        #expect(value["binlog_format"] == "ROW")
        #expect(value["binlog_row_image"] == "FULL")
        #expect(value["binlog_row_metadata"] == "FULL")
        #expect(value["server_id"] == "1")
        #expect(value["bind_address"] == "127.0.0.1")
    }

    @Test func etlUserLogsInAndCanReplicate() throws {
        let connection = try MariaDBConnection(fixture.etl)
        defer { connection.close() }
        let grants = try connection.query("SHOW GRANTS").rows.compactMap { $0[0] }.joined(separator: "\n")
        #expect(grants.contains("REPLICATION SLAVE"))
        #expect(grants.contains("BINLOG MONITOR"))
        #expect(try connection.query("SELECT COUNT(*) >= 5 FROM users").scalar == "1")
    }

    @Test func upTwiceIsHarmless() throws {
        let before = try fixture.connect().query("SELECT COUNT(*) FROM testdb.users WHERE email LIKE '%@example.com'").scalar
        let again = try ManagedSource(state: fixture.state).up(.init(publicPort: fixture.port, database: "testdb",
            adminPassword: "rootpassword", etlUser: "hevo", etlPassword: "hevopassword"))
        #expect(again.alreadyRunning)
        #expect(again.pid == fixture.up.pid)
        let after = try fixture.connect().query("SELECT COUNT(*) FROM testdb.users WHERE email LIKE '%@example.com'").scalar
        #expect(before == "5" && after == "5")
    }

    @Test func configFileIsPrivate() throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.state.configFile.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test(.enabled(if: geteuid() == 0, "not root: the server runs as the invoking user by design"))
    func serverRunsAsTheMysqlAccountWhenRoot() throws {
        let pid = try #require(ManagedServer.locate(state: fixture.state).runningPID())
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") } ?? ""
        let mysqlUID = getpwnam("mysql").pointee.pw_uid
        #expect(uidLine.split(separator: "\t").dropFirst().first.map(String.init) == String(mysqlUID))
    }
}

@Suite("Managed source: data survives down and up; purge removes it", .tags(.integration, .slow))
struct LifecycleTests {
    @Test func downUpKeepsDataAndPurgeRemovesIt() throws {
        let fixture = try SourceFixture(name: "lifecycle")
        let source = ManagedSource(state: fixture.state)
        try fixture.connect().execute("INSERT INTO testdb.users (name, email) VALUES ('Keep Me', 'keep@example.org')")
        let down = try source.down(purge: false)
        #expect(down.wasRunning)
        #expect(throws: MariaDBError.self) { try fixture.connect() }
        _ = try source.up(.init(publicPort: fixture.port, database: "testdb", adminPassword: "rootpassword",
                                etlUser: "hevo", etlPassword: "hevopassword"))
        #expect(try fixture.connect().query("SELECT COUNT(*) FROM testdb.users WHERE email = 'keep@example.org'").scalar == "1")
        _ = try source.down(purge: true)
        #expect(!FileManager.default.fileExists(atPath: fixture.state.dataDirectory.path))
        #expect(!FileManager.default.fileExists(atPath: fixture.state.configFile.path))
        // The fixture's directory did not exist before up: the toolkit made it, so purge removes it.
        #expect(!FileManager.default.fileExists(atPath: fixture.state.root.path))
    }
}

/// Every binlog reader receives what the bootstrap writes: account statements (with passwords)
/// must never be there, and `up` on a running source must write nothing at all.
@Suite("Managed source: the bootstrap keeps accounts and repeats out of the binlog", .tags(.integration, .slow))
struct QuietBootstrapTests {
    static let accountStatements = ["CREATE USER", "ALTER USER", "GRANT ", "DROP USER", "SET PASSWORD", "IDENTIFIED"]

    /// File, position and GTID of the binlog's end.
    static func binlogEnd(_ fixture: SourceFixture) throws -> [String] {
        let connection = try fixture.connect()
        defer { connection.close() }
        let status = try connection.query("SHOW MASTER STATUS").rows.first ?? []
        let gtid = try connection.query("SELECT @@GLOBAL.gtid_binlog_pos").scalar ?? ""
        return [status[0] ?? "", status[1] ?? "", gtid]
    }

    @Test("up of a running source writes nothing; no password or account statement is ever in the binlog")
    func secondUpWritesNothing() throws {
        let fixture = try SourceFixture(name: "quiet-bootstrap")
        defer { _ = try? ManagedSource(state: fixture.state).down(purge: true) }
        let firstFile = try #require(try fixture.connect().query("SHOW BINARY LOGS").rows.first?[0] ?? nil)
        let before = try Self.binlogEnd(fixture)

        let again = try ManagedSource(state: fixture.state).up(.init(publicPort: fixture.port, database: "testdb",
            adminPassword: "rootpassword", etlUser: "hevo", etlPassword: "hevopassword"))
        #expect(again.alreadyRunning)
        #expect(try Self.binlogEnd(fixture) == before, "the second up wrote to the binlog")

        let reader = BinlogReader(port: fixture.port, user: "root", password: "rootpassword")
        let binlog = try reader.read(from: firstFile).text
        #expect(binlog.contains("CREATE TABLE"), "the first up's schema is in the binlog for readers to follow")
        #expect(binlog.contains("CREATE DATABASE `testdb`"))
        #expect(!binlog.contains("CREATE DATABASE IF NOT EXISTS"), "pg_chameleon's DDL parser dies on it")
        for secret in ["hevopassword", "rootpassword"] {
            #expect(!binlog.contains(secret), "a password is in the binlog")
        }
        for statement in Self.accountStatements {
            #expect(!binlog.uppercased().contains(statement), "\(statement) is in the binlog")
        }
        // The accounts are in place all the same.
        let etl = try MariaDBConnection(fixture.etl)
        defer { etl.close() }
        #expect(try etl.query("SHOW GRANTS").rows.compactMap { $0[0] }.joined().contains("REPLICATION SLAVE"))
    }

    @Test("up shows a password only while it is the default; one chosen in the environment is never printed")
    func upKeepsChosenPasswordsOffTheTerminal() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-chosen-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        var env = ProcessInfo.processInfo.environment
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD", "MYSQL_DATABASE"] { env[name] = nil }
        env["TOOLKIT_HOME"] = root.path
        env["MYSQL_ROOT_PASSWORD"] = "chosen-admin-7f3a"
        env["TOOLKIT_ETL_PASSWORD"] = "chosen-etl-9c2b"
        defer {
            _ = try? Run.toolkit(["down", "--purge"], environment: env)
            try? FileManager.default.removeItem(at: root)
        }
        let port = PortProbe.ephemeral()
        let text = try Run.toolkit(["up", "--port", String(port), "--backend", "gateway"], environment: env)
        #expect(text.status == 0, "\(text.stderr)")
        let json = try Run.toolkit(["up", "--port", String(port), "--backend", "gateway", "--json"], environment: env)
        for output in [text.stdout, text.stderr, json.stdout, json.stderr] {
            #expect(!output.contains("chosen-admin-7f3a") && !output.contains("chosen-etl-9c2b"), "a chosen password was printed: \(output)")
        }
        #expect(text.stdout.contains("password from $TOOLKIT_ETL_PASSWORD") && text.stdout.contains("password from $MYSQL_ROOT_PASSWORD"), "\(text.stdout)")
        #expect(json.stdout.contains("\"password_from\" : \"TOOLKIT_ETL_PASSWORD\"") || json.stdout.contains("\"password_from\":\"TOOLKIT_ETL_PASSWORD\""), "\(json.stdout)")
        // The accounts have the chosen passwords all the same.
        let etl = try MariaDBConnection(ConnectionOptions(host: "127.0.0.1", port: port, user: "hevo", password: "chosen-etl-9c2b", database: "testdb"))
        etl.close()

        // The defaults are shown, so a first run can be followed by hand.
        _ = try Run.toolkit(["down", "--purge"], environment: env)
        env["MYSQL_ROOT_PASSWORD"] = nil
        env["TOOLKIT_ETL_PASSWORD"] = nil
        let defaults = try Run.toolkit(["up", "--port", String(port), "--backend", "gateway"], environment: env)
        #expect(defaults.status == 0, "\(defaults.stderr)")
        #expect(defaults.stdout.contains("hevo / hevopassword") && defaults.stdout.contains("root / rootpassword"), "\(defaults.stdout)")
    }
}
