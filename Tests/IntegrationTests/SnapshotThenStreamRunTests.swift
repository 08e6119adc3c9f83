import Foundation
import Testing

/// A binlog reader whose snapshot and stream are real clients written by others, both as the ETL
/// user through the gateway: the `mariadb` client asks where the binlog stands and reads the table
/// (the snapshot), and `mysqlbinlog --stop-never` opens the dump once `toolkit run` is waiting for
/// it (the stream). The destination is the source itself, so only the reader's judgement is tested.
@Suite("run TC-004 started between a binlog reader's snapshot and its stream", .tags(.integration, .endToEnd), .serialized)
final class SnapshotThenStreamRunTests {
    @Test("the run waits for the dump the snapshot announced, then judges a binlog reader, not a query-based sync")
    func theRunWaitsForTheStream() throws {
        let source = try AgentFixture(name: "snapstream")
        defer { source.tearDown() }
        let snapshot = try Run.program("/usr/bin/mariadb", [
            "--protocol=tcp", "-h", "127.0.0.1", "-P", String(source.port), "-u", "hevo", "-N", "-B", "testdb", "-e",
            "SHOW MASTER STATUS; SELECT * FROM users",
        ], environment: ["MYSQL_PWD": "hevopassword", "PATH": "/usr/bin:/bin"], timeout: 30)
        try #require(snapshot.status == 0, "\(snapshot.stderr)")
        let file = try #require(snapshot.stdout.split(separator: "\n").first?.split(separator: "\t").first.map(String.init))

        var environment = source.environment
        environment["TOOLKIT_DEST_PASSWORD"] = "rootpassword"
        let directory = source.state.root.appendingPathComponent("runs/snapstream")
        let run = try Background(Run.toolkitPath, [
            "run", "TC-004", "--destination", "mysql://root@127.0.0.1:\(source.serverPort)/testdb", "--duration", "3",
            "--set", "recovery_within=20", "--yes", "--report", directory.path,
        ], environment: environment)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, run.isRunning, !run.text.contains("Waiting for the ETL tool's binlog stream") {
            Thread.sleep(forTimeInterval: 0.1)
        }
        try #require(run.text.contains("Waiting for the ETL tool's binlog stream"), "\(run.text)")

        let options = try ClientOptionFile(password: "hevopassword")
        let binary = try #require(["/usr/bin/mysqlbinlog", "/usr/bin/mariadb-binlog"].first { FileManager.default.fileExists(atPath: $0) })
        let stream = try Background(binary, [
            options.argument, "--read-from-remote-server", "--host=127.0.0.1", "--port=\(source.port)", "--user=hevo",
            "--stop-never", "--stop-never-slave-server-id=5402", file,
        ])
        defer { if stream.isRunning { stream.signal(SIGKILL) }; withExtendedLifetime(options) {} }
        let status = run.waitFor(seconds: 120)
        #expect(status != nil, "the run did not end: \(run.text)")

        let data = try Data(contentsOf: directory.appendingPathComponent("result.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(run.text)")
        let preconditions = try #require(json["preconditions"] as? [[String: Any]])
        let reader = try #require(preconditions.first { $0["text"] as? String == "ETL client reading the binlog" })
        #expect(reader["met"] as? Bool == true)
        #expect((reader["evidence"] as? String)?.hasPrefix("1 binlog dump(s) by hevo open, one started in the last 10 s") == true, "\(reader)")
        #expect((json["observations"] as? [String: Any])?["sync_mode"] as? String == "binlog", "\(run.text)")
        let steps = try #require(json["steps"] as? [[String: Any]])
        let waited = try #require(steps.first { $0["text"] as? String == "Waiting for the ETL tool's binlog stream" })
        #expect((waited["outcome"] as? String)?.hasPrefix("hevo asked where the binlog stands (SHOW MASTER STATUS) ") == true, "\(waited)")
        #expect((waited["outcome"] as? String)?.contains("read testdb.users with SELECTs") == true, "\(waited)")
        // Judged as a binlog reader: the fault reset its dump, and the position item is a binlog
        // reader's (mysqlbinlog does not reconnect), not a query-based sync's NOT APPLICABLE.
        let items = try #require(json["items"] as? [[String: Any]])
        #expect(items.count == 5 && items[3]["verdict"] as? String != "NOT APPLICABLE", "\(items)")
        #expect((items[2]["evidence"] as? String)?.contains("replication") == true, "\(items[2])")
        #expect(items[4]["verdict"] as? String == "PASS", "\(items[4])")
    }
}
