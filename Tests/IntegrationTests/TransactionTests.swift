import Foundation
import MariaDB
import Testing

@Suite("transaction: one real transaction, one GTID", .tags(.integration, .endToEnd))
struct TransactionTests {
    @Test("a long-running transaction is invisible to other sessions until it commits, then is one GTID")
    func longRunningIsOneInvisibleTransaction() throws {
        let fixture = SourceFixture.shared
        let table = SourceFixture.table("txn")
        let firstFile = try fixture.currentBinlog()
        let process = try Background(Run.toolkitPath, ["transaction", "--type", "long-running", "--duration", "3",
                                                       "--ops-per-sec", "5", "--table", table, "--json"],
                                     environment: fixture.environment)
        let observer = try fixture.connect()
        defer { observer.close() }
        // Wait (bounded) for the table, then look while the transaction is open.
        var exists = false
        for _ in 0..<100 where !exists {
            exists = (try? observer.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'testdb' AND TABLE_NAME = ?",
                                          [.text(table)]).rows.isEmpty == false) ?? false
            if !exists { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(exists)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(process.isRunning)
        let during = try observer.query("SELECT COUNT(*) FROM testdb.\(table)").scalar
        #expect(during == "0")

        #expect(process.waitFor(seconds: 30) == 0, "\(process.text)")
        let after = Int(try observer.query("SELECT COUNT(*) FROM testdb.\(table)").scalar ?? "") ?? 0
        #expect(after >= 10)
        let reading = try fixture.reader.read(from: firstFile)
        #expect(reading.insertedRows(database: "testdb", table: table) == after)
        #expect(reading.gtidsInserting(database: "testdb", table: table).count == 1)
    }

    @Test("large-data rows of 300 KB against a 1 MB max_allowed_packet: several statements, one GTID")
    func largeDataFitsThePacket() throws {
        // A server of its own: a small max_allowed_packet would break other tests' inserts.
        let fixture = try SourceFixture(name: "packet")
        let table = SourceFixture.table("large")
        let firstFile = try fixture.currentBinlog()
        let admin = try fixture.connect()
        defer { admin.close() }
        let original = try admin.query("SELECT @@GLOBAL.max_allowed_packet").scalar ?? "16777216"
        try admin.execute("SET GLOBAL max_allowed_packet = 1048576")
        defer { _ = try? admin.execute("SET GLOBAL max_allowed_packet = \(Int(original) ?? 16777216)") }

        let run = try Run.toolkit(["transaction", "--type", "large-data", "--rows", "7", "--size", "300", "--data-type", "blob",
                                   "--table", table, "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let result = fixture.json(run)
        #expect(result["rows_inserted"] as? Int == 7)
        #expect((result["statements"] as? Int ?? 0) >= 3)
        #expect((result["largest_statement_bytes"] as? Int ?? .max) <= 1048576)
        let reading = try fixture.reader.read(from: firstFile)
        #expect(reading.gtidsInserting(database: "testdb", table: table).count == 1)
        #expect(try admin.query("SELECT COUNT(*), MIN(LENGTH(payload_blob)) FROM testdb.\(table)").rows.first == ["7", "307200"])

        let tooLarge = try Run.toolkit(["transaction", "--type", "large-data", "--rows", "1", "--size", "2048",
                                        "--table", table], environment: fixture.environment)
        #expect(tooLarge.status == 1)
        #expect(tooLarge.stderr.contains("max_allowed_packet"))
        #expect(try admin.query("SELECT COUNT(*) FROM testdb.\(table)").scalar == "7")
    }

    @Test("many-rows and mixed commit once; Ctrl-C with --on-interrupt rollback leaves nothing")
    func manyRowsMixedAndRollback() throws {
        let fixture = SourceFixture.shared
        let table = SourceFixture.table("many")
        let firstFile = try fixture.currentBinlog()
        let many = try Run.toolkit(["transaction", "--type", "many-rows", "--rows", "2500", "--table", table, "--json"],
                                   environment: fixture.environment)
        #expect(many.status == 0, "\(many.stderr)")
        let mixed = try Run.toolkit(["transaction", "--type", "mixed", "--rows", "100", "--table", table, "--json"],
                                    environment: fixture.environment)
        #expect(mixed.status == 0, "\(mixed.stderr)")
        #expect(fixture.json(mixed)["rows_updated"] as? Int == 50)
        #expect(fixture.json(mixed)["rows_deleted"] as? Int == 25)
        let reading = try fixture.reader.read(from: firstFile)
        #expect(reading.gtidsInserting(database: "testdb", table: table).count == 2)

        let interrupted = try Background(Run.toolkitPath, ["transaction", "--type", "long-running", "--duration", "30",
                                                           "--ops-per-sec", "20", "--table", table, "--on-interrupt", "rollback", "--json"],
                                         environment: fixture.environment)
        Thread.sleep(forTimeInterval: 2)
        interrupted.signal(SIGINT)
        #expect(interrupted.waitFor(seconds: 20) == 0, "\(interrupted.text)")
        #expect(interrupted.text.contains("rolled back"))
        let admin = try fixture.connect()
        defer { admin.close() }
        #expect(try admin.query("SELECT COUNT(*) FROM testdb.\(table)").scalar == "2575")
    }

    @Test("Ctrl-C with the default --on-interrupt commit commits what was written, as one GTID")
    func interruptCommits() throws {
        let fixture = SourceFixture.shared
        let table = SourceFixture.table("ctrlc")
        let firstFile = try fixture.currentBinlog()
        let process = try Background(Run.toolkitPath, ["transaction", "--type", "long-running", "--duration", "60",
                                                       "--ops-per-sec", "10", "--table", table, "--json"],
                                     environment: fixture.environment)
        Thread.sleep(forTimeInterval: 2)
        process.signal(SIGINT)
        #expect(process.waitFor(seconds: 20) == 0, "\(process.text)")
        #expect(process.text.contains("\"outcome\" : \"committed\""))
        #expect(process.text.contains("\"interrupted\" : true"))
        let admin = try fixture.connect()
        defer { admin.close() }
        let rows = Int(try admin.query("SELECT COUNT(*) FROM testdb.\(table)").scalar ?? "") ?? 0
        #expect(rows >= 5)
        let reading = try fixture.reader.read(from: firstFile)
        #expect(reading.insertedRows(database: "testdb", table: table) == rows)
        #expect(reading.gtidsInserting(database: "testdb", table: table).count == 1)
    }
}
