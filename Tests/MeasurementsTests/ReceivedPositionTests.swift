import Faults
import Measurements
import Testing

@Suite("Received positions: what the client's TCP acknowledged")
struct DeliveryLedgerTests {
    /// `ledger.received(...)`, outside `#expect`, which cannot call a mutating method.
    func received(_ ledger: inout DeliveryLedger<Int>, _ acknowledged: UInt64) -> DeliveryLedger<Int>.Received {
        ledger.received(acknowledged: acknowledged)
    }

    @Test func theLastEventWhoseBytesWereAllAcknowledged() {
        var ledger = DeliveryLedger<Int>()
        #expect(received(&ledger, 1_000) == .nothing)
        ledger.wrote(endingAt: 100, position: 1)
        ledger.wrote(endingAt: 250, position: 2)
        ledger.wrote(endingAt: 400, position: 3)
        #expect(received(&ledger, 99) == .nothing)
        #expect(received(&ledger, 100) == .position(1))
        // Part of an event is not the event.
        #expect(received(&ledger, 399) == .position(2))
        #expect(ledger.firstUnreceived?.end == 400)
        #expect(ledger.count == 1)
        #expect(ledger.lastWritten == 3)
        #expect(received(&ledger, 10_000) == .position(3))
        #expect(ledger.count == 0)
        #expect(ledger.firstUnreceived == nil)
        // An answer never goes back.
        #expect(received(&ledger, 10_000) == .position(3))
        #expect(ledger.lastWritten == 3)
    }

    @Test func pastItsCapacityTheOldestGoAndAnAnswerAmongThemIsUnknown() {
        var ledger = DeliveryLedger<Int>(capacity: 4)
        for event in 1...5 { ledger.wrote(endingAt: UInt64(event * 10), position: event) }
        // 1 and 2 were dropped for room.
        #expect(ledger.count == 3)
        #expect(received(&ledger, 15) == .unknown)
        #expect(received(&ledger, 20) == .position(2))
        #expect(received(&ledger, 45) == .position(4))
    }

    @Test func manyEventsStayCheap() {
        var ledger = DeliveryLedger<Int>()
        var acknowledged: UInt64 = 0
        for event in 1...100_000 {
            ledger.wrote(endingAt: UInt64(event) * 100, position: event)
            if event % 1_000 == 0 {
                acknowledged = UInt64(event - 500) * 100
                #expect(received(&ledger, acknowledged) == .position(event - 500))
            }
        }
        #expect(ledger.count == 500)
    }
}

@Suite("Resume judged by what the client received")
struct ReceivedResumeTests {
    static let timeout = FaultSpec(type: .timeout)

    /// A dump connection streaming when a timeout starts; its position at the start says what was
    /// written (1,010,505) and what the client acknowledged (660,107).
    static func frozenReader() -> JournalScript {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 9)
        script.add(0.2, .binlogFirstEvent, conn: 1, file: "mysql-bin.000001", position: 400)
        script.faultStarted(10, window: 1, timeout)
        var atStart = JournalEvent(at: JournalScript.base + 10.001, kind: .binlogProgress, window: 1, conn: 1,
                                   file: "mysql-bin.000001", position: 1_010_505)
        atStart.received = ResumePoint(file: "mysql-bin.000001", position: 660_107)
        script.append(atStart)
        script.faultEnded(70, window: 1, timeout)
        return script
    }

    @Test("a connection that stays open and delivers after the restore has recovered, dated when received")
    func sameConnectionResume() throws {
        var script = Self.frozenReader()
        script.add(120.6, .binlogResumed, window: 1, conn: 1, file: "mysql-bin.000001", position: 660_300)
        let report = try #require(script.reports().first)
        #expect(isClose(report.replicationResumedAfter, 50.6))
        #expect(report.resumedOnConnection == SameConnectionResume(conn: 1, received: true))
        #expect(report.reconnectedAfter == nil)
        #expect(report.description.contains("resumed 50.6 s after restore on the same connection (conn 1), the first event the client received"))
        // The stream went on: its position is maintained (Debezium under TC-003), not unknown.
        #expect(report.resume.map(\.verdict) == [.maintained], "\(report.resume)")
        #expect(report.resume.first?.note == "the replication connection stayed open and its stream went on after the restore: nothing was asked again")
    }

    @Test("when what it received is not known, the first event written after the restore dates it, and says so")
    func sameConnectionResumeWritten() throws {
        var script = Self.frozenReader()
        var resumed = JournalEvent(at: JournalScript.base + 70.2, kind: .binlogResumed, window: 1, conn: 1,
                                   file: "mysql-bin.000001", position: 1_010_900)
        resumed.receipt = "written, not known to be received: tls"
        script.append(resumed)
        let report = try #require(script.reports().first)
        #expect(isClose(report.replicationResumedAfter, 0.2))
        #expect(report.resumedOnConnection?.received == false)
        #expect(report.description.contains("the first event written to it (when the client received it is not known)"))
    }

    @Test("no event after the restore: not resumed")
    func noResume() throws {
        let report = try #require(Self.frozenReader().reports().first)
        #expect(report.replicationResumedAfter == nil)
        #expect(report.resumedOnConnection == nil)
        #expect(report.resume.map(\.verdict) == [.unknown])
    }

    /// The reader gives up on the frozen connection and asks again from `requested`.
    static func reconnecting(from requested: UInt64, reread: JournalEvent? = nil) -> JournalScript {
        var script = frozenReader()
        script.connect(75, conn: 2)
        script.add(75.1, .binlogDump, conn: 2, file: "mysql-bin.000001", position: requested, serverID: 9)
        if var reread {
            reread.conn = 2
            reread.at = JournalScript.base + 75.5
            script.append(reread)
        }
        return script
    }

    @Test("asking for what it received is maintained, not a re-read of what was only written")
    func resumeAtReceivedIsMaintained() throws {
        let window = try #require(Self.reconnecting(from: 660_107).reports().first)
        let report = try #require(window.resume.first)
        #expect(report.verdict == .maintained)
        #expect(report.lastForwarded?.position == 1_010_505)
        #expect(report.lastReceived?.position == 660_107)
        #expect(window.description.contains("it had received up to mysql-bin.000001:660107 of mysql-bin.000001:1010505 written"))
    }

    @Test("asking for more than it acknowledged but no more than was written is maintained (in flight); beyond it skips")
    func resumeBetweenReceivedAndWritten() throws {
        for requested in [700_000, 1_010_505] as [UInt64] {
            let report = try #require(Self.reconnecting(from: requested).reports().first?.resume.first)
            #expect(report.verdict == .maintained, "\(requested)")
            #expect(report.note?.contains("the rest was in flight") == true)
        }
        let report = try #require(Self.reconnecting(from: 1_020_000).reports().first?.resume.first)
        #expect(report.verdict == .skipped)
        #expect(report.note == "skips from mysql-bin.000001:1010505 to mysql-bin.000001:1020000")
    }

    @Test("what the gateway counted as sent again, up to what was only written, is no re-read")
    func rereadOfUnreceivedIsNotDuplicated() throws {
        var counted = JournalEvent(at: 0, kind: .binlogReread)
        counted.file = "mysql-bin.000001"
        counted.position = 1_010_505
        counted.count = 2_000
        counted.detail = "testdb.users"
        let report = try #require(Self.reconnecting(from: 660_107, reread: counted).reports().first?.resume.first)
        #expect(report.verdict == .maintained)
        #expect(report.rereadRowEvents == 0)
        // From earlier than it received: a re-read of at most what was counted.
        let earlier = try #require(Self.reconnecting(from: 500_000, reread: counted).reports().first?.resume.first)
        #expect(earlier.verdict == .reread)
        #expect(earlier.note?.contains("re-read at most 2000 row events") == true)
    }

    @Test("a position not known to be received is judged by what was written, and says so")
    func unknownReceipt() throws {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 9)
        script.faultStarted(10, window: 1, FaultSpec(type: .reject))
        var closed = JournalEvent(at: JournalScript.base + 10.01, kind: .connClosed, conn: 1,
                                  file: "mysql-bin.000001", position: 5_000, detail: "fault")
        closed.receipt = "written, not known to be received: the gateway terminates this connection's TLS"
        script.append(closed)
        script.faultEnded(20, window: 1, FaultSpec(type: .reject))
        script.connect(21, conn: 2)
        script.add(21.1, .binlogDump, conn: 2, file: "mysql-bin.000001", position: 5_000, serverID: 9)
        let window = try #require(script.reports().first)
        let report = try #require(window.resume.first)
        #expect(report.verdict == .maintained)
        #expect(report.receipt == closed.receipt)
        #expect(window.description.contains("last position written, not known to be received"))
    }
}
