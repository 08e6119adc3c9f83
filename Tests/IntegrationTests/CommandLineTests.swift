import Foundation
import Infrastructure
import MariaDB
import Testing

@Suite("The toolkit binary: status, monitor, bad input, existing servers", .tags(.integration, .endToEnd))
struct CommandLineTests {
    let fixture = SourceFixture.shared
    /// A server nothing else writes to, so that "nothing changed" can be checked on its binlog.
    static let quiet: SourceFixture = {
        do { return try SourceFixture(name: "refusals") } catch { fatalError("cannot start the test server: \(error)") }
    }()

    @Test func statusJSONHasTheDocumentedKeys() throws {
        let run = try Run.toolkit(["status", "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let server = try #require(json["server"] as? [String: Any])
        #expect(server["running"] as? Bool == true)
        #expect(server["flavor"] as? String == "mariadb")
        #expect((server["version"] as? String)?.hasPrefix("10.") == true)
        let binlog = try #require(json["binlog"] as? [String: Any])
        #expect((binlog["file"] as? String)?.hasPrefix("mysql-bin.") == true)
        #expect((binlog["position"] as? Int ?? 0) > 4)
        #expect((binlog["gtid"] as? String)?.hasPrefix("0-1-") == true)
        #expect((binlog["files_count"] as? Int ?? 0) >= 1)
        #expect((binlog["total_bytes"] as? Int ?? 0) > 0)
        #expect((json["tables"] as? [String: Int])?["users"] ?? 0 >= 5)
        #expect(json["replication_clients"] is [Any])
        let checks = try #require(json["checks"] as? [[String: Any]])
        #expect(checks.count >= 7)
        #expect(checks.allSatisfy { $0["ok"] as? Bool == true })
    }

    @Test func statusOfAStoppedServerExitsOne() throws {
        var env = fixture.environment
        env["TOOLKIT_HOME"] = "/nonexistent-toolkit-home"
        env["MYSQL_HOST"] = "127.0.0.1"
        env["MYSQL_PORT"] = String(PortProbe.ephemeral())
        let run = try Run.toolkit(["status", "--json"], environment: env)
        #expect(run.status == 1)
        #expect(run.stdout.contains("\"running\" : false"))
    }

    @Test("commands work against a server the toolkit did not start (MYSQL_* variables)")
    func existingServerThroughEnvironment() throws {
        var env = fixture.environment
        env["TOOLKIT_HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("empty-home-\(getpid())").path
        env["MYSQL_HOST"] = "127.0.0.1"
        env["MYSQL_PORT"] = String(fixture.port)
        env["MYSQL_USER"] = "root"
        env["MYSQL_PWD"] = "rootpassword"
        let table = SourceFixture.table("existing")
        let generate = try Run.toolkit(["generate-data", "--count", "77", "--table", table], environment: env)
        #expect(generate.status == 0, "\(generate.stderr)")
        let status = try Run.toolkit(["status", "--json"], environment: env)
        #expect(status.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        #expect((json?["tables"] as? [String: Int])?[table] == 77)
        #expect((json?["server"] as? [String: Any])?["managed"] as? Bool == false)
        let monitor = try Run.toolkit(["monitor", "--json"], environment: env)
        #expect(monitor.status == 0)
        #expect(monitor.stdout.contains("\"binlog_bytes\""))
    }

    @Test func wrongPasswordFailsWithTheServersError() throws {
        var env = fixture.environment
        env["MYSQL_PWD"] = "wrong"
        let run = try Run.toolkit(["generate-data", "--count", "1"], environment: env)
        #expect(run.status == 1)
        #expect(run.stderr.contains("ERROR 1045"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test func monitorWatchPrintsOneJSONObjectPerSampleWithRates() throws {
        let run = try Run.toolkit(["monitor", "--watch", "--json", "--interval", "0.2", "--samples", "3"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        let last = try JSONSerialization.jsonObject(with: Data(lines.last!.utf8)) as? [String: Any]
        #expect(last?["rows_per_second"] != nil)
        #expect(last?["binlog_bytes_per_second"] != nil)
    }

    @Test("bad input: one line naming the flag, exit 2, nothing changed", arguments: [
        ["generate-data", "--count", "-5"],
        ["generate-data", "--count", "0"],
        ["generate-data", "--count", "abc"],
        ["generate-data", "--table", "users; DROP TABLE users"],
        ["generate-data", "--table", "x`y"],
        ["generate-data", "--interval", "-1"],
        ["generate-data", "--rate", "0"],
        ["monitor", "--interval", "0"],
        ["monitor", "--interval", "nan"],
        ["up", "--port", "70000"],
        ["status", "--port", "0"],
        ["status", "--database", "a;b"],
    ])
    func badInput(arguments: [String]) throws {
        let before = try fixture.connect().query("SELECT COUNT(*), MAX(id) FROM testdb.users").rows
        let run = try Run.toolkit(arguments, environment: fixture.environment)
        #expect(run.status == 2, "\(arguments): \(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(run.stderr)")
        let flag = arguments.first { $0.hasPrefix("--") }!
        #expect(lines.first?.contains(flag) == true, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        let after = try fixture.connect().query("SELECT COUNT(*), MAX(id) FROM testdb.users").rows
        #expect(before == after)
    }

    struct Refusal: CustomTestStringConvertible, Sendable {
        var arguments: [String]
        var line: String
        init(_ arguments: [String], _ line: String) { self.arguments = arguments; self.line = line }
        var testDescription: String { arguments.joined(separator: " ") }
    }

    /// Input that does not fit: refused before anything starts, never accepted with a flag dropped.
    static let refusals: [Refusal] = [
        Refusal(["network", "--down", "--type", "reject", "--latency", "100"], "--latency does not go with --down; it goes with --slow"),
        Refusal(["network", "--down", "--type", "reject", "--bandwidth", "4096"], "--bandwidth does not go with --down; it goes with --slow"),
        Refusal(["network", "--down", "--type", "reject", "--jitter", "5"], "--jitter does not go with --down; it goes with --slow"),
        Refusal(["network", "--down", "--type", "reject", "--interval", "5"], "--interval does not go with --down; it goes with --flap"),
        Refusal(["network", "--up", "--duration", "5"], "--duration does not go with --up; it goes with --down, --flap, --slow"),
        Refusal(["network", "--status", "--type", "reject"], "--type does not go with --status; it goes with --down, --flap"),
        Refusal(["network", "--slow", "--off", "--latency", "5"], "--latency does not go with --slow --off; it goes with --slow"),
        Refusal(["network", "--slow", "--bandwidth", "4096", "--jitter", "5"], "--jitter goes only with --slow --latency"),
        Refusal(["network", "--down", "--type", "reset", "--duration", "5"], "--duration does not go with --type reset (a reset is one-shot)"),
        Refusal(["network", "--down", "--type", "service", "--only", "replication"],
                "--only replication does not go with --type service (a stopped server cannot pick which connections it drops)"),
        Refusal(["network", "--down", "--type", "service", "--backend", "iptables"], "--backend goes only with --type reject or timeout"),
        Refusal(["network", "--down", "--type", "reject", "--detach"],
                "--detach goes only with a timed fault (--duration, or --flap): there is no countdown to leave"),
        Refusal(["network", "--flap", "--type", "reset"], "--flap does not go with --type reset (a reset is one-shot)"),
        Refusal(["network", "--down", "--type", "latency"],
                "--type must be reject, timeout, service or reset, got 'latency' (latency and bandwidth are --slow faults: --slow --latency MS, --slow --bandwidth BYTES)"),
        Refusal(["network", "--down", "--only", "all"], "--only must be replication or queries, got 'all'"),
        Refusal(["network", "--down", "--backend", "kernel"], "--backend must be gateway or iptables, got 'kernel'"),
        Refusal(["up", "--tls", "bogus"], "--tls must be terminate, passthrough or off, got 'bogus'"),
        Refusal(["network", "--down", "--duration", "-5"], "--duration must be an integer from 1 to 86400 (seconds), got -5"),
        Refusal(["network"], "network needs one of --down, --up, --flap, --slow, --status or --window"),
        Refusal(["generate-data", "--count", "-5"], "--count must be a whole number from 1 to 100000000, got -5"),
        Refusal(["generate-data", "--batches", "3"], "--batches goes only with --interval S (more than one batch)"),
        Refusal(["monitor", "--samples", "3"], "--samples goes only with --watch"),
        Refusal(["monitor", "--watch", "--interval", "-1"], "--interval must be a number of seconds from 0.1 to 3600, got -1.0"),
        Refusal(["transaction", "--type", "many-rows", "--size", "5"], "--size goes only with --type large-data"),
        Refusal(["transaction", "--type", "long-running", "--rows", "5"], "--rows goes only with --type many-rows, large-data or mixed"),
        Refusal(["transaction", "--type", "many-rows", "--ops-per-sec", "5"], "--ops-per-sec goes only with --type long-running"),
        Refusal(["transaction", "--type", "sideways"], "--type must be many-rows, large-data, long-running or mixed, got 'sideways'"),
        Refusal(["schema-change", "--type", "add-column", "--table", "_toolkit_meta"],
                "--table _toolkit_meta is the toolkit's own table, which schema-change leaves alone; name another table"),
        Refusal(["schema-change", "--type", "drop-table", "--table", "_toolkit_heartbeat"],
                "--table _toolkit_heartbeat is the toolkit's own table, which schema-change leaves alone; name another table"),
        Refusal(["cases", "schema", "nope"], "cases schema takes case, run-result or soak-result (default case), got 'nope'"),
        Refusal(["schema-change", "--type", "add-index"],
                "--type must be add-column, drop-column, alter-column, create-table, drop-table, rename-table, rename-column, truncate-table, add-column-with-default or change-enum, got 'add-index'"),
        Refusal(["corrupt", "--type", "zero"], "--type must be truncate, random-bytes or magic-number, got 'zero'"),
        Refusal(["schema-change", "--type", "create-table", "--column", "c"],
                "--column goes only with --type drop-column, alter-column, rename-column, change-enum"),
        Refusal(["replicate", "--scenario", "purge", "--gap", "3"], "--gap goes only with --scenario gtid-gap"),
        Refusal(["replicate", "--scenario", "gtid-gap", "--delay", "300"], "--delay goes only with --scenario lag"),
        Refusal(["corrupt", "--type", "truncate", "--count", "3"], "--count goes only with --type random-bytes"),
        Refusal(["corrupt", "--type", "magic-number", "--percentage", "30"], "--percentage goes only with --type truncate"),
        Refusal(["break", "--row-image", "tiny"], "--row-image must be minimal, noblob or full, got 'tiny'"),
        Refusal(["break", "--wait-timeout", "-1"], "--wait-timeout must be a whole number of seconds from 1 to 31536000, got -1"),
        Refusal(["restore", "--file", "mysql-bin.999999"], "--file mysql-bin.999999: no backup of it to restore in BACKUPS"),
        Refusal(["events", "--last", "-1"], "--last must be a whole number from 0 to 10000000, got -1"),
        Refusal(["network", "--window", "0"], "--window must be a window number from 1, got 0"),
        Refusal(["network", "--window", "3", "--type", "reject"], "--type does not go with --window; it goes with --down, --flap"),
        Refusal(["up", "--journal-budget", "8"], "--journal-budget must be MiB from 16 to 1048576, got 8"),
        Refusal(["up", "--port", "-1"], "--port must be a port number from 1 to 65535, got -1"),
        Refusal(["up", "--backend", "kernel"], "--backend must be gateway or iptables, got 'kernel'"),
    ]

    @Test("input that does not fit: one line naming the flag and what is allowed, exit 2, nothing started", arguments: refusals)
    func refused(_ refusal: Refusal) throws {
        // A server of its own: other suites write to the shared one at the same time.
        let fixture = Self.quiet
        let binlogBefore = try fixture.connect().query("SHOW MASTER STATUS").rows
        let run = try Run.toolkit(refusal.arguments, environment: fixture.environment)
        #expect(run.status == 2, "\(run.stderr)")
        let expected = refusal.line.replacingOccurrences(of: "BACKUPS", with: fixture.state.backupDirectory.path)
        #expect(run.stderr == "toolkit: \(expected)\n")
        #expect(run.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: fixture.state.agentPIDFile.path), "an agent was started")
        #expect(try fixture.connect().query("SHOW MASTER STATUS").rows == binlogBefore || refusal.arguments.first == "restore")
    }

    @Test("generate-data --interval with --batches stops after that many batches")
    func batchesStopTheRun() throws {
        let table = SourceFixture.table("batches")
        let run = try Run.toolkit(["generate-data", "--count", "3", "--interval", "0.1", "--batches", "2", "--table", table, "--json"],
                                  environment: fixture.environment, timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        #expect(json?["batches"] as? Int == 2)
        #expect(json?["rows_inserted"] as? Int == 6)
    }

    @Test("a --config that cannot be read is bad input naming --config")
    func unreadableConfig() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-config-\(getpid()).json")
        try Data("{not json".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try Run.toolkit(["status", "--config", file.path], environment: fixture.environment)
        #expect(run.status == 2)
        #expect(run.stderr.hasPrefix("toolkit: --config must name a readable JSON file in the shape of toolkit.json;"), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test("status --home of a directory with no toolkit state does not report another instance's server")
    func homeWithoutState() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-state-\(getpid())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let run = try Run.toolkit(["status", "--home", empty.path], environment: fixture.environment)
        #expect(run.status == 2)
        #expect(run.stderr == "toolkit: --home \(empty.path) holds no toolkit source (no toolkit.json): run `toolkit up` with it, or name a server with --host and --port\n")
        #expect(run.stdout.isEmpty)
    }
}
