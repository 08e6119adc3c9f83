import Faults
import Foundation
import Measurements
import Testing
import Verification
@testable import TestCases
#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct ChecklistTests {
    let tc004 = BuiltinCases.named("TC-004")!

    func window(detectedAfter: Double? = 0.2, reconnected: Double? = 0.5, resumed: Double? = 0.6,
                resume: [ResumeReport] = [], ended: Double? = 110) -> WindowReport {
        WindowReport(window: 1, fault: FaultSpec(type: .reject), started: 100, ended: ended, endReason: nil,
                     detection: detectedAfter.map { Detection(after: $0, event: .connRefused) },
                     attempts: AttemptSeries(attempts: [ConnectionAttempt(after: 0.2, kind: .refused),
                                                        ConnectionAttempt(after: 1.2, kind: .refused)]),
                     connections: ConnectionSurvival(openAtStart: 1, survived: 0),
                     reconnectedAfter: reconnected, replicationResumedAfter: resumed, resume: resume)
    }

    func resume(_ verdict: ResumeVerdict, rows: Int? = nil, tables: [String] = ["testdb.users"]) -> ResumeReport {
        ResumeReport(client: "server_id 2", serverID: 2, lastForwarded: nil, requested: nil, requestedAfter: 10,
                     verdict: verdict, note: nil, rereadRowEvents: rows, rereadTables: rows.map { _ in tables })
    }

    let match: VerifyReport = ChecklistTests.report(source: 10, destination: 10)
    let refused = ObservedMessage(text: "Can't connect to server on '127.0.0.1' (111 \"Connection refused\")", source: "replica")

    func verdicts(_ observations: RunObservations) -> [ItemVerdict] {
        Checklist.evaluate(tc004.checklist, observations).map(\.verdict)
    }

    @Test func everythingMeasuredAndRightPasses() {
        let observations = RunObservations(windows: [window(resume: [resume(.maintained)])], message: refused, data: match)
        let results = Checklist.evaluate(tc004.checklist, observations)
        #expect(results.map(\.verdict) == [.pass, .pass, .pass, .pass, .pass])
        #expect(Checklist.runVerdict(results) == .pass)
    }

    @Test func slowDetectionFailsAtTheThreshold() {
        let observations = RunObservations(windows: [window(detectedAfter: 30, resume: [resume(.maintained)])], message: refused, data: match)
        #expect(verdicts(observations)[0] == .fail)
        let quick = RunObservations(windows: [window(detectedAfter: 29.9)], message: refused, data: match)
        #expect(verdicts(quick)[0] == .pass)
    }

    /// pg_chameleon's line never names the refusal: the message item FAILs, honestly.
    @Test func aMessageThatDoesNotNameTheRefusalFails() {
        let chameleon = ObservedMessage(text: "Couldn't connect to the source database for reading the replica. Ignoring.", source: "etl log")
        let results = Checklist.evaluate(tc004.checklist, RunObservations(windows: [window()], message: chameleon, data: match))
        #expect(results[1].verdict == .fail)
        #expect(results[1].evidence.contains("Couldn't connect"))
    }

    @Test func noMessageIsNotObservedAndSaysWhatTheClientWasSent() {
        let results = Checklist.evaluate(tc004.checklist, RunObservations(windows: [window()], data: match))
        #expect(results[1].verdict == .notObserved)
        #expect(results[1].evidence.contains("errno 111"))
    }

    @Test func aPipelineThatNeverResumesFailsRecovery() {
        let stopped = PipelineState(running: false, detail: "replica IO No, SQL No")
        let observations = RunObservations(windows: [window(reconnected: nil, resumed: nil)], message: refused, data: match, pipeline: stopped)
        let results = Checklist.evaluate(tc004.checklist, observations)
        #expect(results[2].verdict == .fail)
        #expect(results[2].evidence.contains("never resumed"))
        #expect(Checklist.runVerdict(results) == .fail)
        // An external pipeline has no state of its own to read: no reconnect is said the same way.
        let external = Checklist.evaluate(tc004.checklist, RunObservations(windows: [window(reconnected: nil, resumed: nil)], data: match))
        #expect(external[2].verdict == .fail)
        #expect(external[2].evidence == "replication never resumed after the restore: no reconnect")
    }

    @Test("a connection that stayed open and delivered again after the restore is recovery, said so")
    func sameConnectionRecoveryPasses() {
        var survived = window(reconnected: nil, resumed: 50.6)
        survived.resumedOnConnection = SameConnectionResume(conn: 7, received: true)
        let results = Checklist.evaluate(tc004.checklist, RunObservations(windows: [survived], data: match))
        #expect(results[2].verdict == .pass)
        #expect(results[2].evidence == "replication resumed on the same connection (conn 7), the first event the client received, 50.60 s after the restore")
    }

    @Test("a position not known to be received says so in the verdict")
    func positionWrittenNotKnownToBeReceived() {
        var report = resume(.maintained)
        report.receipt = "written, not known to be received: tls"
        let results = Checklist.evaluate(tc004.checklist, RunObservations(windows: [window(resume: [report])], data: match))
        #expect(results[3].verdict == .pass)
        #expect(results[3].evidence == "server_id 2: maintained (judged against its last position, written, not known to be received: tls)")
    }

    @Test func positionAcceptsAReReadOfNoRowEventsOnly() {
        #expect(verdicts(RunObservations(windows: [window(resume: [resume(.reread, rows: 0)])]))[3] == .pass)
        #expect(verdicts(RunObservations(windows: [window(resume: [resume(.reread, rows: 4)])]))[3] == .fail)
        #expect(verdicts(RunObservations(windows: [window(resume: [resume(.skipped)])]))[3] == .fail)
    }

    @Test("a re-read of the toolkit's own _toolkit_meta alone cannot duplicate at a destination; with another table it can")
    func positionAcceptsAReReadOfBookkeepingOnly() {
        let bookkeeping = Checklist.evaluate(tc004.checklist, RunObservations(windows: [window(resume: [resume(.reread, rows: 1, tables: ["testdb._toolkit_meta"])])]))
        #expect(bookkeeping[3].verdict == .pass)
        #expect(bookkeeping[3].evidence == "server_id 2: re-read only 1 row event of the toolkit's own _toolkit_meta, which no data check compares")
        #expect(verdicts(RunObservations(windows: [window(resume: [resume(.reread, rows: 3, tables: ["testdb._toolkit_meta", "testdb.users"])])]))[3] == .fail)
        #expect(verdicts(RunObservations(windows: [window(resume: [resume(.unknown)])]))[3] == .notObserved)
        #expect(verdicts(RunObservations(windows: [window()]))[3] == .notObserved)
    }

    @Test func dataFailsNamingTheMissingRows() {
        let lossy = ChecklistTests.report(source: 1510, destination: 260, missing: 1250, examples: ["missing": (261...270).map(String.init)])
        let results = Checklist.evaluate(tc004.checklist, RunObservations(windows: [window()], message: refused, data: lossy))
        #expect(results[4].verdict == .fail)
        #expect(results[4].evidence.contains("1250 missing (users id=261, users id=262"))
    }

    /// The run PASSes only when the data and recovery items were observed.
    @Test func unobservedDataMakesTheRunFail() {
        let results = Checklist.evaluate(tc004.checklist, RunObservations(windows: [window(resume: [resume(.maintained)])], message: refused))
        #expect(!results.contains { $0.verdict == .fail })
        #expect(Checklist.runVerdict(results) == .fail)
    }

    @Test func exitCodes() {
        #expect([RunVerdict.pass, .fail, .blocked, .interrupted].map(\.exitCode) == [0, 1, 3, 130])
    }

    func report(_ observations: RunObservations, verdict: RunVerdict = .pass) -> RunReport {
        var run = RunReport(caseID: "TC-004", title: tc004.title, started: 100, finished: 130, tester: "A <b> & \"c\"",
                            etlTool: "replica", toolkitVersion: "1.0.0", pipeline: "replica", parameters: [:], verdict: verdict)
        run.observations = observations
        run.items = Checklist.evaluate(tc004.checklist, observations)
        run.verdict = Checklist.runVerdict(run.items)
        run.steps = [StepRecord(at: 101, text: "Block", outcome: "down reject for 10 s")]
        run.samples = [Sample(at: 100, sourceRows: 5, destinationRows: 5), Sample(at: 120, sourceRows: 50, destinationRows: 20)]
        return run
    }

    @Test func junitHasOneTestcasePerItemWithTheRightElement() throws {
        // A re-read of a table the data check did not cover: the position item's one failure.
        let run = report(RunObservations(windows: [window(resume: [resume(.reread, rows: 3, tables: ["testdb.orders"])])], data: match))
        let xml = try XMLDocument(xmlString: JUnitReport.render(run))
        #expect(try xml.nodes(forXPath: "//testcase").count == 5)
        #expect(try xml.nodes(forXPath: "//testcase/failure").count == 1)
        #expect(try xml.nodes(forXPath: "//testcase/skipped").count == 1)
        let suite = try #require(try xml.nodes(forXPath: "//testsuite").first as? XMLElement)
        #expect(suite.attribute(forName: "failures")?.stringValue == "1")
        #expect(suite.attribute(forName: "time")?.stringValue == "30.000")
    }

    @Test func timelineDrawsWindowsAttemptsAndRows() {
        let html = TimelinePage.render(report(RunObservations(windows: [window()], data: match)))
        #expect(html.contains("class=\"fault-window\" data-window=\"1\""))
        #expect(html.components(separatedBy: "class=\"attempt refused\"").count == 3)
        #expect(html.contains("class=\"reconnect\""))
        #expect(html.contains("class=\"source-rows\""))
        #expect(!html.contains("<script"))
    }

    @Test func appendedRunsAreNumbered() {
        var run = report(RunObservations(windows: [window()], data: match))
        let blank = CaseMarkdown.document(tc004)
        #expect(CaseMarkdown.nextRunNumber(in: blank) == 1)
        let once = CaseMarkdown.appending(run, to: blank)
        #expect(!once.contains("YYYY-MM-DD"))
        #expect(CaseMarkdown.nextRunNumber(in: once) == 2)
        run.run = 2
        let twice = CaseMarkdown.appending(run, to: once)
        #expect(twice.contains("### Run 1 - 1970-01-01") && twice.contains("### Run 2 - 1970-01-01"))
        #expect(twice.contains("| Tester | A <b> & \"c\" |"))
    }
}

extension ChecklistTests {
    /// TC-009's 1236 comes after a first "refused" error: the message item looks at every error the tool showed.
    @Test func aLaterMessageCanMatch() throws {
        let tc009 = try #require(BuiltinCases.named("TC-009"))
        let purged = ObservedMessage(text: "Got fatal error 1236 from master when reading data from binary log", source: "replica")
        let item = try #require(tc009.checklist.first)
        let later = Checklist.evaluate(item, RunObservations(message: refused, laterMessages: [purged]))
        #expect(later.verdict == .pass)
        #expect(later.evidence.contains("1236"))
        #expect(Checklist.evaluate(item, RunObservations(message: refused, laterMessages: [refused])).verdict == .fail)
    }
}

extension ChecklistTests {
    /// A verify report of one `users` table keyed by `id`.
    static func report(source: Int, destination: Int, missing: Int = 0, extra: Int = 0, examples: [String: [String]] = [:]) -> VerifyReport {
        var table = TableReport(table: "users", key: ["id"], profile: .none)
        table.sourceRows = source
        table.destinationRows = destination
        table.matched = source - missing
        table.missing = missing
        table.extra = extra
        table.examples = examples
        return VerifyReport(tables: [table], notReplicatedTables: [], seconds: 0.1)
    }

    /// The data item names rows as verify named them, with their table and key columns, and
    /// counts what verify counted (no row it did not name is made up).
    @Test func dataEvidenceNamesVerifysRows() throws {
        var table = TableReport(table: "users", key: ["id"], profile: .none)
        table.sourceRows = 914
        table.destinationRows = 287
        table.missing = 3
        table.extra = 2
        table.examples = ["missing": ["317", "318", "gen-000000000042..gen-000000000044"], "extra": ["175", "180"]]
        var pair = TableReport(table: "t", key: ["a", "b"], profile: .none)
        pair.missing = 12
        pair.examples = ["missing": ["4,7"]]
        let report = VerifyReport(tables: [table, pair], notReplicatedTables: [], seconds: 0.2)
        #expect(report.named("missing") == ["users id=317", "users id=318", "users gen-000000000042..gen-000000000044", "t a=4,b=7"])
        #expect(report.named("extra") == ["users id=175", "users id=180"])
        #expect(report.missing == 15 && report.sourceRows == 914)
        let item = try #require(tc004.checklist.first { $0.measure == .data })
        let result = Checklist.evaluate(item, RunObservations(data: report))
        #expect(result.verdict == .fail)
        #expect(result.evidence == "source 914 rows, destination 287: 15 missing (users id=317, users id=318, users gen-000000000042..gen-000000000044, t a=4,b=7, ...); 2 extra (users id=175, users id=180)")
        let failed = VerifyReport(tables: [], notReplicatedTables: [], seconds: 0, error: "no table of the source is at the destination")
        #expect(Checklist.evaluate(item, RunObservations(data: failed)).verdict == .notObserved)
    }
}

extension ChecklistTests {
    /// A client that re-reads and de-duplicates (Debezium's "Skip 1 rows on streaming start")
    /// leaves no duplicate: its position is judged by what the destination holds.
    @Test func aRereadThatLeftNoDuplicatePasses() {
        let reread = [window(resume: [resume(.reread, rows: 1, tables: ["testdb.users"])])]
        let clean = Checklist.evaluate(tc004.checklist, RunObservations(windows: reread, message: refused, data: match))[3]
        #expect(clean.verdict == .pass)
        #expect(clean.evidence == "server_id 2 re-read 1 row event of testdb.users; no duplicate at the destination")

        var doubled = ChecklistTests.report(source: 10, destination: 11)
        doubled.tables[0].duplicates = 1
        doubled = VerifyReport(tables: doubled.tables, notReplicatedTables: [], seconds: 0.1)
        let damaged = Checklist.evaluate(tc004.checklist, RunObservations(windows: reread, message: refused, data: doubled))[3]
        #expect(damaged.verdict == .fail)
        #expect(damaged.evidence == "server_id 2 re-read 1 row event of testdb.users; 1 duplicated in users at the destination")

        // A table the data check did not cover, or no data check at all: the re-read is not excused.
        let elsewhere = [window(resume: [resume(.reread, rows: 2, tables: ["testdb.orders"])])]
        #expect(verdicts(RunObservations(windows: elsewhere, message: refused, data: match))[3] == .fail)
        #expect(verdicts(RunObservations(windows: reread, message: refused))[3] == .fail)
    }
}

extension ChecklistTests {
    /// Every case has recovery_within and catch_up_within; --set changes them, in range.
    @Test func reservedParametersExistInEveryCase() throws {
        #expect(tc004.recoveryWithin == 300 && tc004.catchUpWithin == 120)
        #expect(tc004.effectiveParameters["recovery_within"] == 300)
        let short = try tc004.overriding(["recovery_within": 20])
        #expect(short.recoveryWithin == 20)
        #expect(throws: CaseFileError.self) { try tc004.overriding(["recovery_in": 20]) }
    }

    /// A pipeline that resumes a minute after the restore recovered, within recovery_within;
    /// later than it, it did not.
    @Test func recoveryIsJudgedAgainstRecoveryWithin() {
        let late = [window(resumed: 59.7)]
        let within = Checklist.evaluate(tc004.checklist, RunObservations(windows: late, data: match, recoveryWithin: 300))[2]
        #expect(within.verdict == .pass)
        let over = Checklist.evaluate(tc004.checklist, RunObservations(windows: late, data: match, recoveryWithin: 30))[2]
        #expect(over.verdict == .fail)
        #expect(over.evidence.hasSuffix("later than recovery_within 30 s"))
    }

    /// A fault shorter than the client's rhythm: it never tried, and the evidence says so.
    @Test func aFaultTheClientNeverMetSaysSo() {
        var quiet = window(detectedAfter: nil)
        quiet.attempts = AttemptSeries(attempts: [ConnectionAttempt(after: 14.2, kind: .accepted)])
        let item = Checklist.evaluate(tc004.checklist, RunObservations(windows: [quiet], data: match))[0]
        #expect(item.verdict == .notObserved)
        #expect(item.evidence == "the fault ended before the client noticed: it tried no connection in the fault's 10.00 s")
    }
}

extension ChecklistTests {
    /// A reject resets open connections and refuses new ones. A client (Debezium waiting out its
    /// 10 s restart delay) whose connection was reset and who tried nothing new before the fault
    /// ended was never refused: its "Connection reset" is not a message that failed to say so.
    /// One that was refused and still did not say so fails.
    @Test func aClientThatWasNeverRefusedIsNotFailedForNotSayingSo() {
        let reset = ObservedMessage(text: "Producer failure — caused by: java.net.SocketException: Connection reset", source: "etl log dbz.log")
        var resetOnly = window(detectedAfter: 0.11)
        resetOnly.attempts = AttemptSeries(attempts: [ConnectionAttempt(after: 11.64, kind: .accepted)])
        resetOnly.connections.lost = [LostConnection(conn: 5, client: "127.0.0.1:40636", replication: true, after: 0.11,
                                                     how: "conn_reset: kernel reset (iptables reject)")]
        let item = Checklist.evaluate(tc004.checklist, RunObservations(windows: [resetOnly], message: reset, data: match))[1]
        #expect(item.verdict == .notObserved)
        #expect(item.evidence == "not tested: its open connection ended 0.11 s after the fault started (conn_reset: kernel reset (iptables reject)), "
            + "and it tried no new connection in the fault's 10.00 s, so nothing refused it; its next connect came 1.64 s after the restore; "
            + "its error: \"\(reset.text)\" (etl log dbz.log)")
        let refusedToo = Checklist.evaluate(tc004.checklist, RunObservations(windows: [window()], message: reset, data: match))[1]
        #expect(refusedToo.verdict == .fail)
    }

    /// TC-005 with Debezium: the stopping server closed its connection; it logged no failure and
    /// tried nothing until its keepalive a minute and a half later. It met the fault: not "the
    /// fault ended before the client noticed".
    @Test func aClientThatWaitsOutAStoppedServerIsNotSaidToHaveMissedIt() {
        let tc005 = BuiltinCases.named("TC-005")!
        var waited = window(detectedAfter: nil)
        waited.fault = FaultSpec(type: .service)
        waited.serverClosed = ServerClose(after: 0.01)
        waited.attempts = AttemptSeries(attempts: [ConnectionAttempt(after: 104.4, kind: .accepted)])
        var observations = RunObservations(windows: [waited], data: match)
        observations.etlLogSearched = "dbz.log, for /error/"
        let item = Checklist.evaluate(tc005.checklist, observations)[0]
        #expect(item.verdict == .notObserved)
        #expect(item.evidence == "the server closed the connection at 0.01 s; the client tried no connection while the server was down (10.00 s) "
            + "and its log showed no failure; its next connect came 94.40 s after the restart")
    }

    /// --etl-log given and nothing in it: say that, not "give --etl-log"; an engine that stopped
    /// for good is why replication never resumed.
    @Test func whatTheETLLogSaidAndDidNotSay() {
        var observations = RunObservations(windows: [window(reconnected: nil, resumed: nil)], data: match)
        observations.etlLogSearched = "/tmp/dbz.log, for /error|refused/"
        let results = Checklist.evaluate(tc004.checklist, observations)
        #expect(results[1].verdict == .notObserved)
        #expect(results[1].evidence.hasPrefix("no line of the ETL log /tmp/dbz.log, for /error|refused/ came after the fault started"))
        observations.toolStopped = ObservedMessage(text: "Engine is stopped", source: "etl log /tmp/dbz.log")
        let recovery = Checklist.evaluate(tc004.checklist, observations)[2]
        #expect(recovery.verdict == .fail)
        #expect(recovery.evidence == "replication never resumed after the restore: the ETL tool stopped for good (\"Engine is stopped\", etl log /tmp/dbz.log)")
    }
}

extension ChecklistTests {
    /// A reconnect no fault window judges (a server-side reset, a tap restarted mid-run) that
    /// skipped a transaction's rest loses data as one in a window does.
    @Test func aSkipBetweenFaultsFailsThePosition() {
        var between = resume(.skipped)
        between.note = "asked to resume after transaction 0-1-12 (from mysql-bin.000001:600000), of which it had been sent"
            + " 40 row events of testdb.users: the server never sends the rest of it"
        between.requestedAt = 1_796_300_000
        var observations = RunObservations(windows: [window(resume: [resume(.maintained)])], message: refused, data: match)
        observations.reconnects = [between]
        let position = Checklist.evaluate(tc004.checklist, observations)[3]
        #expect(position.verdict == .fail)
        #expect(position.evidence == "between faults, server_id 2 at \(RunReport.clock(1_796_300_000)) UTC skipped ahead (\(between.note!))")

        // Alone, a reconnect between faults is judged too; a maintained one passes.
        var maintained = resume(.maintained)
        maintained.requestedAt = 1_796_300_000
        let alone = Checklist.evaluate(tc004.checklist, RunObservations(windows: [window()], message: refused, data: match))
        #expect(alone[3].verdict == .notObserved)
        var only = RunObservations(windows: [window()], message: refused, data: match)
        only.reconnects = [maintained]
        #expect(Checklist.evaluate(tc004.checklist, only)[3].verdict == .pass)
    }
}
