import Foundation
import MariaDB
import Source
import Testing

@Suite("generate-data: exact, tagged rows that a binlog reader sees", .tags(.integration))
struct GenerateDataTests {
    @Test("a binlog reader sees exactly N inserts, ending at the position status reports")
    func readerSeesExactlyNRows() throws {
        let fixture = try SourceFixture(name: "reader")
        let table = SourceFixture.table("gen")
        let firstFile = try #require(StatusReport.read(try fixture.target()).binlog?.file)
        let run = try Run.toolkit(["generate-data", "--count", "2345", "--table", table, "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        #expect(result?["rows_inserted"] as? Int == 2345)

        let status = StatusReport.read(try fixture.target())
        let reading = try BinlogReader(port: fixture.port, user: "hevo", password: "hevopassword").read(from: firstFile)
        #expect(reading.insertedRows(database: "testdb", table: table) == 2345)
        #expect(reading.lastEndPosition == status.binlog?.position)
        #expect(status.tables[table] == 2345)
    }

    /// Tags come from one sequence per database, so generators running at the same time (other
    /// tests use this server too) interleave by chunk: unique and increasing, each chunk contiguous.
    @Test("tags are unique, increase in insert order, and each chunk is contiguous")
    func tagsAreUniqueAndOrdered() throws {
        let fixture = SourceFixture.shared
        let table = SourceFixture.table("tags")
        let generator = DataGenerator(target: try fixture.target())
        try generator.prepare(table: table)
        let first = try generator.run(.init(count: 1500, table: table, chunkSize: 700))
        let second = try generator.run(.init(count: 10, table: table))
        #expect(first.rowsInserted == 1500 && second.rowsInserted == 10)
        #expect(try #require(second.firstTag) > (try #require(first.lastTag)))
        let emails = try fixture.connect().query("SELECT email FROM testdb.\(table) ORDER BY id").rows.compactMap { $0[0] }
        let tags = emails.compactMap(GeneratedTag.sequence(inEmail:))
        #expect(tags.count == 1510)
        #expect(Set(tags).count == 1510)
        #expect(tags == tags.sorted())
        // Chunks of 700, 700, 100 and 10 rows, each one transaction with consecutive tags.
        var offset = 0
        for size in [700, 700, 100, 10] {
            let chunk = Array(tags[offset..<(offset + size)])
            #expect(chunk == Array(chunk[0]...(chunk[0] + Int64(size) - 1)))
            offset += size
        }
    }

    @Test("a steady --rate paces the inserts")
    func rateIsRespected() throws {
        let fixture = SourceFixture.shared
        let table = SourceFixture.table("rate")
        let generator = DataGenerator(target: try fixture.target())
        try generator.prepare(table: table)
        let summary = try generator.run(.init(count: 300, table: table, rowsPerSecond: 1000))
        #expect(summary.rowsInserted == 300)
        // Three chunks of 100 rows at 1000 rows/s start at 0, 0.1 and 0.2 s: never sooner.
        #expect(summary.seconds >= 0.2)
    }

    @Test("Ctrl-C ends a batch loop after a whole chunk and prints the summary")
    func interruptPrintsSummary() throws {
        let fixture = SourceFixture.shared
        let table = SourceFixture.table("interrupt")
        let process = try Background(Run.toolkitPath, ["generate-data", "--count", "10", "--interval", "0.2", "--table", table, "--json"],
                                     environment: fixture.environment)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(process.isRunning, "batches go on until Ctrl-C")
        process.signal(SIGINT)
        #expect(process.waitFor(seconds: 10) == 0, "\(process.text)")
        let json = process.text.split(separator: "\n").drop { !$0.hasPrefix("{") }.joined(separator: "\n")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let inserted = try #require(result["rows_inserted"] as? Int)
        #expect(inserted > 0 && inserted % 10 == 0, "whole batches only")
        #expect(result["batches"] as? Int == inserted / 10)
        let count = try fixture.connect().query("SELECT COUNT(*) FROM testdb.\(table)").scalar
        #expect(count == String(inserted))
    }

    @Test("a server restart mid-run neither loses nor doubles rows", .tags(.slow))
    func survivesServerRestart() throws {
        let fixture = try SourceFixture(name: "restart")
        let table = SourceFixture.table("restart")
        let process = try Background(Run.toolkitPath, ["generate-data", "--count", "6000", "--rate", "3000", "--table", table, "--json"],
                                     environment: fixture.environment)
        Thread.sleep(forTimeInterval: 0.7)
        let server = try ManagedServer.locate(state: fixture.state)
        try server.stop(crash: true)
        Thread.sleep(forTimeInterval: 0.5)
        _ = try server.start()
        let status = process.waitFor(seconds: 60)
        let output = process.text
        #expect(status == 0, "\(output)")
        let json = output.split(separator: "\n").drop { !$0.hasPrefix("{") }.joined(separator: "\n")
        let result = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect(result?["rows_inserted"] as? Int == 6000)
        #expect((result?["reconnects"] as? Int ?? 0) >= 1)
        let connection = try fixture.connect()
        defer { connection.close() }
        let tags = try connection.query("SELECT email FROM testdb.\(table) ORDER BY email").rows
            .compactMap { $0[0] }.compactMap(GeneratedTag.sequence(inEmail:))
        #expect(tags.count == 6000)
        #expect(Set(tags).count == 6000)
        if let first = tags.first { #expect(tags == Array(first...(first + 5999))) }
    }
}
