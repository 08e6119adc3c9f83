import Faults
import Measurements
import Testing

@Suite("Resume verdicts")
struct ResumeVerdictTests {
    static let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        /// Carried by the conn_closed of the connection the fault broke.
        var forwarded: ResumePoint
        /// Carried by the client's binlog_dump after the restore.
        var requested: ResumePoint
        var verdict: ResumeVerdict
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "file/pos maintained",
             forwarded: ResumePoint(file: "mysql-bin.000003", position: 1234),
             requested: ResumePoint(file: "mysql-bin.000003", position: 1234), verdict: .maintained),
        Case(name: "file/pos reread",
             forwarded: ResumePoint(file: "mysql-bin.000003", position: 1234),
             requested: ResumePoint(file: "mysql-bin.000003", position: 1000), verdict: .reread),
        Case(name: "file/pos reread from an older file",
             forwarded: ResumePoint(file: "mysql-bin.000010", position: 4),
             requested: ResumePoint(file: "mysql-bin.000009", position: 99_999), verdict: .reread),
        Case(name: "file/pos skipped",
             forwarded: ResumePoint(file: "mysql-bin.000003", position: 1234),
             requested: ResumePoint(file: "mysql-bin.000004", position: 4), verdict: .skipped),
        Case(name: "MySQL GTID maintained",
             forwarded: ResumePoint(file: "binlog.000002", position: 900, gtid: "\(uuid):1-10"),
             requested: ResumePoint(file: "", position: 4, gtid: "\(uuid):1-10"), verdict: .maintained),
        Case(name: "MySQL GTID reread",
             forwarded: ResumePoint(gtid: "\(uuid):1-10"),
             requested: ResumePoint(file: "", position: 4, gtid: "\(uuid):1-8"), verdict: .reread),
        Case(name: "MySQL GTID skipped",
             forwarded: ResumePoint(gtid: "\(uuid):1-10"),
             requested: ResumePoint(file: "", position: 4, gtid: "\(uuid):1-12"), verdict: .skipped),
        Case(name: "MariaDB GTID maintained (empty file, position 4)",
             forwarded: ResumePoint(file: "mariadb-bin.000002", position: 700, gtid: "0-1-100"),
             requested: ResumePoint(file: "", position: 4, gtid: "0-1-100"), verdict: .maintained),
        Case(name: "MariaDB GTID reread",
             forwarded: ResumePoint(gtid: "0-1-100,1-1-7"),
             requested: ResumePoint(file: "", position: 4, gtid: "0-1-98,1-1-7"), verdict: .reread),
        Case(name: "MariaDB GTID skipped",
             forwarded: ResumePoint(gtid: "0-1-100"),
             requested: ResumePoint(file: "", position: 4, gtid: "0-1-105"), verdict: .skipped),
        Case(name: "GTID request against a file-only journal",
             forwarded: ResumePoint(file: "mysql-bin.000003", position: 1234),
             requested: ResumePoint(file: "", position: 4, gtid: "0-1-100"), verdict: .unknown),
        Case(name: "different binlog base names",
             forwarded: ResumePoint(file: "mysql-bin.000003", position: 1234),
             requested: ResumePoint(file: "other-bin.000003", position: 1234), verdict: .unknown),
        Case(name: "request from the first binary log",
             forwarded: ResumePoint(file: "mysql-bin.000003", position: 1234),
             requested: ResumePoint(file: "", position: 4), verdict: .reread),
    ]

    /// A replica (server_id 2) streams, the fault breaks its connection, it comes back.
    static func journal(_ testCase: Case) -> JournalScript {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 2)
        script.faultStarted(10, window: 1, reject)
        script.add(10.001, .connReset, conn: 1)
        script.add(
            10.002, .connClosed, conn: 1, file: testCase.forwarded.file, position: testCase.forwarded.position,
            gtid: testCase.forwarded.gtid, detail: "fault")
        script.faultEnded(20, window: 1, reject)
        script.connect(21, conn: 2, client: "10.0.0.5:40002")
        script.add(
            21.1, .binlogDump, conn: 2, file: testCase.requested.file, position: testCase.requested.position,
            gtid: testCase.requested.gtid, serverID: 2)
        return script
    }

    @Test(arguments: cases)
    func verdict(_ testCase: Case) throws {
        let report = try #require(Self.journal(testCase).reports().first)
        let resume = try #require(report.resume.first)
        #expect(report.resume.count == 1)
        #expect(resume.verdict == testCase.verdict)
        #expect(resume.lastForwarded == testCase.forwarded)
        #expect(resume.requested == testCase.requested)
        #expect(isClose(resume.requestedAfter, 11.1))
        if testCase.verdict != .maintained {
            #expect(resume.note != nil)
        }
    }

    @Test func notesSayWhatIsRereadOrSkipped() throws {
        let reread = try #require(Self.journal(Self.cases[1]).reports().first)
        #expect(reread.description.contains(
            "resume       server_id 2: reread: re-reads from mysql-bin.000003:1000 up to mysql-bin.000003:1234"))
        let skipped = try #require(Self.journal(Self.cases[6]).reports().first)
        #expect(skipped.resume.first?.note == "skips \(Self.uuid):11-12 (2 transactions)")
        let mariaDB = try #require(Self.journal(Self.cases[8]).reports().first)
        #expect(mariaDB.resume.first?.note == "re-reads domain 0 up to 0-1-100")
    }

    static let inside = PartialTransaction(gtid: "0-1-12", file: "mysql-bin.000001", start: 600_000, rowEvents: 40,
                                           tables: ["testdb.users"])

    @Test("a GTID request naming the transaction it was sent only in part skips its rest; its committed GTID does not")
    func aRequestPastAPartialTransactionSkipsItsRest() throws {
        let stood = ResumePoint(file: "mysql-bin.000001", position: 618_882, gtid: "0-1-11", transaction: Self.inside)
        let past = ResumePoint(file: "", position: 4, gtid: "0-1-12").verdict(after: stood)
        #expect(past.verdict == .skipped)
        #expect(past.note == "asked to resume after transaction 0-1-12 (from mysql-bin.000001:600000), of which it had been sent"
            + " 40 row events of testdb.users: the server never sends the rest of it")
        let further = ResumePoint(file: "", position: 4, gtid: "0-1-14").verdict(after: stood)
        #expect(further.note?.hasSuffix("the server never sends the rest of it; it also skips domain 0 up to 0-1-14") == true)
        #expect(ResumePoint(file: "", position: 4, gtid: "0-1-11").verdict(after: stood).verdict == .maintained)
        // Once its end was sent, the GTID is where it stands.
        let whole = ResumePoint(file: "mysql-bin.000001", position: 2_441_706, gtid: "0-1-12")
        #expect(ResumePoint(file: "", position: 4, gtid: "0-1-12").verdict(after: whole).verdict == .maintained)
    }

    @Test("the end written but not acknowledged: an ACK in flight is maintained, a reader that stopped reading skipped")
    func aPartialReceiptIsJudgedByHowMuchWasUnacknowledged() throws {
        let request = ResumePoint(file: "", position: 4, gtid: "0-1-12")
        let received = ResumePoint(file: "mysql-bin.000001", position: 2_400_000, gtid: "0-1-11", transaction: Self.inside)
        let written = ResumePoint(file: "mysql-bin.000001", position: 2_441_706, gtid: "0-1-12")
        let inFlight = request.verdict(after: received, written: written)
        #expect(inFlight.verdict == .maintained)
        #expect(inFlight.note?.contains("the rest was in flight") == true)
        var stopped = received
        stopped.position = 618_882
        let skipped = request.verdict(after: stopped, written: written)
        #expect(skipped.verdict == .skipped)
        #expect(skipped.note?.hasSuffix("; its TCP had acknowledged up to mysql-bin.000001:618882 of mysql-bin.000001:2441706 written"
            + " when the connection ended") == true, "\(skipped.note ?? "")")
        // A file position names the end of an event the client read: between the two, it was received.
        let filePosition = ResumePoint(file: "mysql-bin.000001", position: 2_000_000).verdict(after: stopped, written: written)
        #expect(filePosition.verdict == .maintained)
    }

    @Test("what the binlog holds of a skipped transaction's rest is counted into the verdict")
    func theRestOfASkippedTransactionIsCounted() throws {
        let stood = ResumePoint(file: "mysql-bin.000001", position: 618_882, gtid: "0-1-11", transaction: Self.inside)
        let verdict = ResumePoint(file: "", position: 4, gtid: "0-1-12").verdict(after: stood)
        let report = ResumeReport(client: "server_id 91", serverID: 91, lastForwarded: stood, requested: ResumePoint(gtid: "0-1-12"),
                                  requestedAfter: nil, verdict: verdict.verdict, note: verdict.note)
        #expect(report.skippedTransaction == Self.inside)
        let counted = report.countingSkippedRest(total: 600, tables: ["testdb.users"], complete: true)
        #expect(counted.skippedRowEvents == 560)
        #expect(counted.note?.hasSuffix("the server never sends the rest of it; never sent: 560 row events of testdb.users (600 in the binlog)") == true,
                "\(counted.note ?? "")")
        let partly = report.countingSkippedRest(total: 1_000, tables: ["testdb.users"], complete: false)
        #expect(partly.note?.hasSuffix("never sent: at least 960 row events of testdb.users (at least 1000 in the binlog)") == true)
        #expect(report.skippedRestNotCounted("server down").note?.hasSuffix("; how much of it was never sent is not known: server down") == true)
        // A skip that is not of a transaction's rest is left as it is.
        let plain = ResumeReport(client: "c", serverID: nil, lastForwarded: ResumePoint(gtid: "0-1-100"), requested: ResumePoint(gtid: "0-1-105"),
                                 requestedAfter: nil, verdict: .skipped, note: "skips domain 0 up to 0-1-105")
        #expect(plain.skippedTransaction == nil)
        #expect(plain.countingSkippedRest(total: 5, tables: [], complete: true) == plain)
    }

    /// A window's report reads the partial transaction from the journal's positions.
    @Test func aWindowJudgesTheTransactionItsClientWasInside() throws {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, gtid: "0-1-11", serverID: 2)
        script.faultStarted(10, window: 1, reject)
        script.add(10.001, .connReset, conn: 1)
        var closed = JournalEvent(at: JournalScript.base + 10.002, kind: .connClosed, conn: 1, file: "mysql-bin.000001", position: 618_882, gtid: "0-1-11",
                                  detail: "fault")
        closed.transaction = Self.inside
        script.append(closed)
        script.faultEnded(20, window: 1, reject)
        script.connect(21, conn: 2)
        script.add(21.1, .binlogDump, conn: 2, file: "", position: 4, gtid: "0-1-12", serverID: 2)
        let report = try #require(script.reports().first)
        let resume = try #require(report.resume.first)
        #expect(resume.verdict == .skipped)
        #expect(resume.lastForwarded?.transaction == Self.inside)
        #expect(report.description.contains("server_id 2: skipped: asked to resume after transaction 0-1-12"), "\(report)")
    }

    /// The last position is the latest one journaled for the client before its new dump:
    /// a progress sample counts when the close carried no position.
    @Test func lastForwardedFallsBackToProgressSamples() throws {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 2)
        script.add(1, .binlogFirstEvent, conn: 1, file: "mysql-bin.000001", position: 300)
        script.add(5, .binlogProgress, conn: 1, file: "mysql-bin.000001", position: 800)
        script.faultStarted(10, window: 1, reject)
        script.add(10.001, .connClosed, conn: 1, detail: "fault")
        script.faultEnded(20, window: 1, reject)
        script.connect(21, conn: 2)
        script.add(21.1, .binlogDump, conn: 2, file: "mysql-bin.000001", position: 800, serverID: 2)
        let resume = try #require(script.reports().first?.resume.first)
        #expect(resume.lastForwarded == ResumePoint(file: "mysql-bin.000001", position: 800))
        #expect(resume.verdict == .maintained)
    }

    /// Nothing forwarded since the dump (no writes): the dump's own position is where the
    /// client stands.
    @Test func anIdleClientResumesFromItsPreviousRequest() throws {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, gtid: "0-1-50", serverID: 3)
        script.faultStarted(10, window: 1, reject)
        script.add(10.001, .connClosed, conn: 1, detail: "fault")
        script.faultEnded(20, window: 1, reject)
        script.connect(21, conn: 2)
        script.add(21.1, .binlogDump, conn: 2, file: "", position: 4, gtid: "0-1-50", serverID: 3)
        let resume = try #require(script.reports().first?.resume.first)
        #expect(resume.verdict == .maintained)
    }

    /// Without a server id (mysqlbinlog sends 0), a client is its user and IP address.
    @Test func clientsWithoutServerIDAreKnownByUserAndAddress() throws {
        var script = JournalScript()
        script.connect(0, conn: 1, client: "10.0.0.9:50000", user: "etl")
        script.add(0.1, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 0)
        script.connect(0, conn: 5, client: "10.0.0.8:50000", user: "etl")
        script.add(0.2, .binlogDump, conn: 5, file: "mysql-bin.000001", position: 4)
        script.add(5, .binlogProgress, conn: 1, file: "mysql-bin.000001", position: 600)
        script.add(5, .binlogProgress, conn: 5, file: "mysql-bin.000001", position: 400)
        script.faultStarted(10, window: 1, reject)
        script.add(10.001, .connReset, conn: 1)
        script.add(10.001, .connReset, conn: 5)
        script.faultEnded(20, window: 1, reject)
        script.connect(21, conn: 2, client: "10.0.0.9:50002", user: "etl")
        script.add(21.1, .binlogDump, conn: 2, file: "mysql-bin.000001", position: 500, serverID: 0)
        script.connect(22, conn: 3, client: "10.0.0.8:50002", user: "etl")
        script.add(22.1, .binlogDump, conn: 3, file: "mysql-bin.000001", position: 450)
        let resume = try #require(script.reports().first?.resume)
        #expect(resume.map(\.client) == ["etl@10.0.0.9", "etl@10.0.0.8"])
        #expect(resume.map(\.verdict) == [.reread, .skipped])
        #expect(resume.map(\.serverID) == [0, nil])
    }

    @Test func aReplicaThatStayedConnectedHasNoNewRequest() throws {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 2)
        let fault = FaultSpec(type: .reject, scope: .queries)
        script.faultStarted(10, window: 1, fault)
        script.faultEnded(20, window: 1, fault)
        let resume = try #require(script.reports().first?.resume.first)
        #expect(resume.verdict == .unknown)
        #expect(resume.note == "no new binlog dump: the replication connection stayed open")
    }
}
