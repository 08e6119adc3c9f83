import Foundation
import MariaDB
import Source
import Testing

@Suite("generate-data --updates and --deletes: earlier generated rows changed and removed, counted exactly", .tags(.integration))
struct GenerateChangesTests {
    @Test("each batch updates and deletes exactly N earlier generated rows, and says so")
    func updatesAndDeletes() throws {
        let fixture = SourceFixture.shared
        let table = SourceFixture.table("changes")
        let connection = try fixture.connect()
        defer { connection.close() }
        // Updates alone: exactly N rows renamed, each keeping its tag.
        var run = try Run.toolkit(["generate-data", "--table", table, "--count", "100", "--updates", "10", "--json"],
                                  environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        var result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(result["rows_updated"] as? Int == 10 && result["rows_deleted"] as? Int == 0)
        #expect(try connection.query("SELECT COUNT(*) FROM \(table) WHERE name LIKE 'Updated User %' AND email LIKE 'gen-%'").scalar == "10")

        // Two batches of inserts, updates and deletes.
        run = try Run.toolkit(["generate-data", "--table", table, "--count", "100", "--updates", "10", "--deletes", "5",
                               "--interval", "0.1", "--batches", "2", "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        result = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(result["rows_inserted"] as? Int == 200)
        #expect(result["rows_updated"] as? Int == 20)
        #expect(result["rows_deleted"] as? Int == 10)
        #expect(try connection.query("SELECT COUNT(*) FROM \(table)").scalar == "290")
    }

    @Test("a server crash mid-run neither loses nor doubles an update or a delete", .tags(.slow))
    func survivesServerCrash() throws {
        let fixture = try SourceFixture(name: "changes-crash")
        let table = SourceFixture.table("crash")
        let process = try Background(Run.toolkitPath, ["generate-data", "--table", table, "--count", "200", "--updates", "40",
                                                       "--deletes", "20", "--interval", "0.1", "--batches", "30", "--json"],
                                     environment: fixture.environment)
        Thread.sleep(forTimeInterval: 1.2)
        let server = try ManagedServer.locate(state: fixture.state)
        try server.stop(crash: true)
        Thread.sleep(forTimeInterval: 0.5)
        _ = try server.start()
        let status = process.waitFor(seconds: 90)
        let output = process.text
        #expect(status == 0, "\(output)")
        let json = output.split(separator: "\n").drop { !$0.hasPrefix("{") }.joined(separator: "\n")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(result["rows_inserted"] as? Int == 6000)
        #expect(result["rows_updated"] as? Int == 1200)
        #expect(result["rows_deleted"] as? Int == 600)
        #expect((result["reconnects"] as? Int ?? 0) >= 1)
        // A delete run twice would remove other rows too; one lost would leave them.
        let connection = try fixture.connect()
        defer { connection.close() }
        #expect(try connection.query("SELECT COUNT(*) FROM testdb.\(table)").scalar == "5400")
    }

    @Test("bad counts are refused with exit 2, nothing written")
    func badCounts() throws {
        let table = SourceFixture.table("changes_bad")
        let run = try Run.toolkit(["generate-data", "--table", table, "--updates", "-1"], environment: SourceFixture.shared.environment)
        #expect(run.status == 2)
        #expect(run.stderr.contains("--updates"))
        let connection = try SourceFixture.shared.connect()
        defer { connection.close() }
        #expect(try connection.query("SHOW TABLES LIKE '\(table)'").rows.isEmpty)
    }
}
