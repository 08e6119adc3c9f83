import AgentAPI
import Faults
import Foundation
import Measurements
import Pipeline
import Source
import TestCases
import Verification

/// Executes one case: preconditions, steps with the toolkit's own load running, catch-up, data
/// check, checklist. Every error and signal ends with the network up (if the run took it down)
/// and the load stopped; the report is always returned. The run holds the source's `RunLock`
/// (its caller took it): the journal then tells the run's own fault commands from anyone else's.
/// Waits are on the injected clock; every call into the world is made off the cooperative pool.
public actor CaseRunner<C: Clock> where C.Duration == Duration {
    let environment: RunEnvironment<C>
    let plan: RunPlan
    private var report: RunReport
    private var firstWindowBefore = 0
    private var etlLogOffsetAtFault: UInt64?
    /// Set once the run asked the agent for a fault: only then is the final restore the run's.
    private var startedFault = false
    /// Since when the agent has not answered (epoch seconds and the clock's instant), and when it was last asked.
    private var agentSilentSince: (epoch: Double, instant: C.Instant)?
    private var agentLastAsked: C.Instant?
    /// How the pipeline reads the source, as the preconditions found it (a dump during the run makes it a binlog reader).
    private var syncMode: SyncMode?
    /// Seconds into the run when a sync judged query-based opened its binlog dump, until the reader
    /// precondition's evidence says so (the dump may open while the preconditions are still checked).
    private var dumpOpenedAfter: Double?
    /// "Destination in sync" passed only because a query-based sync keeps rows deleted at the
    /// source: what the destination held then (its extra rows are differences for a binlog reader).
    private var inSyncAsQueriesOnly: String?
    /// Set when the preconditions are behind it and the run's load and steps begin.
    private var loadStarted = false

    /// How long the agent may stay silent before the run stops waiting for it.
    public static var agentSilenceLimit: Duration { .seconds(5) }
    /// A data check is given its wait and this much more (as the `verify` child process was).
    let dataCheckMargin: Duration
    /// One call to the agent, the source or the replica.
    static var callLimit: Duration { .seconds(30) }

    public init(_ environment: RunEnvironment<C>, plan: RunPlan, report: RunReport, dataCheckMargin: Duration = .seconds(300)) {
        self.environment = environment
        self.plan = plan
        self.report = report
        self.dataCheckMargin = dataCheckMargin
    }

    struct Interrupted: Error {}
    /// The agent stopped answering: nothing the run waits for can come.
    struct AgentLost: Error { let since: Double; let detail: String }

    private var world: any RunWorld { environment.world }
    private var testCase: TestCase { plan.testCase }
    private var now: C.Instant { environment.clock.now }

    public func execute() async -> RunReport {
        // The load and the sampler run beside the steps, and end with them whatever happens.
        await withTaskGroup(of: Void.self) { group in
            await performSteps(in: &group)
            _ = await environment.load.stop()
            await environment.sampler.stop()
            group.cancelAll()
        }
        await finish()
        return report
    }

    private func performSteps(in group: inout TaskGroup<Void>) async {
        do {
            report.preconditions = try await checkPreconditions()
            // A dump that opened while they were checked: judged as a binlog reader from the start.
            await judgeAsBinlogReaderIfItStreams()
            noteTheDumpInThePrecondition()
            let preconditions = report.preconditions
            if let failed = preconditions.first(where: { !$0.met }) {
                report = RunReport.blocked(testCase, reason: "precondition not met: \(failed.text) — \(failed.evidence)", into: report)
                return
            }
            record("Checked preconditions", preconditions.map { "\($0.text): \($0.evidence)" }.joined(separator: "; "))
            firstWindowBefore = await agentStatus()?.windows.map(\.window).max() ?? 0
            let load = environment.load, sampler = environment.sampler
            loadStarted = true
            group.addTask { await sampler.run() }
            group.addTask { await load.run() }
            record("Started the toolkit's load", "inserts, updates and deletes on \(plan.table), about 10 statements a second, straight to the server")
            for (index, step) in testCase.steps.enumerated() {
                try checkInterrupt()
                try await perform(step, number: index + 1)
            }
            try checkInterrupt()
            let summary = await load.stop()
            record("Stopped the load", "\(summary.inserted) inserted, \(summary.updated) updated, \(summary.deleted) deleted")
            let data = await waitForSync(.seconds(testCase.catchUpWithin))
            record("Waited for the destination to catch up, then checked it", Self.outcome(of: data))
            report.observations.data = data
            report.observations.pipeline = await pipelineState()
        } catch is Interrupted {
            report.verdict = .interrupted
            report.reason = "interrupted by \(environment.interruption() ?? "a signal")"
        } catch let lost as AgentLost {
            report.markInconclusive(.agentDown(since: lost.since, detail: lost.detail))
        } catch {
            report.markInconclusive(.internalError("\("\(error)".split(separator: "\n").first ?? "")"))
        }
    }

    /// Always: the network up if the run took it down, measurements collected, checklist decided.
    /// A fault the run did not start (a blocked run's) is not the run's to end.
    private func finish() async {
        let world = self.world
        let started = report.started
        // What went on around the run that the case did not ask for, as the journal shows it
        // (readable without the agent).
        let tooling = InconclusiveCause.tooling(in: await Blocking.run { world.journal(from: started) })
        let sourceStopped = tooling.contains { $0.kind == .sourceDown }
        if startedFault {
            do {
                let after = try await finalRestore()
                if !after.faults.isEmpty {
                    report.markInconclusive(.restoreFailed("still active: " + after.faults.map(\.fault.description).joined(separator: ", ")))
                }
            } catch {
                // `toolkit down` restores every fault before it stops the agent.
                if !sourceStopped { report.markInconclusive(.restoreFailed("\(error)")) }
            }
        }
        for cause in tooling { report.markInconclusive(cause) }
        if sourceStopped { report.inconclusive.removeAll { $0.kind == .agentDown } }
        report.load = await environment.load.stop()
        report.samples = environment.sampler.samples
        // The agent bounds attempts at the default recovery_within; the case may give less.
        report.observations.windows = await runWindows().map { $0.boundingAttempts(recoveryWithin: testCase.recoveryWithin) }
        report.observations.recoveryWithin = testCase.recoveryWithin
        await judgeAsBinlogReaderIfItStreams()
        report.observations.syncMode = syncMode
        let runWindowIDs = Set(report.observations.windows.map(\.window))
        report.observations.reconnects = await Blocking.run { world.journal(from: started) }.compactMap { event in
            // A window of the run judges its client's first dump; every other reconnect is listed here.
            guard event.kind == .binlogResume, let resume = event.resume,
                  event.window.map({ !runWindowIDs.contains($0) }) ?? true else { return nil }
            return resume
        }
        let log = await etlLogMessages()
        let messages = log?.messages ?? environment.sampler.errors
        report.observations.message = messages.first
        report.observations.laterMessages = Array(messages.dropFirst())
        report.observations.toolStopped = log?.stopped
        if let log, let path = world.etlLog?.path {
            // Where the wire only bounds when the client gave up, its own log dates it.
            report.observations.windows = report.observations.windows.map {
                $0.datingDetection(byLog: log.messages.map(\.text), source: "etl log \(path)", timeZone: .current)
            }
        }
        if let path = world.etlLog?.path { report.observations.etlLogSearched = "\(path), for /\(plan.etlLogPattern)/" }
        if report.observations.pipeline == nil, report.verdict != .blocked { report.observations.pipeline = await pipelineState() }
        report.finished = environment.epoch()
        if report.verdict == .interrupted, !report.inconclusive.contains(where: { $0.kind == .restore }) {
            report.reason = (report.reason ?? "interrupted") + (startedFault ? "; the network was restored" : "") + " and the load stopped"
        }
        if report.verdict != .blocked {
            report.items = Checklist.evaluate(testCase.checklist, report.observations)
        }
        report.settle(checklist: Checklist.runVerdict(report.items))
        await askForUnmeasuredItems()
    }

    // MARK: The tester

    /// What the person at the terminal entered during the run.
    private var testerAnswers = TesterAnswers()

    /// At an `observe` step, during the fault: when their tool shows the error (Enter; its time is
    /// their own detection, next to the measured one) and what it says. Bounded by the fault's
    /// remaining time; nil without a terminal.
    private func askWhatTheTesterSees() async -> String? {
        guard let prompter = environment.prompter, environment.interruption() == nil else { return nil }
        let status = await agentStatus()
        let fault = status?.faults.first
        let remaining = fault?.remainingSeconds.map { max(1, $0) }
        let faultStarted = fault.map { environment.epoch() - $0.elapsedSeconds }
        let window = status?.windows.last { $0.window > firstWindowBefore }
        let measured = window?.detection.map { String(format: "measured: first failed attempt %.2f s after the fault (%@)", $0.after, $0.event.rawValue) }
            ?? "nothing failed on the wire yet"
        let ends = remaining.map { String(format: "the fault ends in %.0f s", $0) } ?? "the fault is on"
        var said: [String] = []
        let tester = report.tester
        if await prompter.ask("[\(ends); \(measured)] Press Enter when your ETL tool shows the error (or type skip): ",
                              within: remaining.map { .milliseconds(Int64($0 * 1000)) }) .map({ $0.lowercased() != "skip" }) == true,
           let faultStarted {
            let after = environment.epoch() - faultStarted
            testerAnswers.observed[Measure.detection.rawValue] = TesterAnswer(
                tester: tester, at: environment.epoch(), text: String(format: "their tool showed the error %.2f s after the fault started", after))
            said.append(String(format: "the tester saw the error %.2f s after the fault started", after))
        }
        if let message = await prompter.ask("What error does your ETL tool show? Paste it, or Enter to skip: ", within: .seconds(300)),
           !message.trimmingCharacters(in: .whitespaces).isEmpty {
            testerAnswers.observed[Measure.errorMessage.rawValue] = TesterAnswer(tester: tester, at: environment.epoch(),
                                                                                 text: message.trimmingCharacters(in: .whitespaces))
            said.append("the tester's tool showed \"\(message.trimmingCharacters(in: .whitespaces))\"")
        }
        return said.isEmpty ? nil : said.joined(separator: "; ")
    }

    /// After the checklist: each item the run could not measure, with what it measured, asked of the
    /// tester (PASS, FAIL or skip, and a note); then the checklist judged with their answers.
    private func askForUnmeasuredItems() async {
        guard let prompter = environment.prompter, report.verdict != .blocked, report.verdict != .interrupted else {
            return
        }
        // What they saw first: a message they pasted may already decide the message item.
        if !testerAnswers.isEmpty { report.judge(testCase, adding: testerAnswers) }
        var verdicts = TesterAnswers()
        for (index, item) in report.items.enumerated() where item.verdict == .notObserved && environment.interruption() == nil {
            guard let answer = await prompter.ask("Item \(index + 1) \"\(item.text)\" is NOT OBSERVED (\(item.evidence)). "
                                                    + "Your verdict: p = PASS, f = FAIL, Enter to skip: ", within: .seconds(600)) else { break }
            let verdict: ItemVerdict? = switch answer.trimmingCharacters(in: .whitespaces).lowercased() {
            case "p", "pass": .pass
            case "f", "fail": .fail
            default: nil
            }
            guard let verdict else { continue }
            let note = await prompter.ask("Note for item \(index + 1) (Enter for none): ", within: .seconds(600))
                .map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            verdicts.items[String(index + 1)] = TesterAnswer(tester: report.tester, at: environment.epoch(), verdict: verdict, text: note)
        }
        if !verdicts.isEmpty { report.judge(testCase, adding: verdicts) }
    }

    // MARK: Time, signals and the agent

    /// A blocking call into the world, bounded.
    private func call<T: Sendable>(limit: Duration = CaseRunner.callLimit, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await Blocking.call(limit: limit, work)
    }

    /// Sleeps on the run's clock, waking early on a signal.
    private func pause(_ duration: Duration) async {
        let end = now.advanced(by: duration)
        while environment.interruption() == nil, now < end {
            try? await environment.clock.sleep(for: min(.milliseconds(50), now.duration(to: end)))
        }
    }

    /// A call to the agent; nil when it went away before answering (killed, restarting): that is
    /// silence, which `checkInterrupt` bounds, not an error of the run. Whether the request took
    /// effect, the agent's status and journal tell once it answers again.
    private func agentCall<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T? {
        do {
            let answer = try await call(work)
            agentSilentSince = nil
            return answer
        } catch let failure as AgentClient.Failure where failure.isUnreachable {
            agentSilentSince = agentSilentSince ?? (environment.epoch(), now)
            return nil
        }
    }

    /// The case's restore: `network --up` while a fault is still active (one that ended by
    /// itself is already cleaned up). An agent that does not answer is waited for, up to the
    /// silence limit, and never taken for a network that is up.
    private func restoreNetwork() async throws -> String {
        let world = self.world
        while true {
            try checkInterrupt()
            guard let status = await agentStatus() else {
                await pause(.milliseconds(200))
                continue
            }
            if status.faults.isEmpty {
                // Ended by who stopped the source (`toolkit down` restores every fault first), not by its length.
                let started = report.started
                let stopped = await Blocking.run { InconclusiveCause.tooling(in: world.journal(from: started)) }
                    .first { $0.kind == .sourceDown }
                return stopped.map { "the fault ended when \($0.subject) (\($0.detail))" } ?? "the fault ended; network up"
            }
            do {
                if try await agentCall({ try world.restoreAll() }) != nil { return "network up (toolkit network --up)" }
            } catch {
                if let still = await agentStatus(), still.faults.isEmpty { return "network up; the agent reported: \(error)" }
                throw error
            }
        }
    }

    /// The final `network --up`; an agent that is being restarted gets the silence limit to answer.
    private func finalRestore() async throws -> AgentStatus {
        let world = self.world
        let deadline = now.advanced(by: Self.agentSilenceLimit)
        while true {
            do {
                return try await call { try world.restoreAll() }
            } catch let failure as AgentClient.Failure where failure.isUnreachable && now < deadline {
                try? await environment.clock.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Throws when a signal came, or the agent has stopped answering.
    private func checkInterrupt() throws {
        if environment.interruption() != nil { throw Interrupted() }
        if let since = agentSilentSince, since.instant.duration(to: now) >= Self.agentSilenceLimit {
            throw AgentLost(since: since.epoch, detail: "no answer for \(Self.agentSilenceLimit.components.seconds) s; the run stopped waiting")
        }
    }

    /// The agent's status, noting when it stops answering.
    private func agentStatus() async -> AgentStatus? {
        agentLastAsked = now
        let world = self.world
        if let status = try? await call({ try world.agentStatus() }) {
            agentSilentSince = nil
            return status
        }
        agentSilentSince = agentSilentSince ?? (environment.epoch(), now)
        return nil
    }

    /// A wait ends early on a signal or when the agent has gone (asked at most once a second).
    private func shouldStop() async -> Bool {
        if environment.interruption() != nil { return true }
        if agentLastAsked.map({ $0.duration(to: now) >= .seconds(1) }) ?? true { _ = await agentStatus() }
        return (try? checkInterrupt()) == nil
    }

    private func record(_ text: String, _ outcome: String) {
        let step = StepRecord(at: environment.epoch(), text: text, outcome: outcome)
        report.steps.append(step)
        environment.reporter(step)
    }

    // MARK: Preconditions

    private func checkPreconditions() async throws -> [PreconditionResult] {
        var results: [PreconditionResult] = []
        guard let status = await agentStatus() else {
            return [PreconditionResult(text: "Agent running", met: false, evidence: "the agent's control API does not answer")]
        }
        results.append(PreconditionResult(text: "Agent running", met: true, evidence: "pid \(status.pid), gateway \(status.listen)"))
        results.append(PreconditionResult(text: "Network clear", met: status.faults.isEmpty,
                                          evidence: status.faults.isEmpty ? "no fault active"
                                              : "active: " + status.faults.map(\.fault.description).joined(separator: ", ")))
        // A poller reads every few seconds, and a replica just started is still connecting: wait up
        // to 10 s. An engine still taking its initial snapshot (connected, no binlog dump yet), or
        // one that has taken it and not yet opened its dump, is waited for as long as the case
        // gives a pipeline to recover.
        var (reader, wait) = await readerPrecondition()
        let deadline = now.advanced(by: .seconds(10))
        let snapshotDeadline = now.advanced(by: .seconds(max(10, testCase.recoveryWithin)))
        var said: Set<ReaderWait> = []
        while !reader.met, now < (wait == nil ? deadline : snapshotDeadline), await !shouldStop() {
            if wait == .stream, said.insert(.stream).inserted {
                record("Waiting for the ETL tool's binlog stream",
                       "\(reader.evidence); waiting up to \(Int(testCase.recoveryWithin)) s (recovery_within) for it to open its binlog dump")
            }
            if wait == .snapshot, now >= deadline, said.insert(.snapshot).inserted {
                record("Waiting for the ETL tool's initial snapshot",
                       "\(plan.etlUser) is connected to the source with no binlog dump yet; waiting up to \(Int(testCase.recoveryWithin)) s (recovery_within)")
            }
            await pause(.milliseconds(250))
            (reader, wait) = await readerPrecondition()
        }
        // Waited out with no dump: it reads with SELECTs, and is judged as it shows itself.
        if !reader.met, wait == .stream { (reader, _) = await readerPrecondition(waitedOut: true) }
        results.append(reader)
        guard results.allSatisfy(\.met) else { return results }
        let data = await waitForSync(.seconds(30))
        if syncMode == .queries, data.verdict == .differences, data.missing == 0, data.changed == 0 {
            // A query-based sync cannot see deletes: rows at the destination the source no longer has do not block.
            let outcome = Self.outcome(of: data)
            inSyncAsQueriesOnly = outcome
            results.append(PreconditionResult(text: Self.inSyncText, met: true, evidence: outcome
                + "; no source row is missing or changed (a query-based sync keeps rows deleted at the source: reported, not blocking)"))
            return results
        }
        results.append(PreconditionResult(text: Self.inSyncText, met: data.verdict == .match, evidence: Self.outcome(of: data)))
        return results
    }

    /// An ETL client reading the binlog: a binlog dump by the ETL user open now or started
    /// within the last 10 s (pollers count too), and how far behind the head it is. Else a
    /// query-based sync: a read of the source's tables by the ETL user within `read_within`.
    /// Waited for (`wait`): an initial snapshot, when the user is connected and has read nothing;
    /// a binlog reader's stream, when the user asked where the binlog stands (in the last hour),
    /// read the tables with SELECTs and has opened no dump since (Debezium's snapshot, moments
    /// before its dump).
    /// `waitedOut`: that wait is over, and such a sync is judged by its SELECTs.
    static var readerText: String { "ETL client reading the binlog" }
    static var inSyncText: String { "Destination in sync" }
    /// How far back the reader precondition looks for a snapshot's binlog status query (seconds).
    static var snapshotHorizon: Double { 3600 }

    enum ReaderWait { case snapshot, stream }

    private func readerPrecondition(waitedOut: Bool = false) async -> (PreconditionResult, wait: ReaderWait?) {
        let text = Self.readerText
        let world = self.world, user = plan.etlUser, epoch = environment.epoch(), within = testCase.readWithin
        let sessions = (try? await call { world.etlSessions(user: user) }) ?? nil
        let dumps = sessions?.dumpStates.count ?? 0
        let recent = await Blocking.run { world.journal(from: epoch - 10) }.contains {
            $0.kind == .binlogDump && ($0.user == nil || $0.user == user)
        }
        guard dumps > 0 || recent else {
            // A query-based sync: it reads the tables with SELECTs now and then, and opens no dump.
            // An hour back: a snapshot of a big table asks where the binlog stands long before its last SELECT ends.
            let journal = await Blocking.run { world.journal(from: epoch - max(within, Self.snapshotHorizon)) }
            let reads = journal.filter { $0.at >= epoch - within && JournalTimeline.isSuccessfulRead($0) && $0.user == user }
            if let last = reads.last {
                let names: [String] = reads.flatMap { ($0.detail ?? "").split(separator: ",").map(String.init) }
                let tables = Set(names).filter { !BookkeepingTables.contains(String($0.split(separator: ".").last ?? "")) }.sorted()
                var streamNote = ""
                if let asked = journal.last(where: { $0.kind == .binlogStatus && $0.user == user }),
                   !journal.contains(where: { $0.kind == .binlogDump && $0.user == user && $0.at >= asked.at }) {
                    let askedAgo = String(format: "%.1f s ago", max(0, epoch - asked.at))
                    guard waitedOut else {
                        return (PreconditionResult(text: text, met: false, evidence: "\(user) asked where the binlog stands (SHOW MASTER STATUS) "
                                                       + "\(askedAgo) and read \(tables.joined(separator: ", ")) with SELECTs, as a binlog reader's "
                                                       + "initial snapshot does, and has opened no binlog dump since"), .stream)
                    }
                    streamNote = "; it asked where the binlog stands \(askedAgo), as a binlog reader does before it streams, "
                        + "but opened no binlog dump while the run waited"
                }
                syncMode = .queries
                let evidence = "a query-based sync: \(user) read \(tables.joined(separator: ", ")) with SELECTs, the last "
                    + String(format: "%.1f s ago", max(0, epoch - last.at)) + " (read_within \(Int(within)) s), and opened no binlog dump"
                return (PreconditionResult(text: text, met: true, evidence: evidence + streamNote), nil)
            }
            let others = sessions?.others ?? 0
            let connected = others > 0 ? "; \(others) other connection(s) by \(user) open (an initial snapshot still running?)" : ""
            return (PreconditionResult(text: text, met: false, evidence: "no binlog dump by \(user) open now or in the last 10 s, "
                                           + "and no read of the source's tables by \(user) in the last \(Int(within)) s (read_within)\(connected)"),
                    others > 0 ? .snapshot : nil)
        }
        syncMode = .binlog
        let behind: String
        if plan.managedReplica, let seconds = ((try? await call { world.replicaStatus() }) ?? nil)?.secondsBehind {
            behind = "\(seconds) s behind the head"
        } else if let sessions, dumps > 0 {
            // The server's own word: its dump thread has sent the whole binlog (to the gateway, and on).
            behind = sessions.sending.isEmpty ? "the server has sent \(dumps == 1 ? "it" : "them") the whole binlog"
                : "still being sent the binlog (dump thread: \(sessions.sending.map { "'\($0)'" }.joined(separator: ", ")))"
        } else {
            behind = "lag unknown"
        }
        return (PreconditionResult(text: text, met: true,
                                   evidence: "\(dumps) binlog dump(s) by \(user) open\(recent ? ", one started in the last 10 s" : ""), \(behind)"), nil)
    }

    // MARK: Steps

    /// Performs one step. The case was checked before the run (`CaseCheck`): every number is a
    /// whole number in range, so the fallbacks here are never reached.
    private func perform(_ step: CaseStep, number: Int) async throws {
        let world = self.world
        if let fault = step.fault {
            let command = Self.command(for: fault, in: testCase)
            faultStarting()
            let applied = try await agentCall { try world.apply(command) }
            let lasting = command.durationSeconds.map { " for \($0) s" } ?? " (one-shot)"
            record(step.text, "\(command.action.rawValue) \(fault.type)\(fault.crash == true ? " (crash)" : "")\(lasting)"
                + (command.intervalSeconds.map { ", toggling every \($0) s" } ?? "")
                + (applied == nil ? "; the agent went away before it answered (its journal tells whether the fault began)" : ""))
            // Latency phases follow each other: wait out this one before the next step.
            if fault.type == "latency" { try await waitForFaultsToEnd(extra: .seconds(15)) }
        } else if step.restore == true {
            try await waitForFaultsToEnd(extra: .seconds(30))
            record(step.text, try await restoreNetwork())
        } else if let arguments = step.toolkit {
            let expanded = testCase.expanded(arguments)
            faultStarting() // a step's command may change the network (network --down)
            // Bounded: a step that hangs must not hang the run (the longest, `replicate --scenario lag`, runs for its --duration).
            let duration = min(max(testCase.whole("${duration}") ?? 0, 0), 86_400)
            let limit = Duration.seconds(600 + duration)
            let outcome = await Blocking.run { world.runStep(expanded, limit: limit) }
            record(step.text, outcome.text)
            // The scenario did not happen as the case says: whatever the pipeline did, it was not tested.
            if let failure = outcome.failure {
                report.markInconclusive(.step(number: number, command: "toolkit " + expanded.joined(separator: " "), detail: failure))
            }
        } else if step.wait == .recovery {
            record(step.text, await waitForRecovery(.seconds(testCase.recoveryWithin)))
        } else if step.wait == .sync {
            // Under a steady load a pipeline is always a little behind: hold the load while comparing.
            await environment.load.pause()
            let data = await waitForSync(.seconds(30))
            environment.load.resume()
            record(step.text, Self.outcome(of: data) + "; the toolkit's load held while comparing")
        } else if step.observe != nil {
            let seen = await askWhatTheTesterSees()
            record(step.text, "measured by the agent (see the observations)" + (seen.map { "; \($0)" } ?? ""))
        } else {
            record(step.text, "not performed by the toolkit: a person must do it")
        }
    }

    /// The agent's command for a case's fault step.
    static func command(for fault: FaultStep, in testCase: TestCase) -> FaultCommand {
        let seconds = fault.seconds.flatMap(testCase.whole) ?? 10
        let type = FaultType(rawValue: fault.type) ?? .reject
        if type == .latency {
            let latency = fault.latency.flatMap(testCase.whole) ?? 2000
            return FaultCommand(action: .slow, spec: .latency(ms: latency, jitterMs: nil, scope: .all), durationSeconds: seconds)
        }
        if type == .reset { return FaultCommand(action: .down, spec: FaultSpec(type: .reset)) }
        let spec = FaultSpec(type: type, crash: fault.crash ?? false)
        if let interval = fault.interval.flatMap(testCase.whole) {
            return FaultCommand(action: .flap, spec: spec, durationSeconds: seconds, intervalSeconds: interval)
        }
        return FaultCommand(action: .down, spec: spec, durationSeconds: seconds)
    }

    /// The run is about to change the network: from here the final restore is its own, and the
    /// ETL log and the pipeline's errors are read from this point.
    private func faultStarting() {
        if etlLogOffsetAtFault == nil, let log = world.etlLog { etlLogOffsetAtFault = log.size() ?? 0 }
        environment.sampler.faultStarted()
        startedFault = true
    }

    private func waitForFaultsToEnd(extra: Duration) async throws {
        let longest = Duration.seconds(testCase.parameters["duration"] ?? 60)
        let deadline = now.advanced(by: longest + extra)
        while now < deadline {
            try checkInterrupt()
            if let status = await agentStatus(), status.faults.isEmpty { return }
            await pause(.milliseconds(200))
        }
    }

    private func waitForRecovery(_ limit: Duration) async -> String {
        let deadline = now.advanced(by: limit)
        let world = self.world
        guard plan.managedReplica else {
            // An external pipeline: recovered when the agent saw it replicate again after the last window.
            while now < deadline, await !shouldStop() {
                let window = await agentStatus()?.windows.last(where: { $0.window > firstWindowBefore })
                // A dump on the sync's side: an engine that snapshotted with queries now streams the binlog.
                if syncMode == .queries, window?.replicationResumedAfter != nil { await judgeAsBinlogReaderIfItStreams() }
                if syncMode == .queries, let read = window?.tablesReadAfter {
                    return String(format: "the sync read the source's tables again %.2f s after the restore", read)
                }
                if let window, let resumed = window.replicationResumedAfter {
                    return String(format: "replication resumed %.2f s after the restore", resumed)
                        + (window.resumedOnConnection.map { " \($0.words)" } ?? "")
                }
                await pause(.milliseconds(200))
            }
            return syncMode == .queries ? "the sync read none of the source's tables within \(limit.components.seconds) s after the restore"
                : "no replication resumed within \(limit.components.seconds) s after the restore"
        }
        var last: ReplicaPipeline.Status?
        let start = now
        while now < deadline, await !shouldStop() {
            last = (try? await call { world.replicaStatus() }) ?? nil
            if let last, last.replicating, last.lastIOErrno ?? 0 == 0 {
                return String(format: "replica replicating again (IO Yes, SQL Yes), %.1f s into the wait", start.duration(to: now).seconds)
            }
            // A stopped thread does not come back by itself: no use waiting.
            if let last, last.ioRunning == "No" || last.sqlRunning == "No" { break }
            await pause(.milliseconds(200))
        }
        return "not recovered: IO \(last?.ioRunning ?? "?"), SQL \(last?.sqlRunning ?? "?")"
            + (last?.lastIOError.map { ", \($0)" } ?? "") + (last?.lastSQLError.map { ", \($0)" } ?? "")
    }

    // MARK: Measurements

    /// One comparison of the destination with the source, compared again until it matches or
    /// `wait` passes; bounded in time, ended early by a signal.
    private func checkData(wait: Duration) async -> VerifyReport {
        let world = self.world
        let interruption = environment.interruption
        let limit = wait + dataCheckMargin
        do {
            // A query-based sync cannot see deletes: the rows the load deleted are reported, not differences.
            let deleted = syncMode == .queries ? environment.load.deletedKeys() : nil
            return try await call(limit: limit) { world.checkData(wait: wait, deletedAtSource: deleted, shouldStop: { interruption() != nil }) }
        } catch {
            return VerifyReport(tables: [], notReplicatedTables: [], seconds: 0, error: "the data check gave no answer: \(error)")
        }
    }

    /// Waits (bounded) until the destination holds the source's rows; the last comparison either way.
    func waitForSync(_ limit: Duration) async -> VerifyReport {
        guard plan.managedReplica else {
            await judgeAsBinlogReaderIfItStreams()
            // Not read the binlog since the restore (on a new connection or on one that stayed open),
            // after the recovery step's wait: it will not catch up.
            return await checkData(wait: await externalPipelineNeverResumed() ? .zero : limit)
        }
        let world = self.world
        let deadline = now.advanced(by: limit)
        var last = await checkData(wait: .zero)
        var ioStoppedChecks = 0
        while last.verdict != .match, now < deadline, await !shouldStop() {
            // A replica whose SQL thread stopped on an error will not catch up: no use waiting.
            if let status = (try? await call({ world.replicaStatus() })) ?? nil {
                if status.sqlRunning == "No", status.lastSQLErrno ?? 0 != 0 { break }
                // Applied everything the source wrote and still different: it will stay so.
                if let applied = status.gtidPosition, !applied.isEmpty,
                   applied == (try? await call({ world.sourceGTIDPosition() })) ?? nil {
                    last = await checkData(wait: .zero)
                    break
                }
                // A stopped IO thread receives nothing more: give the SQL thread 2 s to apply what it has.
                if status.ioRunning == "No" { ioStoppedChecks += 1 }
                if ioStoppedChecks > 8 { break }
            }
            await pause(.milliseconds(250))
            last = await checkData(wait: .zero)
        }
        return last
    }

    /// A sync that snapshots with queries, then streams the binlog, is a binlog reader once its dump
    /// opens (Debezium's snapshot ends with SELECTs moments before its dump): from then on the run
    /// waits and judges as for a binlog reader, and the precondition says why.
    private func judgeAsBinlogReaderIfItStreams() async {
        guard syncMode == .queries else { return }
        let world = self.world, user = plan.etlUser, started = report.started
        guard let dump = await Blocking.run({ world.journal(from: started) }).first(where: { $0.kind == .binlogDump && $0.user == user })
        else { return }
        syncMode = .binlog
        dumpOpenedAfter = max(0, dump.at - started)
        noteTheDumpInThePrecondition()
        guard let before = inSyncAsQueriesOnly else { return }
        // The rows it kept were allowed for a query-based sync: this binlog reader was not in sync before the run.
        inSyncAsQueriesOnly = nil
        if !loadStarted, let index = report.preconditions.firstIndex(where: { $0.text == Self.inSyncText }) {
            report.preconditions[index].met = false
            report.preconditions[index].evidence = before + "; the sync then opened a binlog dump, and a binlog reader's destination "
                + "holding rows the source does not have is not in sync"
        } else {
            report.markInconclusive(.notInSyncForABinlogReader("before the run, \(before); allowed as rows a query-based sync keeps, "
                + "but the sync then opened a binlog dump, and for a binlog reader they are differences the run did not make"))
        }
    }

    /// The reader precondition's evidence, once it is recorded, says why the run judges a binlog reader.
    private func noteTheDumpInThePrecondition() {
        guard let after = dumpOpenedAfter, let index = report.preconditions.firstIndex(where: { $0.text == Self.readerText }) else { return }
        report.preconditions[index].evidence += String(format: "; then it opened a binlog dump %.2f s into the run: judged as a binlog reader", after)
        dumpOpenedAfter = nil
    }

    /// The run's fault windows (a long flapping case opens more than `/status` holds).
    private func runWindows() async -> [WindowReport] {
        await RunWindows.collect(after: firstWindowBefore, status: await agentStatus(), journalFrom: report.started - 1, world: world)
    }

    /// An external pipeline whose replication did not resume after the run's last fault ended.
    private func externalPipelineNeverResumed() async -> Bool {
        guard let last = await runWindows().last, last.ended != nil else { return false }
        return syncMode == .queries ? last.tablesReadAfter == nil : last.replicationResumedAfter == nil
    }

    /// "destination matches the source (N rows)", the differences, or why it could not compare.
    static func outcome(of data: VerifyReport) -> String {
        switch data.verdict {
        case .match: return "destination matches the source (\(data.sourceRows) rows)"
        case .error: return "could not compare: \(data.error ?? "")"
        case .differences:
            return "source \(data.sourceRows) rows, destination \(data.destinationRows): \(data.missing) missing, \(data.extra) extra, "
                + "\(data.changed) changed" + (data.duplicates > 0 ? ", \(data.duplicates) duplicated" : "")
        }
    }

    private func pipelineState() async -> PipelineState? {
        guard plan.managedReplica else { return nil }
        let world = self.world
        guard let status = (try? await call({ world.replicaStatus() })) ?? nil, status.exists else { return nil }
        var detail = "replica IO \(status.ioRunning ?? "?"), SQL \(status.sqlRunning ?? "?")"
        if let errno = status.lastIOErrno, errno != 0 { detail += ", IO error \(errno): \(status.lastIOError ?? "")" }
        if let errno = status.lastSQLErrno, errno != 0 { detail += ", SQL error \(errno): \(status.lastSQLError ?? "")" }
        return PipelineState(running: status.replicating, detail: detail)
    }

    /// What the ETL log says after the fault started, read as the tool's reader reads it: the
    /// distinct messages that match the pattern, oldest first (at most 20), and the line saying
    /// the tool stopped for good; nil without --etl-log.
    private func etlLogMessages() async -> (messages: [ObservedMessage], stopped: ObservedMessage?)? {
        guard let log = world.etlLog else { return nil }
        let offset = etlLogOffsetAtFault, pattern = plan.etlLogPattern, reader = plan.etlLogReader
        return await Blocking.run {
            guard let offset else { return log.size() == nil ? nil : ([], nil) }
            guard let lines = log.lines(after: offset) else { return nil }
            let reading = reader.read(lines, pattern: pattern)
            let source = "etl log \(log.path)"
            return (reading.messages.map { ObservedMessage(text: $0, source: source) },
                    reading.stopped.map { ObservedMessage(text: $0, source: source) })
        }
    }
}
