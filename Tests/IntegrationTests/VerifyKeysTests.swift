import Foundation
import Infrastructure
import MariaDB
import PostgreSQL
import Testing
import Verification

@Suite("verify: composite keys, tables without a key, zero dates, --key/--columns, libpq's passwords, errors",
       .tags(.integration), .enabled(if: PostgresFixture.isAvailable, "PostgreSQL (initdb) and the postgres account are needed"))
struct VerifyKeysTests {
    static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (VerifyReport?, Run) {
        var environment = SourceFixture.shared.environment
        environment["TOOLKIT_DEST_PASSWORD"] = "rootpassword"
        for (name, value) in extra { environment[name] = value }
        let run = try Run.toolkit(["verify", "--json"] + arguments, environment: environment)
        return (try? JSONDecoder().decode(VerifyReport.self, from: Data(run.stdout.utf8)), run)
    }

    @Test("a composite key, a table without a key (a multiset) and a zero date, on a MySQL destination")
    func compositeAndKeyless() throws {
        let source = SourceFixture.shared
        let connection = try source.connect()
        defer { connection.close() }
        let pairs = SourceFixture.table("pairs"), log = SourceFixture.table("log")
        try connection.execute("CREATE DATABASE IF NOT EXISTS verify_dest")
        try connection.execute("SET SESSION sql_mode = ''")
        for database in ["testdb", "verify_dest"] {
            try connection.execute("CREATE TABLE \(database).\(pairs) (a VARCHAR(10), b INT, v DATETIME NULL, PRIMARY KEY (a, b))")
            try connection.execute("CREATE TABLE \(database).\(log) (line VARCHAR(20))")
        }
        try connection.execute("INSERT INTO testdb.\(pairs) VALUES ('x', 1, '2026-01-01 00:00:00'), ('x', 2, '0000-00-00 00:00:00'), ('y', 1, NULL)")
        // The destination wrote the zero date as NULL (as most tools do) and changed ('y', 1).
        try connection.execute("INSERT INTO verify_dest.\(pairs) VALUES ('x', 1, '2026-01-01 00:00:00'), ('x', 2, NULL), ('y', 1, '2026-01-01 00:00:00')")
        try connection.execute("INSERT INTO testdb.\(log) VALUES ('a'), ('a'), ('b')")
        try connection.execute("INSERT INTO verify_dest.\(log) VALUES ('a'), ('b'), ('b'), ('c')")
        let destination = "mysql://root@127.0.0.1:\(source.port)/verify_dest"
        let (report, run) = try Self.run(["--destination", destination, "--table", pairs, "--table", log])
        #expect(run.status == 1, "\(run.stderr)")
        let tables = try #require(report?.tables)
        let keyed = try #require(tables.first { $0.table == pairs })
        #expect(keyed.key == ["a", "b"])
        #expect(keyed.matched == 2 && keyed.changed == 1 && keyed.zeroDates == 1)
        #expect(keyed.examples["changed"] == ["y,1"])
        let multiset = try #require(tables.first { $0.table == log })
        #expect(multiset.key.isEmpty)
        #expect(multiset.matched == 2 && multiset.missing == 1 && multiset.extra == 2 && multiset.duplicates == 0)
    }

    @Test("--columns leaves other columns out; --key compares by another unique column")
    func keyAndColumns() throws {
        var scenario = try VerifyScenario(kind: .postgres, count: 10)
        scenario.rows[2]["status"] = "changed"
        // The destination numbered the rows itself: only the e-mail (the tag) identifies them.
        for index in scenario.rows.indices { scenario.rows[index]["id"] = String(1000 + index) }
        try scenario.write()
        var (report, _, stderr) = try scenario.verify(["--key", "email", "--columns", "name,email"])
        #expect(report.verdict == .match, "\(stderr)")
        #expect(report.tables.first?.key == ["email"])
        (report, _, stderr) = try scenario.verify(["--key", "email", "--columns", "name,status"])
        #expect(report.tables.first?.changed == 1 && report.tables.first?.changedColumns == ["status": 1], "\(stderr)")
    }

    @Test("the PostgreSQL password comes from PGPASSWORD or ~/.pgpass, as libpq reads them, never from argv")
    func libpqPasswords() throws {
        let scenario = try VerifyScenario(kind: .postgres, count: 3)
        try scenario.write()
        let postgres = PostgresFixture.shared
        let admin = try postgres.connect()
        defer { admin.close() }
        let role = "verifier_\(UInt32.random(in: 0...UInt32.max))"
        try admin.execute("CREATE ROLE \(role) LOGIN PASSWORD 'pw-\(role)'; GRANT SELECT ON \(scenario.table) TO \(role)")
        // This role, and only it, must give a password (the cluster trusts everyone else).
        let hba = postgres.directory.appendingPathComponent("data/pg_hba.conf")
        let rules = try String(contentsOf: hba, encoding: .utf8)
        try ("host all \(role) 127.0.0.1/32 scram-sha-256\n" + rules).write(to: hba, atomically: false, encoding: .utf8)
        _ = try admin.query("SELECT pg_reload_conf()")
        let url = "postgres://\(role)@127.0.0.1:\(postgres.port)/\(postgres.database)"
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-pgpass-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }

        var (report, run) = try Self.run(["--destination", url, "--table", scenario.table], environment: ["HOME": home.path, "PGPASSWORD": "wrong"])
        #expect(run.status == 1 && report?.verdict == .error)
        #expect(run.stderr.contains("password authentication failed"), "\(run.stderr)")
        (report, run) = try Self.run(["--destination", url, "--table", scenario.table], environment: ["HOME": home.path, "PGPASSWORD": "pw-\(role)"])
        #expect(run.status == 0 && report?.verdict == .match, "\(run.stderr)")
        let pgpass = home.appendingPathComponent(".pgpass")
        try "127.0.0.1:\(postgres.port):\(postgres.database):\(role):pw-\(role)\n".write(to: pgpass, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: pgpass.path)
        (report, run) = try Self.run(["--destination", url, "--table", scenario.table], environment: ["HOME": home.path])
        #expect(run.status == 0 && report?.verdict == .match, "\(run.stderr)")
    }

    @Test("a destination that cannot be reached: verdict error, exit 1, one line naming it")
    func unreachable() throws {
        let port = PortProbe.ephemeral()
        let (report, run) = try Self.run(["--destination", "postgres://nobody@127.0.0.1:\(port)/none"])
        #expect(run.status == 1)
        #expect(report?.verdict == .error)
        #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.contains("127.0.0.1:\(port)"), "\(run.stderr)")
    }
}
