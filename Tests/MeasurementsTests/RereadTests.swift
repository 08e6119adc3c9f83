import Faults
import Measurements
import Testing

@Suite("Re-reads: what a resumed client was sent again")
struct RereadTests {
    /// `count.forwarded(...)`, outside `#expect`, which cannot call a mutating method.
    func forward(_ count: inout RereadCount, endingAt position: BinlogFilePosition, rowsOf table: String?) -> Bool {
        count.forwarded(endingAt: position, rowsOf: table)
    }

    static let upTo = BinlogFilePosition(file: "mysql-bin.000002", position: 1_000)

    @Test func countsEventsUpToTheOldPositionAndTheTablesOfRowEvents() {
        var count = RereadCount(upTo: Self.upTo)
        #expect(!forward(&count, endingAt: .init(file: "mysql-bin.000001", position: 9_000), rowsOf: "testdb.users"))
        #expect(!forward(&count, endingAt: .init(file: "mysql-bin.000002", position: 400), rowsOf: nil))
        #expect(!forward(&count, endingAt: .init(file: "mysql-bin.000002", position: 700), rowsOf: "testdb.orders"))
        #expect(!forward(&count, endingAt: .init(file: "mysql-bin.000002", position: 800), rowsOf: "testdb.users"))
        #expect(forward(&count, endingAt: Self.upTo, rowsOf: nil))
        #expect(count.isComplete)
        #expect(count.events == 5)
        #expect(count.rowEvents == 3)
        #expect(count.tables == ["testdb.users", "testdb.orders"])
        // Nothing after completion counts.
        #expect(!forward(&count, endingAt: .init(file: "mysql-bin.000002", position: 1_200), rowsOf: "testdb.users"))
        #expect(count.rowEvents == 3)
    }

    @Test func anEventPastTheOldPositionCompletesTheCountWithoutBeingCounted() {
        var count = RereadCount(upTo: Self.upTo)
        #expect(forward(&count, endingAt: .init(file: "mysql-bin.000002", position: 1_031), rowsOf: "testdb.users"))
        #expect(count.events == 0 && count.rowEvents == 0)
    }

    /// pg_chameleon polls: it resumes a few events before the commit it was already sent.
    static func poller(reread: JournalEvent?) -> JournalScript {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 5)
        script.faultStarted(1, window: 1, FaultSpec(type: .reject))
        script.add(1.5, .connClosed, conn: 1, file: "mysql-bin.000001", position: 1_234, detail: "client")
        script.faultEnded(10, window: 1, FaultSpec(type: .reject))
        script.connect(11, conn: 2)
        script.add(11.1, .binlogDump, conn: 2, file: "mysql-bin.000001", position: 1_100, serverID: 5)
        if var reread {
            reread.conn = 2
            reread.at = JournalScript.base + 11.2
            script.append(reread)
        }
        return script
    }

    static func rereadEvent(rows: Int, tables: String) -> JournalEvent {
        var event = JournalEvent(at: 0, kind: .binlogReread)
        event.file = "mysql-bin.000001"
        event.position = 1_234
        event.count = rows
        event.detail = tables
        return event
    }

    @Test("a re-read of no row events is maintained: nothing can be duplicated")
    func rereadOfNoRowsIsMaintained() throws {
        let resume = try #require(Self.poller(reread: Self.rereadEvent(rows: 0, tables: "")).reports().first?.resume.first)
        #expect(resume.verdict == .maintained)
        #expect(resume.rereadRowEvents == 0)
        #expect(resume.note?.contains("nothing can be duplicated") == true)
        #expect(resume.caveat == nil)
        let text = try #require(Self.poller(reread: Self.rereadEvent(rows: 0, tables: "")).reports().first).description
        #expect(text.contains("server_id 5: maintained"))
        #expect(!text.contains("duplicates possible"))
    }

    @Test("a re-read of row events says how many and of which tables")
    func rereadOfRowsNamesThem() throws {
        let resume = try #require(Self.poller(reread: Self.rereadEvent(rows: 3, tables: "testdb.users, testdb.orders"))
            .reports().first?.resume.first)
        #expect(resume.verdict == .reread)
        #expect(resume.rereadRowEvents == 3)
        #expect(resume.rereadTables == ["testdb.users", "testdb.orders"])
        #expect(resume.note == "re-read 3 row events of testdb.users, testdb.orders up to mysql-bin.000001:1234: duplicates possible unless the tool de-duplicates")
    }

    @Test("a re-read the gateway could not count stays reread")
    func uncountedRereadStaysReread() throws {
        let resume = try #require(Self.poller(reread: nil).reports().first?.resume.first)
        #expect(resume.verdict == .reread)
        #expect(resume.rereadRowEvents == nil)
    }

    @Test("after a reset mid-stream, a maintained position points to verify")
    func resetMidStreamCannotRuleOutLoss() throws {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, gtid: "0-1-50", serverID: 3)
        script.add(2, .binlogProgress, conn: 1, file: "mysql-bin.000001", position: 5_000, gtid: "0-1-60")
        script.faultStarted(10, window: 1, FaultSpec(type: .reject))
        script.add(10.001, .connReset, conn: 1, detail: "reject")
        script.add(10.002, .connClosed, conn: 1, file: "mysql-bin.000001", position: 5_000, gtid: "0-1-60", detail: "fault")
        script.faultEnded(20, window: 1, FaultSpec(type: .reject))
        script.connect(21, conn: 2)
        script.add(21.1, .binlogDump, conn: 2, file: "", position: 4, gtid: "0-1-60", serverID: 3)
        let report = try #require(script.reports().first)
        let resume = try #require(report.resume.first)
        #expect(resume.verdict == .maintained)
        #expect(resume.caveat == ResumeReport.resetCaveat)
        #expect(report.description.contains("toolkit verify"))
    }
}
