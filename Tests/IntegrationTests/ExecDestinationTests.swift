import Foundation
import MariaDB
import Testing
import Verification

/// `--destination 'exec:COMMAND'`: a warehouse read through its own CLI. Against a real query-based
/// sync (dlt's sql_database source into DuckDB) read with DuckDB's CLI, and commands that fail, hang
/// and print malformed CSV. (Every damage class through psql and DuckDB: VerifyDamageTests.)
@Suite("verify --destination exec: a warehouse's own CLI", .tags(.integration))
struct ExecDestinationTests {
    let source = SourceFixture.shared

    var duckdb: String { DestinationKind.duckdb }

    func scratch() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-exec-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    func verify(_ destination: String, table: String, _ extra: [String] = [], timeout: TimeInterval = 120) throws -> Run {
        try Run.toolkit(["verify", "--destination", destination, "--table", table] + extra, environment: source.environment,
                        timeout: timeout)
    }

    /// A generated table, with a NULL and an empty string in it (DuckDB prints them differently from psql).
    func makeTable(_ prefix: String, count: Int = 30) throws -> String {
        let table = SourceFixture.table(prefix)
        let run = try Run.toolkit(["generate-data", "--table", table, "--count", String(count)], environment: source.environment)
        guard run.status == 0 else { throw FixtureError("generate-data: \(run.stderr)") }
        let connection = try source.connect()
        defer { connection.close() }
        try connection.execute("ALTER TABLE \(table) MODIFY name VARCHAR(100) NULL")
        try connection.execute("UPDATE \(table) SET name = NULL WHERE id = 3")
        try connection.execute("UPDATE \(table) SET name = '' WHERE id = 4")
        return table
    }

    @Test("dlt's query-based sync into DuckDB, read with DuckDB's CLI: equal after a sync; a delete it cannot see is an extra row")
    func dltIntoDuckDB() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try makeTable("dlt")
        let file = directory.appendingPathComponent("warehouse.duckdb").path
        var environment = ProcessInfo.processInfo.environment
        environment["TOOLKIT_DLT_SOURCE"] = "mysql+pymysql://root:rootpassword@127.0.0.1:\(source.port)/testdb"
        environment["RUNTIME__LOG_LEVEL"] = "WARNING"
        func sync() throws {
            let run = try Run.program(ToolVenvs.path("dlt", "bin/python"),
                                      [Run.repository.appendingPathComponent("Tests/Peers/dlt_sync.py").path, table, file, "testdb",
                                       directory.appendingPathComponent("pipelines").path],
                                      environment: environment, timeout: 180)
            try #require(run.status == 0, "dlt: \(run.stderr)")
        }
        try sync()
        let destination = "exec:\(duckdb) -csv -readonly \(file) -c 'SELECT * FROM {db}.{table}'"
        let first = try verify(destination, table: table, ["--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let report = try JSONDecoder().decode(VerifyReport.self, from: Data(first.stdout.utf8))
        let compared = try #require(report.tables.first)
        #expect(compared.sourceRows == 30 && compared.matched == 30, "\(first.stdout)")

        // An update moves the cursor; a delete leaves nothing for a cursor to see.
        let connection = try source.connect()
        defer { connection.close() }
        try connection.execute("UPDATE \(table) SET name = 'renamed', updated_at = NOW() + INTERVAL 1 SECOND WHERE id = 7")
        try connection.execute("DELETE FROM \(table) WHERE id = 9")
        try sync()
        let second = try verify(destination, table: table, ["--json"])
        #expect(second.status == 1, "\(second.stderr)")
        let after = try #require(try JSONDecoder().decode(VerifyReport.self, from: Data(second.stdout.utf8)).tables.first)
        #expect(after.changed == 0 && after.missing == 0, "the update arrived: \(second.stdout)")
        #expect(after.extra == 1 && after.sourceRows == 29 && after.destinationRows == 30, "\(second.stdout)")
    }

    @Test("a table the warehouse does not have: its CLI's error line, exit 1")
    func failingCommand() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try makeTable("nowhere", count: 3)
        let file = directory.appendingPathComponent("empty.duckdb").path
        _ = try Run.program(duckdb, [file, "-c", "CREATE TABLE other (id INT)"])
        let run = try verify("exec:\(duckdb) -csv -readonly \(file) -c 'SELECT * FROM {table}'", table: table)
        #expect(run.status == 1)
        #expect(run.stderr.contains("table \(table): exec:\(duckdb) -csv -readonly \(file) -c 'SELECT * FROM {table}' exited 1: Catalog Error: Table with name \(table) does not exist!"),
                "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "one line: \(run.stderr)")
    }

    @Test("a command that hangs is killed at --exec-timeout, its children too")
    func hangingCommand() throws {
        let table = try makeTable("hang", count: 3)
        let marker = "\(Int.random(in: 100_000...999_999))"
        let started = Date()
        let run = try verify("exec:/bin/sh -c 'sleep 60.\(marker); echo {table}; sleep 60.\(marker)'", table: table, ["--exec-timeout", "2"],
                             timeout: 60)
        #expect(run.status == 1)
        #expect(run.stderr.contains("did not finish within 2 s (--exec-timeout); it was killed"), "\(run.stderr)")
        #expect(Date().timeIntervalSince(started) < 20)
        let left = try Run.program("/usr/bin/pgrep", ["-f", "sleep 60.\(marker)"])
        #expect(left.stdout.isEmpty, "nothing it started outlives the timeout: \(left.stdout)")
    }

    @Test("malformed CSV is an error naming the line", arguments: [
        ("printf 'id,name\\n1,\"open\\n'", "line 2: a quoted field is not closed"),
        ("printf 'id,name\\n1,a\\n2,b,c\\n'", "line 3: 3 fields, the header names 2"),
        ("true", "printed nothing: it must print the table as CSV with a header"),
    ])
    func malformed(script: String, expected: String) throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try makeTable("bad", count: 3)
        let file = directory.appendingPathComponent("print.sh")
        try Data((script + "\n").utf8).write(to: file)
        let run = try verify("exec:/bin/sh \(file.path) {table}", table: table)
        #expect(run.status == 1)
        #expect(run.stderr.contains(expected), "\(run.stderr)")
    }

    @Test("secrets in the command never reach stderr or the report; bad commands are refused, exit 2")
    func secretsAndRefusals() throws {
        let table = try makeTable("secret", count: 3)
        let run = try verify("exec:/bin/sh -c 'echo \"error: login failed\" >&2; exit 7' {table} --password hunter2 token=s3cr3t", table: table,
                             ["--json"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("--password *** token=*** exited 7: error: login failed"), "\(run.stderr)")
        #expect(!(run.stderr + run.stdout).contains("hunter2") && !(run.stderr + run.stdout).contains("s3cr3t"))

        for (destination, expected) in [
            ("exec:no-such-program-here {table}", "--destination exec: no-such-program-here is not an executable program"),
            ("exec:\(duckdb) -csv -c 'SELECT 1'", "--destination exec: does not name {table}"),
            ("exec:\(duckdb) -c 'SELECT * FROM {table}", "--destination exec: a quote is not closed"),
        ] {
            let refused = try verify(destination, table: table)
            #expect(refused.status == 2, "\(destination): \(refused.stderr)")
            #expect(refused.stderr.contains(expected), "\(refused.stderr)")
        }
        let timeout = try verify("exec:/bin/cat {table}", table: table, ["--exec-timeout", "0"])
        #expect(timeout.status == 2 && timeout.stderr.contains("--exec-timeout must be a number of seconds from 1 to 86400"), "\(timeout.stderr)")
    }

    @Test("verify --wait runs the command again at most every 10 s")
    func waitCadence() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try makeTable("cadence", count: 3)
        let counter = directory.appendingPathComponent("calls").path
        let started = Date()
        let run = try verify("exec:/bin/sh -c \"echo call >> \(counter); printf 'id\\n1\\n' # {table}\"", table: table, ["--wait", "15"],
                             timeout: 60)
        #expect(run.status == 1, "never matches: \(run.stderr)")
        let calls = (try String(contentsOfFile: counter, encoding: .utf8)).split(separator: "\n").count
        let elapsed = Date().timeIntervalSince(started)
        // Passes at 0 s and 10 s; the re-check of differing keys reuses the pass's output; no third
        // pass 5 s later, before the deadline.
        #expect(elapsed >= 9.5 && elapsed < 15, "\(elapsed) s")
        #expect(calls == 2, "\(calls) calls in \(elapsed) s")
    }
}
