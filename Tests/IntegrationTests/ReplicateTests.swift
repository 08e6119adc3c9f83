import Foundation
import MariaDB
import Testing

@Suite("replicate: what a binlog reader meets", .tags(.integration, .endToEnd))
struct ReplicateTests {
    @Test("after purge, a reader starting from the purged file gets error 1236")
    func purgeGives1236() throws {
        let fixture = try SourceFixture(name: "purge")
        let first = try fixture.currentBinlog()
        // Something to read, and a reader that reads it fine before the purge.
        _ = try Run.toolkit(["generate-data", "--count", "10"], environment: fixture.environment)
        _ = try fixture.reader.read(from: first)

        let run = try Run.toolkit(["replicate", "--scenario", "purge", "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect((fixture.json(run)["purged_files"] as? [String])?.contains(first) == true, "\(run.stdout)")
        #expect(try !fixture.binlogFiles().contains(first))
        do {
            _ = try fixture.reader.read(from: first)
            Issue.record("the reader read a purged file")
        } catch {
            // mysqlbinlog prints the server's 1236 (ER_MASTER_FATAL_ERROR_READING_BINLOG) text without its number;
            // a replica shows the same text as "Got fatal error 1236 from master ...".
            #expect("\(error)".contains("Could not find first log file name in binary log index file"), "\(error)")
        }
    }

    @Test("gtid-gap: the binlog's GTIDs jump by the gap, then continue one by one")
    func gtidGapIsReal() throws {
        let fixture = SourceFixture.shared
        let first = try fixture.currentBinlog()
        let run = try Run.toolkit(["replicate", "--scenario", "gtid-gap", "--gap", "10", "--writes", "3", "--json"],
                                  environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        let gapGTID = try #require(fixture.json(run)["gap_gtid"] as? String)
        let reading = try fixture.reader.read(from: first)
        let inserts = reading.gtidsInserting(database: "testdb", table: "gtid_gap_test")
        let numbers = inserts.compactMap { UInt64($0.split(separator: "-").last ?? "") }
        #expect(inserts.first == gapGTID)
        #expect(numbers.count >= 4)
        let tail = Array(numbers.suffix(4))
        #expect(tail == [tail[0], tail[0] + 1, tail[0] + 2, tail[0] + 3])
        // The GTID just before the gap write is exactly 11 lower: 10 numbers never written.
        let all = reading.groups.map(\.gtid).compactMap { UInt64($0.split(separator: "-").last ?? "") }
        let index = try #require(all.lastIndex(of: tail[0]))
        #expect(index > 0)
        #expect(all[index] - all[index - 1] == 11)
        let missing = (all[index - 1] + 1)...(all[index] - 1)
        #expect(missing.allSatisfy { !all.contains($0) })
    }

    @Test("disconnect kills a streaming reader's dump connection; reset forgets every file")
    func disconnectAndReset() throws {
        let fixture = try SourceFixture(name: "disconnect")
        let options = try ClientOptionFile(password: "hevopassword")
        defer { withExtendedLifetime(options) {} }
        let streamer = try Background(LocalBinlog.binary, [
            options.argument, "--read-from-remote-server", "--host=127.0.0.1", "--port=\(fixture.port)",
            "--user=hevo", "--stop-never", "--to-last-log", try fixture.currentBinlog()])
        let admin = try fixture.connect()
        defer { admin.close() }
        var dumping = false
        for _ in 0..<100 where !dumping {
            dumping = try !admin.query("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'").rows.isEmpty
            if !dumping { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(dumping)
        let run = try Run.toolkit(["replicate", "--scenario", "disconnect", "--json"], environment: fixture.environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect((fixture.json(run)["killed_connections"] as? [String])?.count == 1)
        #expect(streamer.waitFor(seconds: 10) != nil, "the streamer kept running after its connection was killed")

        let before = try fixture.binlogFiles()
        let reset = try Run.toolkit(["replicate", "--scenario", "reset", "--json"], environment: fixture.environment)
        #expect(reset.status == 0, "\(reset.stderr)")
        let after = try fixture.binlogFiles()
        #expect(before.count >= 2)
        #expect(after.count == 1)
        #expect(try admin.query("SELECT @@GLOBAL.gtid_binlog_pos").scalar == "")
    }

    @Test("lag without an agent is a one-line error")
    func lagNeedsAgent() throws {
        let fixture = SourceFixture.shared
        let run = try Run.toolkit(["replicate", "--scenario", "lag", "--duration", "2"], environment: fixture.environment)
        #expect(run.status == 1)
        #expect(run.stderr.contains("agent"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }
}
