import AgentAPI
import Faults
import Foundation
import Measurements
import Pipeline
import Runner
import Source
import Synchronization
import TestCases
import Testing
import Verification

/// The runner's logic under a clock that moves only when the runner sleeps: what a run does
/// when the agent goes silent, a signal comes, or the source is held by someone else's fault.
/// The world is scripted here; the integration tests run the same runner against real servers.
@Suite struct CaseRunnerTests {
    static let tc004 = BuiltinCases.named("TC-004")!

    @Test func anAgentThatStopsAnsweringEndsTheRunInconclusiveWithinItsLimit() async {
        let world = ScriptedWorld()
        let (report, elapsed) = await execute(Self.tc004, in: world, tick: { world, _ in
            // The agent dies once the run has sent its fault.
            if !world.applied.isEmpty { world.agentAnswers = false }
        })
        #expect(report.verdict == .inconclusive)
        #expect(report.inconclusive.map(\.kind).contains(.agentDown))
        #expect(report.inconclusive.first { $0.kind == .agentDown }?.detail == "no answer for 5 s; the run stopped waiting")
        // It did try to restore, and says that failed: the network may still be down.
        #expect(world.restores == 1)
        #expect(report.inconclusive.map(\.kind).contains(.restore))
        // The fault lasts 10 s; the run stopped waiting after 5 s of silence, not at the fault's end + 30 s.
        #expect(elapsed < .seconds(8))
    }

    /// The agent killed while it answered the run's fault command (it had applied it) and
    /// restarted by its supervisor: the run waits for it as for silence, and the journal's
    /// restart makes it INCONCLUSIVE — not an internal error, and the final restore is made.
    @Test func anAgentThatDiesWhileAnsweringTheFaultIsWaitedFor() async {
        let world = ScriptedWorld()
        world.applyAnswerLost = true
        world.journalEvents = [JournalEvent(at: 1_800_000_000.5, kind: .agentRestarted, detail: "the previous agent (pid 41) was killed by signal 9")]
        let (report, _) = await execute(Self.tc004, in: world)
        #expect(report.verdict == .inconclusive)
        #expect(report.inconclusive.map(\.kind) == [.agentRestarted], "\(report.inconclusive)")
        #expect(report.steps.contains { $0.outcome.hasPrefix("down reject for 10 s; the agent went away before it answered") })
        #expect(report.steps.contains { $0.outcome == "the fault ended; network up" })
        #expect(world.restores == 1)
    }

    /// An engine still taking its initial snapshot (connected, no binlog dump yet) is waited for,
    /// up to recovery_within, instead of a BLOCKED after 10 s; once its dump is open the evidence
    /// says how far behind it is, as the server's dump thread tells.
    @Test func anInitialSnapshotIsWaitedForAndTheReadersLagSaid() async throws {
        let world = ScriptedWorld()
        world.snapshotUntil = .seconds(45)
        let (report, _) = await execute(Self.tc004, in: world, managedReplica: false)
        #expect(report.verdict != .blocked, "\(report.reason ?? "")")
        #expect(report.steps.contains { $0.text == "Waiting for the ETL tool's initial snapshot" })
        let reader = try #require(report.preconditions.first { $0.text == "ETL client reading the binlog" })
        #expect(reader.met)
        #expect(reader.evidence == "1 binlog dump(s) by hevo open, the server has sent it the whole binlog")

        let never = ScriptedWorld()
        never.snapshotUntil = .seconds(100_000)
        var short = Self.tc004
        short = try short.overriding(["recovery_within": 20])
        let (blocked, elapsed) = await execute(short, in: never, managedReplica: false)
        #expect(blocked.verdict == .blocked)
        #expect(blocked.reason?.contains("2 other connection(s) by hevo open (an initial snapshot still running?)") == true, "\(blocked.reason ?? "")")
        #expect(elapsed < .seconds(25))
    }

    @Test func aBlockedRunLeavesTheUsersFaultAlone() async {
        let world = ScriptedWorld()
        world.userFault = FaultSpec(type: .reject)
        let (report, _) = await execute(Self.tc004, in: world)
        #expect(report.verdict == .blocked)
        #expect(report.reason?.contains("Network clear") == true)
        #expect(world.applied.isEmpty)
        #expect(world.restores == 0)
        #expect(report.items.allSatisfy { $0.verdict == .blocked })
    }

    @Test func aSignalDuringTheFaultRestoresAndNamesTheSignal() async {
        let world = ScriptedWorld()
        let signal = Mutex<String?>(nil)
        let (report, _) = await execute(Self.tc004, in: world, interruption: { signal.withLock { $0 } }, tick: { world, _ in
            if !world.applied.isEmpty { signal.withLock { $0 = "SIGTERM" } }
        })
        #expect(report.verdict == .interrupted)
        #expect(report.reason == "interrupted by SIGTERM; the network was restored and the load stopped")
        #expect(world.restores == 1)
    }

    @Test func theCasesFaultIsSentAsWrittenAndTheDataChecked() async {
        let world = ScriptedWorld()
        let (report, _) = await execute(Self.tc004, in: world)
        #expect(world.applied == [FaultCommand(action: .down, spec: FaultSpec(type: .reject), durationSeconds: 10)])
        #expect(report.steps.map(\.text).first == "Checked preconditions")
        #expect(report.steps.contains { $0.outcome == "down reject for 10 s" })
        #expect(report.steps.contains { $0.outcome == "the fault ended; network up" })
        #expect(report.observations.data?.verdict == .match)
        #expect(report.inconclusive.isEmpty)
        // The fault ended by itself: nothing was still active for the run to end but its final restore.
        #expect(world.restores == 1)
    }

    @Test func aDataCheckThatGivesNoAnswerIsBounded() async {
        let world = ScriptedWorld()
        world.dataCheckHangs = true
        // The check sleeps 5 s; the bound (300 ms) answers first, as the reason shows.
        let (report, _) = await execute(Self.tc004, in: world, dataCheckLimit: .milliseconds(300))
        #expect(report.verdict == .blocked)
        #expect(report.reason?.contains("the data check gave no answer: no answer within 300 ms") == true)
    }

    /// The recovery step waits as long as the case's recovery_within, default 300 s: an engine that
    /// comes back after a minute is not judged at 60 s.
    @Test func theRecoveryWaitIsTheCasesRecoveryWithin() async throws {
        for (setting, waited) in [(nil, 300), (20.0, 20)] as [(Double?, Int)] {
            var testCase = Self.tc004
            if let setting { testCase = try testCase.overriding(["recovery_within": setting]) }
            let world = ScriptedWorld()
            let (report, _) = await execute(testCase, in: world, managedReplica: false)
            let step = try #require(report.steps.first { $0.text.hasPrefix("Verify pipeline recovery") })
            #expect(step.outcome == "no replication resumed within \(waited) s after the restore")
            #expect(report.observations.recoveryWithin == Double(waited))
        }
    }

    /// An engine whose connection stayed open through the fault and delivered again has read the
    /// binlog since the restore: recovery says so, and the data check gets the catch-up wait.
    @Test func aConnectionThatSurvivedAndDeliversAgainGetsTheCatchUpWait() async throws {
        var survived = WindowReport(window: 2, fault: FaultSpec(type: .timeout), started: 1_800_000_001, ended: 1_800_000_011,
                                    endReason: .expired, detection: nil, attempts: AttemptSeries(attempts: []),
                                    connections: ConnectionSurvival(openAtStart: 1, survived: 1),
                                    reconnectedAfter: nil, replicationResumedAfter: 50.6, resume: [])
        survived.resumedOnConnection = SameConnectionResume(conn: 7, received: true)
        let world = ScriptedWorld()
        let resumed = survived
        let (report, _) = await execute(Self.tc004, in: world, managedReplica: false, tick: { world, _ in
            if !world.applied.isEmpty, world.windows.isEmpty { world.windows = [resumed] }
        })
        let step = try #require(report.steps.first { $0.text.hasPrefix("Verify pipeline recovery") })
        #expect(step.outcome == "replication resumed 50.60 s after the restore on the same connection (conn 7), the first event the client received")
        // The last data check is the run's: the first one is the precondition's.
        #expect((world.dataWaits.last ?? .zero) > .zero, "\(world.dataWaits)")
        // Without a resume, the data is compared once, without waiting.
        let stopped = ScriptedWorld()
        var never = survived
        never.replicationResumedAfter = nil
        never.resumedOnConnection = nil
        let notResumed = never
        _ = await execute(Self.tc004, in: stopped, managedReplica: false, tick: { world, _ in
            if !world.applied.isEmpty, world.windows.isEmpty { world.windows = [notResumed] }
        })
        #expect(stopped.dataWaits.count > 1 && stopped.dataWaits.last == .zero, "\(stopped.dataWaits)")
    }

    /// Debezium's snapshot reads with SELECTs moments before its dump opens: a run that starts in
    /// between sees a query-based sync, and once the dump opens waits and judges as for the binlog
    /// reader it is — the recovery, then the catch-up wait, not one comparison at once.
    @Test func aSnapshotThatThenStreamsIsJudgedAsABinlogReader() async throws {
        let world = ScriptedWorld()
        let report = await executeWithADumpAtTheFault(in: world, resumedAfter: 50.6)
        let reader = try #require(report.preconditions.first { $0.text == "ETL client reading the binlog" })
        #expect(reader.evidence.hasPrefix("a query-based sync: hevo read testdb.users with SELECTs"), "\(reader.evidence)")
        #expect(reader.evidence.hasSuffix("; then it opened a binlog dump 2.00 s into the run: judged as a binlog reader"), "\(reader.evidence)")
        #expect(report.observations.syncMode == .binlog)
        let step = try #require(report.steps.first { $0.text.hasPrefix("Verify pipeline recovery") })
        #expect(step.outcome.hasPrefix("replication resumed 50.60 s after the restore"), "\(step.outcome)")
        #expect((world.dataWaits.last ?? .zero) > .zero, "\(world.dataWaits)")
    }

    /// Extra rows at the destination are allowed for a query-based sync; a sync that opens its dump
    /// right after that check is a binlog reader whose destination was not in sync: BLOCKED, no fault.
    @Test func extraRowsAllowedForAQuerySyncBlockOnceItsDumpOpensBeforeTheSteps() async throws {
        let world = ScriptedWorld()
        world.dumpsOpen = false
        world.extraAtDestination = 2
        world.journalEvents = [JournalEvent(at: 1_799_999_999.5, kind: .tablesRead, conn: 3, user: "hevo", detail: "testdb.users")]
        world.journaledAfterDataChecks = (1, [JournalEvent(at: 1_800_000_000.25, kind: .binlogDump, conn: 4, user: "hevo")])
        let (report, _) = await execute(Self.tc004, in: world, managedReplica: false)
        #expect(report.verdict == .blocked, "\(report.reason ?? "")")
        let inSync = try #require(report.preconditions.first { $0.text == "Destination in sync" })
        #expect(!inSync.met)
        #expect(inSync.evidence == "source 10 rows, destination 12: 0 missing, 2 extra, 0 changed; the sync then opened a binlog dump, "
                + "and a binlog reader's destination holding rows the source does not have is not in sync", "\(inSync.evidence)")
        #expect(world.applied.isEmpty, "\(world.applied)")
    }

    /// The same when the dump opens during the run: the faults were sent to a pipeline whose
    /// destination was not in sync, so the run is INCONCLUSIVE, saying why.
    @Test func extraRowsAllowedForAQuerySyncMakeTheRunInconclusiveOnceItsDumpOpens() async throws {
        let world = ScriptedWorld()
        world.extraAtDestination = 2
        let report = await executeWithADumpAtTheFault(in: world, resumedAfter: 5.6)
        #expect(report.verdict == .inconclusive, "\(report.reason ?? "")")
        let cause = try #require(report.inconclusive.first { $0.kind == .precondition }, "\(report.inconclusive)")
        #expect(cause.line == "precondition \"Destination in sync\" not met for a binlog reader: before the run, source 10 rows, "
                + "destination 12: 0 missing, 2 extra, 0 changed; allowed as rows a query-based sync keeps, but the sync then opened "
                + "a binlog dump, and for a binlog reader they are differences the run did not make", "\(cause.line)")
        #expect(report.observations.syncMode == .binlog)
    }

    /// A run that starts between a binlog reader's snapshot and its dump (it asked where the binlog
    /// stands, then read the tables with SELECTs) waits for the dump, and judges a binlog reader.
    @Test func aSnapshotThatAskedWhereTheBinlogStandsIsWaitedForUntilItsDumpOpens() async throws {
        let world = ScriptedWorld()
        world.dumpsOpen = false
        // A snapshot of a big table: it asked where the binlog stands 20 minutes before its SELECT ended.
        world.journalEvents = [JournalEvent(at: 1_799_998_800, kind: .binlogStatus, conn: 3, user: "hevo"),
                               JournalEvent(at: 1_799_999_999.5, kind: .tablesRead, conn: 3, user: "hevo", detail: "testdb.users")]
        let (report, _) = await execute(Self.tc004, in: world, managedReplica: false, tick: { world, now in
            if now >= .seconds(3), !world.dumpsOpen {
                world.dumpsOpen = true
                world.journalEvents.append(JournalEvent(at: 1_800_000_003, kind: .binlogDump, conn: 4, user: "hevo"))
            }
        })
        let reader = try #require(report.preconditions.first { $0.text == "ETL client reading the binlog" })
        #expect(reader.met && reader.evidence.hasPrefix("1 binlog dump(s) by hevo open, one started in the last 10 s"), "\(reader.evidence)")
        #expect(report.observations.syncMode == .binlog)
        let waiting = try #require(report.steps.first { $0.text == "Waiting for the ETL tool's binlog stream" }, "\(report.steps)")
        #expect(waiting.outcome.hasPrefix("hevo asked where the binlog stands (SHOW MASTER STATUS) 1200.0 s ago and read testdb.users with SELECTs"),
                "\(waiting.outcome)")
        #expect(waiting.outcome.hasSuffix("waiting up to 300 s (recovery_within) for it to open its binlog dump"), "\(waiting.outcome)")
        #expect(!world.applied.isEmpty, "the run went on to its fault")
    }

    /// A sync that asked where the binlog stands once and then only reads with SELECTs is waited
    /// for up to recovery_within, then judged as the query-based sync it shows itself to be.
    @Test func aSyncThatAskedWhereTheBinlogStandsButNeverStreamsIsJudgedByItsSelects() async throws {
        let world = ScriptedWorld()
        world.dumpsOpen = false
        world.journalEvents = [JournalEvent(at: 1_799_999_990, kind: .binlogStatus, conn: 3, user: "hevo"),
                               JournalEvent(at: 1_799_999_999.5, kind: .tablesRead, conn: 3, user: "hevo", detail: "testdb.users")]
        let testCase = try Self.tc004.overriding(["recovery_within": 20])
        let (report, _) = await execute(testCase, in: world, managedReplica: false)
        let reader = try #require(report.preconditions.first { $0.text == "ETL client reading the binlog" })
        #expect(reader.met && reader.evidence.hasPrefix("a query-based sync: hevo read testdb.users with SELECTs"), "\(reader.evidence)")
        #expect(reader.evidence.contains("; it asked where the binlog stands 30."), "\(reader.evidence)")
        #expect(reader.evidence.hasSuffix(" s ago, as a binlog reader does before it streams, but opened no binlog dump while the run waited"),
                "\(reader.evidence)")
        #expect(report.observations.syncMode == .queries)
        #expect(report.steps.contains { $0.text == "Waiting for the ETL tool's binlog stream" })
    }

    /// The dump opens while the preconditions are still checked: the reader precondition, recorded
    /// after, says so too.
    @Test func aDumpThatOpensDuringThePreconditionsIsSaidInTheirEvidence() async throws {
        let world = ScriptedWorld()
        world.dumpsOpen = false
        world.journalEvents = [JournalEvent(at: 1_799_999_999.5, kind: .tablesRead, conn: 3, user: "hevo", detail: "testdb.users")]
        world.journaledFromRead = (3, [JournalEvent(at: 1_800_000_000.25, kind: .binlogDump, conn: 4, user: "hevo")])
        let (report, _) = await execute(Self.tc004, in: world, managedReplica: false)
        let reader = try #require(report.preconditions.first { $0.text == "ETL client reading the binlog" })
        #expect(reader.evidence.hasPrefix("a query-based sync: hevo read testdb.users with SELECTs"), "\(reader.evidence)")
        #expect(reader.evidence.hasSuffix("; then it opened a binlog dump 0.25 s into the run: judged as a binlog reader"), "\(reader.evidence)")
        #expect(report.observations.syncMode == .binlog)
    }

    /// On a terminal the tester is asked at the observe step (when their tool shows the error, and
    /// what it says) and for each item the run could not measure; their answers are marked as theirs.
    @Test func theTesterIsAskedWhatOnlyTheySee() async throws {
        let prompter = ScriptedPrompter(["", "Connection refused (Fix Now)", "f", "saw it in the UI"])
        let (report, _) = await execute(Self.tc004, in: ScriptedWorld(), prompter: prompter)
        let questions = prompter.questions
        #expect(questions.first?.contains("Press Enter when your ETL tool shows the error") == true, "\(questions)")
        #expect(questions.first?.contains("the fault ends in") == true, "\(questions)")
        #expect(questions.dropFirst().first == "What error does your ETL tool show? Paste it, or Enter to skip: ")
        let answers = try #require(report.observations.testerAnswers)
        #expect(answers.observed["error_message"]?.text == "Connection refused (Fix Now)")
        #expect(answers.observed["detection"]?.text?.hasPrefix("their tool showed the error") == true)
        #expect(report.items[1].verdict == .pass && report.items[1].evidence.contains("(seen by t at "), "\(report.items[1])")
        let asked = questions.dropFirst(2).first ?? ""
        #expect(asked.hasPrefix("Item ") && asked.contains("is NOT OBSERVED"), "\(questions)")
        let overridden = report.items.filter { $0.person != nil }
        #expect(overridden.count == 1 && overridden.first?.verdict == .fail, "\(report.items)")
        #expect(overridden.first?.evidence.contains("measured NOT OBSERVED → FAIL by t at ") == true)
        #expect(overridden.first?.evidence.contains(": saw it in the UI; measured: ") == true)
        #expect(report.verdict == .fail)
        #expect(report.steps.contains { $0.outcome.contains("the tester's tool showed \"Connection refused (Fix Now)\"") })
    }

    // MARK: The harness

    /// TC-004 against a sync seen reading testdb.users with SELECTs, which opens its binlog dump
    /// 2 s into the run, once the fault is sent, and resumes `resumedAfter` s after the restore.
    private func executeWithADumpAtTheFault(in world: ScriptedWorld, resumedAfter: Double) async -> RunReport {
        world.dumpsOpen = false
        world.journalEvents = [JournalEvent(at: 1_799_999_999.5, kind: .tablesRead, conn: 3, user: "hevo", detail: "testdb.users")]
        let window = WindowReport(window: 2, fault: FaultSpec(type: .reject), started: 1_800_000_001, ended: 1_800_000_011,
                                  endReason: .expired, detection: nil, attempts: AttemptSeries(attempts: []),
                                  connections: ConnectionSurvival(openAtStart: 1, survived: 0),
                                  reconnectedAfter: resumedAfter - 0.1, replicationResumedAfter: resumedAfter, resume: [])
        return await execute(Self.tc004, in: world, managedReplica: false, tick: { world, _ in
            if !world.applied.isEmpty, world.windows.isEmpty {
                world.dumpsOpen = true
                world.journalEvents.append(JournalEvent(at: 1_800_000_002, kind: .binlogDump, conn: 4, user: "hevo"))
                world.windows = [window]
            }
        }).0
    }

    /// Runs `testCase` with `duration` 10 in `world`; `tick` sees the world whenever the runner sleeps.
    private func execute(_ testCase: TestCase, in world: ScriptedWorld, interruption: @escaping @Sendable () -> String? = { nil },
                     dataCheckLimit: Duration? = nil, managedReplica: Bool = true, prompter: (any RunPrompter)? = nil,
                     tick: @escaping @Sendable (ScriptedWorld, Duration) -> Void = { _, _ in }) async -> (RunReport, Duration) {
        var testCase = testCase
        testCase.parameters["duration"] = 10
        let clock = RunTestClock()
        clock.onSleep = { now in world.now = now; tick(world, now) }
        world.now = .zero
        let environment = RunEnvironment(clock: clock, epoch: { 1_800_000_000 + clock.now.offset.seconds }, world: world,
                                         load: InertLoad(), sampler: InertSampler(), reporter: { _ in }, interruption: interruption,
                                         prompter: prompter)
        let base = RunReport(caseID: testCase.id, title: testCase.title, started: 1_800_000_000, finished: 1_800_000_000,
                             tester: "t", etlTool: "e", toolkitVersion: "test", pipeline: "replica", parameters: testCase.parameters, verdict: .fail)
        let runner = CaseRunner(environment, plan: RunPlan(testCase: testCase, etlUser: "hevo", managedReplica: managedReplica), report: base,
                                dataCheckMargin: dataCheckLimit ?? .seconds(300))
        let report = await runner.execute()
        return (report, clock.now.offset)
    }
}

/// A clock whose time moves only when someone sleeps on it: a sleep returns at once, its deadline reached.
final class RunTestClock: Clock, @unchecked Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let state = Mutex(Duration.zero)
    var onSleep: @Sendable (Duration) -> Void = { _ in }
    var now: Instant { Instant(offset: state.withLock { $0 }) }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let now = state.withLock { offset in
            offset = max(offset, deadline.offset)
            return offset
        }
        onSleep(now)
        await Task.yield()
    }
}

/// An agent whose faults last as commanded on the test clock, a source with one binlog reader,
/// a replica that is always in sync.
final class ScriptedWorld: RunWorld, @unchecked Sendable {
    private let lock = NSLock()
    private var _now = Duration.zero
    private var _applied: [(FaultCommand, Duration)] = []
    private var _restores = 0
    private var _agentAnswers = true
    /// When the last `network --up` came: it ends every fault sent before it.
    private var _restoredAt: Duration?
    private var _windows: [WindowReport] = []
    private var _dataWaits: [Duration] = []
    var userFault: FaultSpec?
    var dataCheckHangs = false
    /// Until then the ETL user is connected with no binlog dump (an initial snapshot).
    var snapshotUntil = Duration.zero
    /// Whether the ETL user's binlog dump is open once any snapshot is over (false: it reads with queries).
    var dumpsOpen = true
    /// The next `apply` takes effect but its answer is lost (the agent died while answering).
    var applyAnswerLost = false
    var journalEvents: [JournalEvent] = []
    /// Events the journal holds from its Nth read on: a dump that opens right after the reader
    /// precondition read the journal (its two reads), before the precondition's data check.
    var journaledFromRead: (read: Int, events: [JournalEvent])?
    private var journalReads = 0
    /// Events the journal holds once this many data checks were made: a dump that opens right
    /// after the precondition compared the destination.
    var journaledAfterDataChecks: (checks: Int, events: [JournalEvent])?
    /// Rows the destination holds that the source does not.
    var extraAtDestination = 0
    let etlLog: ETLLog? = nil

    var now: Duration { get { lock.withLock { _now } } set { lock.withLock { _now = newValue } } }
    var applied: [FaultCommand] { lock.withLock { _applied.map(\.0) } }
    var restores: Int { lock.withLock { _restores } }
    var agentAnswers: Bool { get { lock.withLock { _agentAnswers } } set { lock.withLock { _agentAnswers = newValue } } }
    /// The fault windows the agent reports.
    var windows: [WindowReport] { get { lock.withLock { _windows } } set { lock.withLock { _windows = newValue } } }
    /// The `wait` of every data check, in order.
    var dataWaits: [Duration] { lock.withLock { _dataWaits } }

    struct Silent: Error {}

    func agentStatus() throws -> AgentStatus {
        try lock.withLock {
            guard _agentAnswers else { throw Silent() }
            var faults: [ActiveFaultStatus] = []
            if let userFault { faults.append(ActiveFaultStatus(fault: userFault, windowID: 1, elapsedSeconds: 1, remainingSeconds: 29, flap: nil)) }
            for (command, at) in _applied {
                guard let seconds = command.durationSeconds, let spec = command.spec, _now < at + .seconds(seconds),
                      _restoredAt.map({ $0 < at }) ?? true else { continue }
                faults.append(ActiveFaultStatus(fault: spec, windowID: 2, elapsedSeconds: (_now - at).seconds,
                                             remainingSeconds: (at + .seconds(seconds) - _now).seconds, flap: nil))
            }
            return AgentStatus(pid: 42, startedAt: 0, backend: .gateway, listen: "127.0.0.1:3306", upstream: "127.0.0.1:3307",
                               gatewayListening: true, connections: 1, faults: faults, windows: _windows, journal: "journal.jsonl")
        }
    }

    func apply(_ command: FaultCommand) throws -> AgentStatus {
        lock.withLock { _applied.append((command, _now)) }
        if applyAnswerLost {
            applyAnswerLost = false
            throw AgentClient.Failure.unreachable("it closed the connection without answering")
        }
        return try agentStatus()
    }

    func restoreAll() throws -> AgentStatus {
        lock.withLock {
            _restores += 1
            _restoredAt = _now
        }
        return try agentStatus()
    }

    func window(_ id: Int) throws -> WindowReport { throw Silent() }
    func journal(from start: Double) -> [JournalEvent] {
        let (read, checks) = lock.withLock { journalReads += 1; return (journalReads, _dataWaits.count) }
        var events = journalEvents
        if let later = journaledFromRead, read >= later.read { events += later.events }
        if let later = journaledAfterDataChecks, checks >= later.checks { events += later.events }
        return events
    }
    func journalSummary(window id: Int) -> WindowReport? { nil }
    func etlSessions(user: String) -> ETLSessions? {
        lock.withLock {
            !dumpsOpen ? ETLSessions(dumpStates: [], others: 1)
                : _now < snapshotUntil ? ETLSessions(dumpStates: [], others: 2)
                : ETLSessions(dumpStates: ["Master has sent all binlog to slave; waiting for more updates"], others: 0)
        }
    }
    func sourceGTIDPosition() -> String? { "0-1-10" }
    func replicaStatus() -> ReplicaPipeline.Status? {
        var status = ReplicaPipeline.Status(exists: true, running: true)
        status.ioRunning = "Yes"
        status.sqlRunning = "Yes"
        status.lastIOErrno = 0
        status.gtidPosition = "0-1-10"
        return status
    }

    func checkData(wait: Duration, deletedAtSource: [String: Set<String>]?, shouldStop: @escaping @Sendable () -> Bool) -> VerifyReport {
        lock.withLock { _dataWaits.append(wait) }
        if dataCheckHangs { Thread.sleep(forTimeInterval: 5) }
        var table = TableReport(table: "users", key: ["id"], profile: .none)
        table.sourceRows = 10
        table.destinationRows = 10 + extraAtDestination
        table.matched = 10
        table.extra = extraAtDestination
        return VerifyReport(tables: [table], notReplicatedTables: [], seconds: 0.01)
    }

    func runStep(_ arguments: [String], limit: Duration) -> StepOutcome { StepOutcome(text: "done") }
}

struct InertLoad: RunLoad {
    func run() async {}
    func pause() async {}
    func resume() {}
    func stop() async -> LoadSummary { LoadSummary(inserted: 0, updated: 0, deleted: 0, table: "users") }
}

struct InertSampler: RunSampling {
    func run() async {}
    func faultStarted() {}
    func stop() async {}
    var samples: [Sample] { [] }
    var errors: [ObservedMessage] { [] }
}

/// A tester who types the given lines in order, then nothing; the questions asked are kept.
final class ScriptedPrompter: RunPrompter, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String]
    private var asked: [String] = []
    init(_ lines: [String]) { self.lines = lines }
    var questions: [String] { lock.withLock { asked } }
    func ask(_ question: String, within: Duration?) async -> String? {
        lock.withLock {
            asked.append(question)
            return lines.isEmpty ? "" : lines.removeFirst()
        }
    }
}
