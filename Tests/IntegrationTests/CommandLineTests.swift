import Foundation
import MariaDB
import Source
import Testing

@Suite("The toolkit binary: status, monitor, bad input, existing servers", .tags(.integration, .endToEnd))
struct CommandLineTests {
    let fixture = SourceFixture.shared

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
}
