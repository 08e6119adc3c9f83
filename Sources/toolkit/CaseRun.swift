import Agent
import AgentAPI
import Faults
import Foundation
import Infrastructure
import MariaDB
import Measurements
import Pipeline
import Source
import Synchronization
import TestCases

/// What a run needs to reach: the agent, the source, the pipeline under test.
struct RunContext {
    let state: StateDirectory
    let agent: AgentClient
    let target: Target
    let source: SourceConfig
    /// The managed replica (`--pipeline replica`), or nil for an external pipeline.
    let replica: ReplicaPipeline?
    /// An external pipeline's destination (`--destination URL`), checked with `toolkit verify`.
    let destination: String?
    let testCase: TestCase
    let etlLog: String?
    let etlLogPattern: String
    /// Rows the run's own load writes and the data check compares.
    let table = "users"
}

/// Executes one case against the managed replica: preconditions, steps with the toolkit's own
/// load running, catch-up, data check, checklist. Every error and signal ends with the network
/// up (if the run took it down) and the load stopped; the report is always returned. The run
/// holds the source's `RunLock` (its caller took it): the journal then tells the run's own fault
/// commands from anyone else's.
final class CaseRun {
    let context: RunContext
    private(set) var report: RunReport
    private let load: SteadyLoad
    private let sampler: RunSampler
    private var firstWindowBefore = 0
    private var etlLogOffsetAtFault: UInt64?
    /// Set once the run asked the agent for a fault: only then is the final restore the run's.
    private var startedFault = false
    /// Since when the agent has not answered, and when it was last asked.
    private var agentSilentSince: Double?
    private var agentLastAsked = 0.0
    /// How long the agent may stay silent before the run stops waiting for it.
    static let agentSilenceLimit = 5.0

    init(_ context: RunContext, report: RunReport) {
        self.context = context
        self.report = report
        load = SteadyLoad(target: context.target, table: context.table)
        sampler = RunSampler(context: context)
    }

    struct Interrupted: Error {}
    /// The agent stopped answering: nothing the run waits for can come.
    struct AgentLost: Error { let since: Double; let detail: String }

    func execute() -> RunReport {
        performSteps()
        finish()
        return report
    }

    private func performSteps() {
        do {
            let preconditions = try checkPreconditions()
            report.preconditions = preconditions
            if let failed = preconditions.first(where: { !$0.met }) {
                report = RunReport.blocked(context.testCase, reason: "precondition not met: \(failed.text) — \(failed.evidence)", into: report)
                return
            }
            record("Checked preconditions", preconditions.map { "\($0.text): \($0.evidence)" }.joined(separator: "; "))
            firstWindowBefore = agentStatus()?.windows.map(\.window).max() ?? 0
            sampler.start()
            load.start()
            record("Started the toolkit's load", "inserts, updates and deletes on \(context.table), about 10 statements a second, straight to the server")
            for (index, step) in context.testCase.steps.enumerated() {
                try checkInterrupt()
                try perform(step, number: index + 1)
            }
            try checkInterrupt()
            let summary = load.stop()
            record("Stopped the load", "\(summary.inserted) inserted, \(summary.updated) updated, \(summary.deleted) deleted")
            let data = waitForSync(seconds: 60)
            record("Waited for the destination to catch up, then checked it", dataOutcome(data))
            report.observations.data = data
            report.observations.pipeline = pipelineState()
        } catch is Interrupted {
            report.verdict = .interrupted
            report.reason = "interrupted by \(Interrupt.signalName ?? "a signal")"
        } catch let lost as AgentLost {
            report.markInconclusive(.agentDown(since: lost.since, detail: lost.detail))
        } catch {
            report.markInconclusive(.internalError("\("\(error)".split(separator: "\n").first ?? "")"))
        }
    }

    /// Always: the network up if the run took it down, load stopped, measurements collected,
    /// checklist decided. A fault the run did not start (a blocked run's) is not the run's to end.
    private func finish() {
        // What went on around the run that the case did not ask for, as the journal shows it
        // (readable without the agent).
        let journal = JournalDirectory(state: context.state)
        let tooling = InconclusiveCause.tooling(in: journal.events(from: report.started))
        let sourceStopped = tooling.contains { $0.kind == .sourceDown }
        if startedFault {
            do {
                let after = try context.agent.restoreAll()
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
        let summary = load.stop()
        report.load = LoadSummary(inserted: summary.inserted, updated: summary.updated, deleted: summary.deleted, table: context.table)
        sampler.stop()
        report.samples = sampler.samples
        report.observations.windows = runWindows()
        let logged = etlLogMessages()
        let messages = logged ?? sampler.errors
        if let logged, let path = context.etlLog {
            // Where the wire only bounds when the client gave up, its own log dates it.
            report.observations.windows = report.observations.windows.map {
                $0.datingDetection(byLog: logged.map(\.text), source: "etl log \(path)", timeZone: .current)
            }
        }
        report.observations.message = messages.first
        report.observations.laterMessages = Array(messages.dropFirst())
        if report.observations.pipeline == nil, report.verdict != .blocked { report.observations.pipeline = pipelineState() }
        report.finished = Date().timeIntervalSince1970
        if report.verdict == .interrupted, !report.inconclusive.contains(where: { $0.kind == .restore }) {
            report.reason = (report.reason ?? "interrupted") + (startedFault ? "; the network was restored" : "") + " and the load stopped"
        }
        if report.verdict != .blocked {
            report.items = Checklist.evaluate(context.testCase.checklist, report.observations)
        }
        report.settle(checklist: Checklist.runVerdict(report.items))
    }

    /// Throws when a signal came, or the agent has stopped answering.
    private func checkInterrupt() throws {
        if Interrupt.requested { throw Interrupted() }
        if let since = agentSilentSince, Date().timeIntervalSince1970 - since >= Self.agentSilenceLimit {
            throw AgentLost(since: since, detail: "no answer for \(Int(Self.agentSilenceLimit)) s; the run stopped waiting")
        }
    }

    /// The agent's status, noting when it stops answering.
    private func agentStatus() -> AgentStatus? {
        let now = Date().timeIntervalSince1970
        agentLastAsked = now
        if let status = try? context.agent.status() {
            agentSilentSince = nil
            return status
        }
        agentSilentSince = agentSilentSince ?? now
        return nil
    }

    /// A wait ends early on a signal or when the agent has gone (asked at most once a second).
    private var shouldStop: Bool {
        if Interrupt.requested { return true }
        if Date().timeIntervalSince1970 - agentLastAsked >= 1 { _ = agentStatus() }
        return (try? checkInterrupt()) == nil
    }

    private func record(_ text: String, _ outcome: String) {
        let step = StepRecord(at: Date().timeIntervalSince1970, text: text, outcome: outcome)
        report.steps.append(step)
        writeError("\(RunClock.now()) \(step.line)")
    }

    // MARK: Preconditions

    private func checkPreconditions() throws -> [PreconditionResult] {
        var results: [PreconditionResult] = []
        guard let status = agentStatus() else {
            return [PreconditionResult(text: "Agent running", met: false, evidence: "the agent's control API does not answer")]
        }
        results.append(PreconditionResult(text: "Agent running", met: true, evidence: "pid \(status.pid), gateway \(status.listen)"))
        results.append(PreconditionResult(text: "Network clear", met: status.faults.isEmpty,
                                          evidence: status.faults.isEmpty ? "no fault active"
                                              : "active: " + status.faults.map(\.fault.description).joined(separator: ", ")))
        // A poller reads every few seconds, and a replica just started is still connecting: wait up to 10 s.
        var reader = readerPrecondition()
        let deadline = Date().addingTimeInterval(10)
        while !reader.met, Date() < deadline, !shouldStop {
            Interrupt.sleep(seconds: 0.25)
            reader = readerPrecondition()
        }
        results.append(reader)
        guard results.allSatisfy(\.met) else { return results }
        let data = waitForSync(seconds: 30)
        results.append(PreconditionResult(text: "Destination in sync", met: data.verdict == .match, evidence: dataOutcome(data)))
        return results
    }

    /// An ETL client reading the binlog: a binlog dump by the ETL user open now or started
    /// within the last 10 s (pollers count too), and how far behind the head it is.
    private func readerPrecondition() -> PreconditionResult {
        let text = "ETL client reading the binlog"
        var dumps = 0
        if let connection = try? context.target.connect() {
            defer { connection.close() }
            dumps = firstInt(try? connection.query(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ? AND COMMAND LIKE 'Binlog Dump%'",
                [.text(context.source.etlUser)])) ?? 0
        }
        let recent = recentDumpInJournal(seconds: 10)
        guard dumps > 0 || recent else {
            return PreconditionResult(text: text, met: false, evidence: "no binlog dump by \(context.source.etlUser) open now or in the last 10 s")
        }
        let status = try? context.replica?.status()
        let behind = status?.secondsBehind.map { "\($0) s behind the head" } ?? "lag unknown"
        return PreconditionResult(text: text, met: true,
                                  evidence: "\(dumps) binlog dump(s) by \(context.source.etlUser) open\(recent ? ", one started in the last 10 s" : ""), \(behind)")
    }

    private func recentDumpInJournal(seconds: Double) -> Bool {
        let since = Date().timeIntervalSince1970 - seconds
        return JournalDirectory(state: context.state).events(from: since).contains {
            $0.kind == .binlogDump && ($0.user == nil || $0.user == context.source.etlUser)
        }
    }

    // MARK: Steps

    /// Performs one step. The case was checked before the run (`CaseCheck`): every number is a
    /// whole number in range, so the fallbacks here are never reached.
    private func perform(_ step: CaseStep, number: Int) throws {
        let testCase = context.testCase
        if let fault = step.fault {
            let seconds = fault.seconds.flatMap(testCase.whole) ?? 10
            let type = FaultType(rawValue: fault.type) ?? .reject
            let command: FaultCommand
            if type == .latency {
                let latency = fault.latency.flatMap(testCase.whole) ?? 2000
                command = FaultCommand(action: .slow, spec: .latency(ms: latency, jitterMs: nil, scope: .all), durationSeconds: seconds)
            } else if type == .reset {
                command = FaultCommand(action: .down, spec: FaultSpec(type: .reset))
            } else {
                let spec = FaultSpec(type: type, crash: fault.crash ?? false)
                if let interval = fault.interval.flatMap(testCase.whole) {
                    command = FaultCommand(action: .flap, spec: spec, durationSeconds: seconds, intervalSeconds: interval)
                } else {
                    command = FaultCommand(action: .down, spec: spec, durationSeconds: seconds)
                }
            }
            etlLogOffsetAtFault = etlLogOffsetAtFault ?? etlLogSize()
            sampler.faultStarted()
            startedFault = true
            _ = try context.agent.apply(command)
            let lasting = command.durationSeconds.map { " for \($0) s" } ?? " (one-shot)"
            record(step.text, "\(command.action.rawValue) \(fault.type)\(fault.crash == true ? " (crash)" : "")\(lasting)"
                + (command.intervalSeconds.map { ", toggling every \($0) s" } ?? ""))
            // Latency phases follow each other: wait out this one before the next step.
            if fault.type == "latency" { try waitForFaultsToEnd(extra: 15) }
        } else if step.restore == true {
            try waitForFaultsToEnd(extra: 30)
            // Only what is still active needs an `up`; a fault that ended by itself is already cleaned up.
            var outcome = "the fault ended; network up"
            guard let status = agentStatus() else {
                throw AgentLost(since: agentSilentSince ?? Date().timeIntervalSince1970, detail: "it did not answer when the run came to restore the network")
            }
            if !status.faults.isEmpty {
                do {
                    _ = try context.agent.restoreAll()
                    outcome = "network up (toolkit network --up)"
                } catch {
                    let still = agentStatus()?.faults ?? []
                    guard still.isEmpty else { throw error }
                    outcome = "network up; the agent reported: \(error)"
                }
            }
            record(step.text, outcome)
        } else if let arguments = step.toolkit {
            let expanded = testCase.expanded(arguments)
            sampler.faultStarted()
            startedFault = true // a step's command may change the network (network --down)
            etlLogOffsetAtFault = etlLogOffsetAtFault ?? etlLogSize()
            let outcome = runToolkit(expanded)
            record(step.text, outcome.text)
            // The scenario did not happen as the case says: whatever the pipeline did, it was not tested.
            if let failure = outcome.failure {
                report.markInconclusive(.step(number: number, command: "toolkit " + expanded.joined(separator: " "), detail: failure))
            }
        } else if step.wait == .recovery {
            record(step.text, waitForRecovery(seconds: 60))
        } else if step.wait == .sync {
            // Under a steady load a pipeline is always a little behind: hold the load while comparing.
            load.pause()
            defer { load.resume() }
            record(step.text, dataOutcome(waitForSync(seconds: 30)) + "; the toolkit's load held while comparing")
        } else if step.observe != nil {
            record(step.text, "measured by the agent (see the observations)")
        } else {
            record(step.text, "not performed by the toolkit: a person must do it")
        }
    }

    private func waitForFaultsToEnd(extra: Double) throws {
        let longest = context.testCase.parameters["duration"] ?? 60
        let deadline = Date().addingTimeInterval(longest + extra)
        while Date() < deadline {
            try checkInterrupt()
            if let status = agentStatus(), status.faults.isEmpty { return }
            Interrupt.sleep(seconds: 0.2)
        }
    }

    private func waitForRecovery(seconds: Double) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        guard let replica = context.replica else {
            // An external pipeline: recovered when the agent saw it replicate again after the last window.
            while Date() < deadline, !shouldStop {
                if let window = agentStatus()?.windows.last(where: { $0.window > firstWindowBefore }),
                   let resumed = window.replicationResumedAfter {
                    return String(format: "replication resumed %.2f s after the restore", resumed)
                }
                Interrupt.sleep(seconds: 0.2)
            }
            return "no replication resumed within \(Int(seconds)) s after the restore"
        }
        var last: ReplicaPipeline.Status?
        while Date() < deadline, !shouldStop {
            last = try? replica.status()
            if let last, last.replicating, last.lastIOErrno ?? 0 == 0 {
                return "replica replicating again (IO Yes, SQL Yes)"
            }
            // A stopped thread does not come back by itself: no use waiting.
            if let last, last.ioRunning == "No" || last.sqlRunning == "No" { break }
            Interrupt.sleep(seconds: 0.2)
        }
        return "not recovered: IO \(last?.ioRunning ?? "?"), SQL \(last?.sqlRunning ?? "?")"
            + (last?.lastIOError.map { ", \($0)" } ?? "") + (last?.lastSQLError.map { ", \($0)" } ?? "")
    }

    /// What a step's command reported, and how it failed (exit status and its last error line), if it did.
    private func runToolkit(_ arguments: [String]) -> (text: String, failure: String?) {
        let command = "toolkit " + arguments.joined(separator: " ")
        // Bounded: a step that hangs must not hang the run (the longest, `replicate --scenario lag`, runs for its --duration).
        let duration = min(max(context.testCase.whole("${duration}") ?? 0, 0), 86_400)
        let limit = Duration.seconds(600 + duration)
        let result: ChildProcess.Captured
        do { result = try SelfCommand.run(arguments, home: context.state, timeout: limit) } catch {
            return ("could not start \(command): \(error)", "could not start: \(error)")
        }
        if result.status == 0 { return ("\(command): " + Self.summary(of: result.stdout, command: arguments.joined(separator: " ")), nil) }
        if result.status == 128 + SIGKILL {
            return ("\(command): stopped after \(limit) without an answer", "stopped after \(limit) without an answer")
        }
        let last = result.stderr.split(separator: "\n").last.map { ": \($0)" } ?? ""
        return ("\(command): exit \(result.status)\(last)", "exit \(result.status)\(last)")
    }

    /// What a toolkit command reported, on one line: its findings (purged, killed, kept...) without
    /// the title that repeats the command, the statements it ran or the before/after lines.
    static func summary(of report: String, command: String) -> String {
        let lines = report.split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { line in !line.isEmpty && !command.hasPrefix(line) && !["ran:", "before:", "after:"].contains { line.hasPrefix($0) } }
        return lines.isEmpty ? "done" : lines.joined(separator: "; ")
    }

    // MARK: Measurements

    /// Waits (bounded) until the replica holds the source's rows; the last comparison either way.
    func waitForSync(seconds: Double) -> DataCheck {
        if let destination = context.destination {
            // Not read the binlog since the restore, after the recovery step's wait: it will not catch up.
            let wait = externalPipelineNeverResumed ? 0 : seconds
            return VerifyCommandCheck.run(destination: destination, state: context.state, wait: wait)
        }
        let deadline = Date().addingTimeInterval(seconds)
        var last = compare()
        var ioStoppedChecks = 0
        while last.verdict != .match, Date() < deadline, !shouldStop {
            // A replica whose SQL thread stopped on an error will not catch up: no use waiting.
            if let status = try? context.replica?.status() {
                if status.sqlRunning == "No", status.lastSQLErrno ?? 0 != 0 { break }
                // Applied everything the source wrote and still different: it will stay so.
                if let applied = status.gtidPosition, !applied.isEmpty, applied == sourceGTIDPosition() { last = compare(); break }
                // A stopped IO thread receives nothing more: give the SQL thread 2 s to apply what it has.
                if status.ioRunning == "No" { ioStoppedChecks += 1 }
                if ioStoppedChecks > 8 { break }
            }
            Interrupt.sleep(seconds: 0.25)
            last = compare()
        }
        return last
    }

    /// The run's fault windows, each by its id: `/status` holds only the last 20, and a long
    /// flapping case opens more than that. Without the agent, as its journal shows them.
    private func runWindows() -> [WindowReport] {
        guard let status = agentStatus() else {
            // The agent's final summary where it wrote one, else measured here from the journal's events.
            let journal = JournalDirectory(state: context.state)
            return JournalTimeline(journal.events(from: report.started - 1)).reports()
                .filter { $0.window > firstWindowBefore }
                .map { journal.summary(window: $0.window) ?? $0 }
        }
        let newest = status.windows.map(\.window).max() ?? 0
        guard newest > firstWindowBefore else { return [] }
        let recent = Dictionary(status.windows.map { ($0.window, $0) }, uniquingKeysWith: { $1 })
        return (firstWindowBefore + 1...newest).compactMap { recent[$0] ?? (try? context.agent.window($0)) }
    }

    /// An external pipeline whose replication did not resume after the run's last fault ended.
    private var externalPipelineNeverResumed: Bool {
        guard let last = runWindows().last, last.ended != nil else { return false }
        return last.replicationResumedAfter == nil
    }

    private func sourceGTIDPosition() -> String? {
        guard let connection = try? context.target.connect() else { return nil }
        defer { connection.close() }
        return (try? connection.query("SELECT @@GLOBAL.gtid_binlog_pos"))?.rows.first?.first ?? nil
    }

    /// Every table of the source against the destination, by `toolkit verify`: an external
    /// pipeline's `--destination`, or the managed replica as a MySQL destination.
    func compare() -> DataCheck {
        if let destination = context.destination { return VerifyCommandCheck.run(destination: destination, state: context.state, wait: 0) }
        guard let port = context.replica?.settings?.port else {
            return DataCheck(verdict: .error, sourceRows: 0, destinationRows: 0, message: "no destination")
        }
        return VerifyCommandCheck.run(destination: "mysql://\(ReplicaPipeline.checkUser)@127.0.0.1:\(port)/\(context.source.database)",
                                      password: context.source.adminPassword, state: context.state, wait: 0)
    }

    private func dataOutcome(_ data: DataCheck) -> String {
        switch data.verdict {
        case .match: return "destination matches the source (\(data.sourceRows) rows)"
        case .error: return "could not compare: \(data.message ?? "")"
        case .differences:
            return "source \(data.sourceRows) rows, destination \(data.destinationRows): \(data.missing.count) missing, \(data.extra.count) extra, \(data.changed.count) changed"
        }
    }

    private func pipelineState() -> PipelineState? {
        guard let status = try? context.replica?.status(), status.exists else { return nil }
        var detail = "replica IO \(status.ioRunning ?? "?"), SQL \(status.sqlRunning ?? "?")"
        if let errno = status.lastIOErrno, errno != 0 { detail += ", IO error \(errno): \(status.lastIOError ?? "")" }
        if let errno = status.lastSQLErrno, errno != 0 { detail += ", SQL error \(errno): \(status.lastSQLError ?? "")" }
        return PipelineState(running: status.replicating, detail: detail)
    }

    private func etlLogSize() -> UInt64? {
        guard let path = context.etlLog else { return nil }
        return ETLLog(path: path).size() ?? 0
    }

    /// The distinct lines of the ETL log written after the fault started that match the
    /// pattern, oldest first (at most 20); nil without --etl-log.
    private func etlLogMessages() -> [ObservedMessage]? {
        guard let path = context.etlLog else { return nil }
        let log = ETLLog(path: path)
        guard let offset = etlLogOffsetAtFault else { return log.size() == nil ? nil : [] }
        guard let lines = log.matchingLines(after: offset, pattern: context.etlLogPattern) else { return nil }
        return lines.map { ObservedMessage(text: $0, source: "etl log \(path)") }
    }
}

/// A destination checked by `toolkit verify --destination URL --json`
/// (`{"verdict": "match"|"differences"|"error", "tables": [...]}`).
enum VerifyCommandCheck {
    /// `password`: a MySQL destination's, given in `TOOLKIT_DEST_PASSWORD` (never argv).
    static func run(destination: String, password: String? = nil, state: StateDirectory, wait: Double) -> DataCheck {
        let result: ChildProcess.Captured
        do {
            result = try SelfCommand.run(["verify", "--destination", destination, "--wait", String(Int(wait)), "--json"], home: state,
                                         environment: password.map { ["TOOLKIT_DEST_PASSWORD": $0] } ?? [:],
                                         timeout: .seconds(Int(wait) + 300))
        } catch {
            return failure("could not start toolkit verify: \(error)")
        }
        return DataCheck(verifyJSON: Data(result.stdout.utf8))
            ?? failure("toolkit verify exited \(result.status): \(result.stderr.split(separator: "\n").first ?? "")")
    }

    static func failure(_ message: String) -> DataCheck {
        DataCheck(verdict: .error, sourceRows: 0, destinationRows: 0, message: message)
    }
}

/// This very binary run as a child with the run's state directory: a step's command, or `verify`.
/// Bounded in time, both outputs read as they come, always reaped.
enum SelfCommand {
    static func run(_ arguments: [String], home: StateDirectory, environment extra: [String: String] = [:],
                    timeout: Duration) throws -> ChildProcess.Captured {
        var environment = ProcessInfo.processInfo.environment
        environment["TOOLKIT_HOME"] = home.root.path
        for (name, value) in extra { environment[name] = value }
        return try ChildProcess.capture(BackendChoice.selfExecutable(), arguments, environment: environment, timeout: timeout)
    }
}

/// The first column of the first row, as a number.
func firstInt(_ result: ResultSet?) -> Int? {
    guard let row = result?.rows.first, let value = row.first, let text = value else { return nil }
    return Int(text)
}

enum RunClock {
    static func now() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date())
    }
}

/// The toolkit's own writes during a run: an insert every 100 ms, an update every 5th and a
/// delete every 10th tick, on its own connection straight to the server (never the gateway).
final class SteadyLoad: @unchecked Sendable {
    struct Counts: Sendable { var inserted = 0, updated = 0, deleted = 0 }
    private let target: Target
    private let table: String
    private let counts = Mutex(Counts())
    private let stopping = Atomic<Bool>(false)
    private let paused = Atomic<Bool>(false)
    /// Held while a tick writes, so that `pause()` returns with no write in flight.
    private let writing = Mutex(())
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    init(target: Target, table: String) {
        self.target = target
        self.table = table
    }

    func start() {
        let thread = Thread { [self] in
            defer { done.signal() }
            var connection: MariaDBConnection?
            var tick = 0
            let run = UUID().uuidString.prefix(8)
            while !stopping.load(ordering: .relaxed) {
                if paused.load(ordering: .relaxed) {
                    Thread.sleep(forTimeInterval: 0.05)
                    continue
                }
                tick += 1
                writing.withLock { _ in
                    do {
                        if connection == nil { connection = try target.connect() }
                        let database = target.database
                        _ = try connection!.execute("INSERT INTO \(database).\(table) (name, email) VALUES (?, ?)",
                                                    [.text("run \(run) row \(tick)"), .text("run-\(run)-\(tick)@toolkit.test")])
                        counts.withLock { $0.inserted += 1 }
                        if tick % 5 == 0 {
                            let changed = try connection!.execute(
                                "UPDATE \(database).\(table) SET status = 'inactive', name = CONCAT(name, ' updated') WHERE email LIKE ? AND status = 'active' ORDER BY id DESC LIMIT 1",
                                [.text("run-\(run)-%")])
                            counts.withLock { $0.updated += Int(changed) }
                        }
                        if tick % 10 == 0 {
                            let removed = try connection!.execute(
                                "DELETE FROM \(database).\(table) WHERE email LIKE ? AND status = 'inactive' ORDER BY id LIMIT 1",
                                [.text("run-\(run)-%")])
                            counts.withLock { $0.deleted += Int(removed) }
                        }
                    } catch {
                        connection?.close()
                        connection = nil
                    }
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
            connection?.close()
        }
        self.thread = thread
        thread.start()
    }

    /// Holds the writes (waits for the one in flight), so that a destination that keeps up can be
    /// seen equal to the source; `resume()` goes on.
    func pause() {
        paused.store(true, ordering: .relaxed)
        writing.withLock { _ in }
    }

    func resume() { paused.store(false, ordering: .relaxed) }

    /// Stops the writes (waits for the one in flight); idempotent.
    @discardableResult
    func stop() -> Counts {
        if thread != nil, !stopping.exchange(true, ordering: .relaxed) {
            done.wait()
        }
        return counts.withLock { $0 }
    }
}

/// Samples rows at the source and the destination twice a second, and keeps the replica's
/// first `Last_IO_Error` after a fault started: the message the ETL tool showed.
final class RunSampler: @unchecked Sendable {
    private let context: RunContext
    private let state = Mutex<(samples: [Sample], errors: [ObservedMessage], faultStarted: Bool)>(([], [], false))
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private var started = false

    init(context: RunContext) { self.context = context }

    var samples: [Sample] { state.withLock { $0.samples } }
    /// The replica's distinct IO and SQL errors after the first fault started, oldest first.
    var errors: [ObservedMessage] { state.withLock { $0.errors } }

    func faultStarted() { state.withLock { $0.faultStarted = true } }

    func start() {
        started = true
        let thread = Thread { [self] in
            defer { done.signal() }
            var sourceConnection: MariaDBConnection?
            var tick = 0
            while !stopping.load(ordering: .relaxed) {
                tick += 1
                if state.withLock({ $0.faultStarted && $0.errors.count < 20 }),
                   let values = try? context.replica?.replicationStatus() {
                    for thread in ["IO", "SQL"] {
                        guard let error = values["Last_\(thread)_Error"], !error.isEmpty else { continue }
                        let message = ObservedMessage(text: error, source: "replica Last_\(thread)_Error (errno \(values["Last_\(thread)_Errno"] ?? "?"))")
                        state.withLock { if !$0.errors.contains(message) { $0.errors.append(message) } }
                    }
                }
                if tick % 5 == 1 {
                    if sourceConnection == nil { sourceConnection = try? context.target.connect() }
                    let query = "SELECT COUNT(*) FROM \(context.source.database).\(context.table)"
                    let sourceRows = firstInt(try? sourceConnection?.query(query))
                    if sourceRows == nil { sourceConnection?.close(); sourceConnection = nil }
                    var destinationRows: Int?
                    if let replica = try? context.replica?.connect() {
                        destinationRows = firstInt(try? replica.query(query))
                        replica.close()
                    }
                    let sample = Sample(at: Date().timeIntervalSince1970, sourceRows: sourceRows, destinationRows: destinationRows)
                    state.withLock { $0.samples.append(sample) }
                }
                Thread.sleep(forTimeInterval: 0.1)
            }
            sourceConnection?.close()
        }
        thread.start()
    }

    func stop() {
        if started, !stopping.exchange(true, ordering: .relaxed) { done.wait() }
    }
}
