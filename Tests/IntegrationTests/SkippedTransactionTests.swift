import Foundation
import MariaDB
import Measurements
import Testing

/// A GTID-mode reader that keeps the GTID of the last GTID event it read as its place (as Singer's
/// MySQL taps do: `Tests/Peers/gtid_reader.py`, python-mysql-replication) loses its connection in
/// the middle of a large transaction and resumes with that GTID: the server goes on after that
/// transaction, so the rest of it is never sent. The agent must call that a skip, on every
/// reconnect, with or without a fault.
@Suite("A reader that resumes past a transaction it received in part", .tags(.integration, .slow), .serialized)
struct SkippedTransactionTests {
    static let rows = 50_000
    static var script: String { Run.repository.appendingPathComponent("Tests/Peers/gtid_reader.py").path }

    /// The reader, streaming from the source's current GTID, inside one transaction of `rows` rows.
    final class ReaderInsideTransaction {
        let source: AgentFixture
        private(set) var reader: Background
        let serverID: UInt32

        /// `options`: more of the reader's options (`--crash-after-rows`: it dies inside the transaction).
        init(_ source: AgentFixture, serverID: UInt32, options: [String] = []) throws {
            self.source = source
            self.serverID = serverID
            let direct = try source.direct()
            defer { direct.close() }
            let start = try #require(try direct.query("SELECT @@gtid_binlog_pos").scalar)
            reader = try Self.reader(source, serverID: serverID, start: start, options: options)
            _ = try waitForEvent(15, "the reader's binlog dump") { $0.kind == .binlogDump }
            // One statement, one transaction: the reader reads it slowly, so it stays in flight.
            _ = try direct.execute("""
                INSERT INTO users (name, email) SELECT CONCAT('skip ', seq), CONCAT('skip', seq, '@example.com')
                FROM seq_1_to_\(SkippedTransactionTests.rows)
                """)
            let deadline = Date().addingTimeInterval(30)
            while readRows < 2_000, Date() < deadline, reader.isRunning { Thread.sleep(forTimeInterval: 0.1) }
            try #require(readRows >= 2_000 && readRows < SkippedTransactionTests.rows,
                         "the reader is not inside the transaction (\(readRows) rows read): \(reader.text.suffix(2000))")
        }

        static func reader(_ source: AgentFixture, serverID: UInt32, start: String, options: [String]) throws -> Background {
            var environment = ProcessInfo.processInfo.environment
            environment["GTID_READER_PASSWORD"] = "hevopassword"
            return try Background(ToolVenvs.path("chameleon", "bin/python3"), [
                SkippedTransactionTests.script, "--port", String(source.port), "--user", "hevo",
                "--server-id", String(serverID), "--start", start, "--seconds", "150", "--pause", "0.01"] + options,
                environment: environment)
        }

        /// The reader started again, from the state its predecessor saved.
        func restart(from state: String) throws {
            reader = try Self.reader(source, serverID: serverID, start: state, options: [])
        }

        /// Rows the reader has read so far.
        var readRows: Int {
            reader.text.split(separator: "\n").last { $0.hasPrefix("rows ") }.flatMap { Int($0.dropFirst(5)) } ?? 0
        }

        func events() throws -> [JournalEvent] {
            journalEvents(try source.toolkit(["events", "--json", "--last", "0"]).stdout)
        }

        /// The first journal event of this reader's connections that `matches`.
        func waitForEvent(_ seconds: Double, _ what: String, _ matches: (JournalEvent) -> Bool) throws -> JournalEvent {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let event = try events().first(where: { ($0.serverID == serverID || $0.resume?.serverID == serverID) && matches($0) }) {
                    return event
                }
                Thread.sleep(forTimeInterval: 0.2)
            }
            let journal = try events().filter { $0.conn != nil && $0.kind != .binlogProgress }.suffix(30).map { EventText($0) }
            throw FixtureError("\(what) was not journaled within \(seconds) s; reader: \(reader.text.suffix(1000)); journal: \(journal)")
        }

        /// After the skip, one more committed row reaches the reader: it streams on, without the rest.
        func expectRestNeverArrived(atMost: Int = SkippedTransactionTests.rows) throws {
            let direct = try source.direct()
            defer { direct.close() }
            let before = readRows
            _ = try direct.execute("INSERT INTO users (name, email) VALUES ('after', 'after@example.com')")
            let deadline = Date().addingTimeInterval(20)
            while readRows == before, Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
            #expect(readRows > before, "the reader did not stream on after resuming: \(reader.text.suffix(1000))")
            #expect(readRows <= atMost, "the reader got the rest of the transaction after all (\(readRows) rows)")
        }
    }

    struct EventText: CustomStringConvertible {
        let event: JournalEvent
        init(_ event: JournalEvent) { self.event = event }
        var description: String {
            "\(event.kind.rawValue) conn=\(event.conn ?? 0) \(event.file ?? "") \(event.position ?? 0) gtid=\(event.gtid ?? "-")"
                + " in=\(event.transaction?.gtid ?? "-") \(event.detail ?? "") \(event.resume?.summary ?? "")"
                + (event.received.map { " received=\($0)" } ?? "") + (event.receipt.map { " receipt=\($0)" } ?? "")
        }
    }

    /// A skip of the rest of the transaction, whose row events are counted as mysqlbinlog counts them.
    static func expectSkipped(_ report: ResumeReport, _ source: AgentFixture) throws {
        #expect(report.verdict == .skipped, "\(report.summary)")
        let note = report.note ?? ""
        #expect(note.contains("asked to resume after transaction 0-1-") && note.contains("the server never sends the rest of it"), "\(note)")
        let partial = try #require(report.lastReceived?.transaction ?? report.lastForwarded?.transaction, "\(report)")
        #expect(partial.rowEvents > 0 && partial.tables == ["testdb.users"], "\(partial)")
        #expect(report.requested?.gtid == partial.gtid, "\(report)")
        let skipped = try #require(report.skippedRowEvents, "the rest was not counted: \(note)")
        #expect(report.skippedTables == ["testdb.users"])
        #expect(note.contains("; never sent: \(ResumeReport.rowEvents(skipped)) of testdb.users"), "\(note)")
        // mysqlbinlog's own reading of the transaction, from its GTID event on.
        let options = try ClientOptionFile(password: "rootpassword")
        let decoded = try Run.program("/usr/bin/mysqlbinlog", [
            options.argument, "--read-from-remote-server", "--host=127.0.0.1", "--port=\(source.serverPort)", "--user=root",
            "--base64-output=decode-rows", "--start-position=\(partial.start)", partial.file])
        let transaction = decoded.stdout.components(separatedBy: "\nCOMMIT").first ?? ""
        let rowEvents = transaction.split(separator: "\n").filter { $0.contains("Write_rows") && $0.contains("table id") }.count
        #expect(rowEvents > 0, "\(decoded.stderr)")
        #expect(partial.rowEvents + skipped == rowEvents, "sent \(partial.rowEvents) + never sent \(skipped), mysqlbinlog \(rowEvents)")
    }

    @Test("between faults: a reader killed mid-transaction restarts from its saved GTID; the verdict is journaled and listed by network --status")
    func skipBetweenFaults() throws {
        let source = try AgentFixture(name: "skip-between")
        defer { source.tearDown() }
        let stateFile = FileManager.default.temporaryDirectory.appendingPathComponent("gtid-reader-\(getpid()).state")
        defer { try? FileManager.default.removeItem(at: stateFile) }
        // No fault: the reader dies inside the transaction (as a tap killed mid-run does); a small
        // receive buffer keeps the rest of the transaction at the gateway, never received.
        let inside = try ReaderInsideTransaction(source, serverID: 91, options: [
            "--state", stateFile.path, "--crash-after-rows", "2000", "--rcvbuf", "65536"])
        #expect(inside.reader.waitFor(seconds: 10) == 3, "the reader did not die: \(inside.reader.text.suffix(500))")
        let state = try String(contentsOf: stateFile, encoding: .utf8)
        #expect(state.hasPrefix("0-1-"), "\(state)")
        try inside.restart(from: state)

        let judged = try inside.waitForEvent(30, "a binlog_resume verdict") { $0.kind == .binlogResume }
        #expect(judged.window == nil, "\(judged)")
        let report = try #require(judged.resume)
        try Self.expectSkipped(report, source)
        #expect(report.requested?.gtid == state)
        // The restarted reader gets the next transaction, and nothing of the one it died in.
        try inside.expectRestNeverArrived(atMost: 1)

        let status = try source.agentStatus()
        #expect(status.reconnects?.contains { $0.conn == judged.conn && $0.verdict == .skipped } == true, "\(status.reconnects ?? [])")
        let text = try source.toolkit(["network", "--status"]).stdout
        #expect(text.contains("Reconnects") && text.contains("conn \(judged.conn ?? 0) server_id 91: skipped"), "\(text)")
    }

    @Test("in a fault window: a reset mid-transaction; the window's report and the journaled verdict both say skipped")
    func skipInAResetWindow() throws {
        let source = try AgentFixture(name: "skip-reset")
        defer { source.tearDown() }
        let inside = try ReaderInsideTransaction(source, serverID: 92)
        try source.toolkit(["network", "--down", "--type", "reset"])
        let window = try #require(try source.agentStatus().windows.last)

        let judged = try inside.waitForEvent(30, "a binlog_resume verdict") { $0.kind == .binlogResume }
        #expect(judged.window == window.window, "\(judged)")
        try Self.expectSkipped(try #require(judged.resume), source)
        let report = try source.waitForStatus(20, "the window's resume verdict") { status in
            status.windows.first { $0.window == window.window }?.resume.isEmpty == false
        }.windows.first { $0.window == window.window }!
        let resume = try #require(report.resume.first)
        #expect(resume.verdict == .skipped, "\(report)")
        #expect(resume.skippedRowEvents == judged.resume?.skippedRowEvents && resume.note == judged.resume?.note, "\(report)")
        try inside.expectRestNeverArrived()
        #expect(try source.agentStatus().reconnects?.contains { $0.conn == judged.conn } != true)
    }
}
