import Foundation
import MariaDB
import Testing

@Suite("break: the ETL tool's connections broken on the server side, and --undo", .tags(.integration, .endToEnd))
struct BreakTests {
    @Test("--revoke-replication stops a binlog reader; --undo lets it read again")
    func revokeAndUndo() throws {
        let fixture = try SourceFixture(name: "break")
        let admin = try fixture.connect()
        defer { admin.close() }
        func grants() throws -> String {
            try admin.query("SHOW GRANTS FOR 'hevo'@'%'").rows.compactMap { $0[0] }.joined(separator: "\n")
        }
        let first = try fixture.currentBinlog()
        #expect(try grants().contains("REPLICATION SLAVE"))
        _ = try fixture.reader.read(from: first)

        let run = try Run.toolkit(["break", "--revoke-replication", "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try !grants().contains("REPLICATION SLAVE"))
        do {
            _ = try fixture.reader.read(from: first)
            Issue.record("the reader read the binlog without REPLICATION SLAVE")
        } catch {
            #expect("\(error)".contains("denied") || "\(error)".contains("privilege"), "\(error)")
        }

        let undo = try Run.toolkit(["break", "--undo", "--json"], environment: fixture.environment)
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(try grants().contains("REPLICATION SLAVE"))
        _ = try fixture.reader.read(from: first)
    }

    @Test("--wait-timeout and --row-image change the globals; --undo brings back 28800 and FULL")
    func settingsAndUndo() throws {
        let fixture = try SourceFixture(name: "breaksettings")
        let admin = try fixture.connect()
        defer { admin.close() }
        let run = try Run.toolkit(["break", "--wait-timeout", "5", "--row-image", "minimal", "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try admin.query("SELECT @@GLOBAL.wait_timeout, @@GLOBAL.binlog_row_image").rows.first == ["5", "MINIMAL"])
        // A new ETL session idle past the timeout is closed by the server.
        let etl = try MariaDBConnection(fixture.etl)
        defer { etl.close() }
        Thread.sleep(forTimeInterval: 6.5)
        #expect(throws: MariaDBError.self) { try etl.query("SELECT 1") }

        let undo = try Run.toolkit(["break", "--undo"], environment: fixture.environment)
        #expect(undo.status == 0, "\(undo.stderr)")
        #expect(try admin.query("SELECT @@GLOBAL.wait_timeout, @@GLOBAL.binlog_row_image").rows.first == ["28800", "FULL"])
    }

    @Test("--kill-etl-connections kills the ETL user's sessions and nobody else's; bad input exits 2")
    func killETL() throws {
        // A server of its own: killing every ETL session would cut other tests' binlog readers.
        let fixture = try SourceFixture(name: "killetl")
        let etl = try MariaDBConnection(fixture.etl)
        defer { etl.close() }
        let admin = try fixture.connect()
        defer { admin.close() }
        let run = try Run.toolkit(["break", "--kill-etl-connections", "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect((fixture.json(run)["killed_connections"] as? [String])?.contains { $0.contains("hevo@") } == true)
        #expect(throws: MariaDBError.self) { try etl.query("SELECT 1") }
        #expect(try admin.query("SELECT 1").scalar == "1")

        for arguments in [["break"], ["break", "--undo", "--wait-timeout", "5"], ["break", "--row-image", "half"], ["break", "--wait-timeout", "0"]] {
            let bad = try Run.toolkit(arguments, environment: fixture.environment)
            #expect(bad.status == 2, "\(arguments): \(bad.stderr)")
        }
    }
}
