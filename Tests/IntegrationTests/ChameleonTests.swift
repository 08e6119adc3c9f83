import Foundation
import Infrastructure
import PostgreSQL
import Testing
import Verification

/// pg_chameleon (PyPI, MySQL/MariaDB binlog → PostgreSQL), a real CDC pipeline written by others,
/// from the venv `scripts/test-deps` makes. It refuses to run as root, so it runs as `nobody`
/// with a HOME of its own. See /work/shared/PEERS.md for the configuration keys that work here.
final class ChameleonFixture {
    static let venv = ProcessInfo.processInfo.environment["TOOLKIT_TEST_VENVS"].map { "\($0)/chameleon" }
        ?? "/opt/toolkit-test-venvs/chameleon"
    static var program: String { "\(venv)/bin/chameleon" }
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: program) && getpwnam("nobody") != nil }

    let home: URL
    /// The network namespace pg_chameleon runs in; nil for the test's own.
    let namespace: String?
    private var replica: pid_t?

    /// Writes the configuration: the source through the toolkit's gateway, the destination cluster,
    /// `testdb.users` replicated into the schema `testdb_replica`.
    convenience init(name: String, gatewayPort: Int, postgres: PostgresFixture) throws {
        try self.init(name: name, sourceHost: "127.0.0.1", gatewayPort: gatewayPort, postgresPort: postgres.port,
                      postgresDatabase: postgres.database)
    }

    /// The same, with the source's gateway at `sourceHost` and pg_chameleon run in `namespace`
    /// (its destination cluster on that namespace's loopback).
    init(name: String, sourceHost: String, gatewayPort: Int, postgresPort: Int, postgresDatabase: String,
         namespace: String? = nil) throws {
        self.namespace = namespace
        home = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-chameleon-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: home)
        let configuration = home.appendingPathComponent(".pg_chameleon/configuration")
        try FileManager.default.createDirectory(at: configuration, withIntermediateDirectories: true)
        for directory in ["out", ".pg_chameleon/pid", ".pg_chameleon/logs"] {
            try FileManager.default.createDirectory(at: home.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        try """
        ---
        pid_dir: '\(home.path)/.pg_chameleon/pid/'
        log_dir: '\(home.path)/.pg_chameleon/logs/'
        log_dest: stdout
        log_level: info
        log_days_keep: 1
        rollbar_key: ''
        rollbar_env: ''
        type_override: {}
        pg_conn:
          host: "127.0.0.1"
          port: "\(postgresPort)"
          user: "postgres"
          password: "unused-trust-authentication"
          database: "\(postgresDatabase)"
          charset: "utf8"
        sources:
          mysql:
            db_conn:
              host: "\(sourceHost)"
              port: "\(gatewayPort)"
              user: "hevo"
              password: "hevopassword"
              charset: 'utf8'
              connect_timeout: 10
            schema_mappings:
              testdb: testdb_replica
            limit_tables:
              - testdb.users
            skip_tables: []
            grant_select_to: []
            lock_timeout: "120s"
            my_server_id: 4242
            replica_batch_size: 10000
            replay_max_rows: 10000
            batch_retention: '1 day'
            copy_max_memory: "300M"
            copy_mode: 'file'
            out_dir: '\(home.path)/out'
            sleep_loop: 1
            on_error_replay: continue
            on_error_read: continue
            auto_maintenance: "disabled"
            gtid_enable: false
            type: mysql
            skip_events:
              insert: []
              delete: []
              update: []
            keep_existing_schema: No
            net_read_timeout: 600
        """.write(to: configuration.appendingPathComponent("toolkit.yml"), atomically: true, encoding: .utf8)
        let chown = try Run.program("/bin/chown", ["-R", "nobody:nogroup", home.path])
        guard chown.status == 0 else { throw FixtureError("chown: \(chown.stderr)") }
    }

    /// setpriv, and its arguments up to pg_chameleon's own (through `ip netns exec` in a namespace).
    private var launcher: String { namespace == nil ? "/usr/bin/setpriv" : NamespacePair.ipPath }
    private var arguments: [String] {
        (namespace.map { ["netns", "exec", $0, "/usr/bin/setpriv"] } ?? [])
            + ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/env", "HOME=\(home.path)", Self.program]
    }

    /// Runs one chameleon command to completion.
    func run(_ command: String, source: Bool = true) throws {
        let run = try Run.program(launcher, arguments + [command, "--config", "toolkit"] + (source ? ["--source", "mysql"] : []),
                                  timeout: 120)
        guard run.status == 0, !run.stdout.contains(" ERROR") else {
            throw FixtureError("chameleon \(command) failed (\(run.status)): \(run.stdout.suffix(2000)) \(run.stderr.suffix(2000))")
        }
    }

    /// `start_replica` in the foreground, in a session of its own so that its read and replay
    /// daemons are stopped with it.
    func startReplica() throws {
        replica = try ChildProcess.spawn(launcher, arguments + ["start_replica", "--config", "toolkit", "--source", "mysql"],
                                         log: home.appendingPathComponent("replica.log"), detached: true)
    }

    func stopReplica() {
        guard let replica else { return }
        kill(-replica, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        var status: Int32 = 0
        while waitpid(replica, &status, WNOHANG) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        kill(-replica, SIGKILL)
        _ = waitpid(replica, &status, WNOHANG)
        self.replica = nil
    }

    var log: String { (try? String(contentsOf: home.appendingPathComponent("replica.log"), encoding: .utf8)) ?? "" }

    func tearDown() {
        stopReplica()
        try? FileManager.default.removeItem(at: home)
    }
}

@Suite("verify against pg_chameleon replicating through the gateway into PostgreSQL", .tags(.integration, .endToEnd, .slow),
       .enabled(if: PostgresFixture.isAvailable && ChameleonFixture.isAvailable,
                "needs PostgreSQL and pg_chameleon (scripts/test-deps installs both)"))
struct ChameleonTests {
    @Test("inserts, updates and deletes replicated: verify --wait reports a match; a row lost at the destination is named")
    func endToEnd() throws {
        let agent = try AgentFixture(name: "chameleon")
        defer { agent.tearDown() }
        let postgres = try PostgresFixture(name: "chameleon")
        defer { postgres.stop() }
        let chameleon = try ChameleonFixture(name: "e2e", gatewayPort: agent.port, postgres: postgres)
        defer { chameleon.tearDown() }

        try agent.toolkit(["generate-data", "--count", "300"])
        try chameleon.run("create_replica_schema", source: false)
        try chameleon.run("add_source")
        try chameleon.run("init_replica")
        try chameleon.startReplica()

        let generate = try agent.toolkit(["generate-data", "--count", "400", "--updates", "60", "--deletes", "30",
                                          "--interval", "0.5", "--batches", "3", "--json"])
        let generated = try JSONSerialization.jsonObject(with: Data(generate.stdout.utf8)) as? [String: Any]
        #expect(generated?["rows_updated"] as? Int == 180)
        #expect(generated?["rows_deleted"] as? Int == 90)

        let destination = "\(postgres.url)?schema=testdb_replica"
        let run = try Run.toolkit(["verify", "--destination", destination, "--table", "users", "--wait", "90", "--json"],
                                  environment: agent.environment, timeout: 150)
        #expect(run.status == 0, "verify: \(run.stderr)\nchameleon: \(chameleon.log.suffix(3000))")
        let report = try JSONDecoder().decode(VerifyReport.self, from: Data(run.stdout.utf8))
        #expect(report.verdict == .match)
        let users = try #require(report.tables.first)
        // 5 seed rows + 300 + 3 × 400 inserted − 90 deleted.
        #expect(users.sourceRows == 5 + 300 + 1200 - 90)
        #expect(users.matched == users.sourceRows && users.destinationRows == users.sourceRows)

        // Stopped, then one row lost at the destination: verify must name it.
        chameleon.stopReplica()
        let connection = try postgres.connect()
        defer { connection.close() }
        let lost = try #require(try connection.query("SELECT email FROM testdb_replica.users ORDER BY id DESC LIMIT 1").rows.first?[0] ?? nil)
        try connection.execute("DELETE FROM testdb_replica.users WHERE email = '\(lost)'")
        let after = try Run.toolkit(["verify", "--destination", destination, "--table", "users", "--json"], environment: agent.environment)
        #expect(after.status == 1)
        let damaged = try JSONDecoder().decode(VerifyReport.self, from: Data(after.stdout.utf8))
        #expect(damaged.tables.first?.missing == 1)
        #expect(damaged.tables.first?.examples["missing"] == [String(lost.prefix { $0 != "@" })])
    }
}
