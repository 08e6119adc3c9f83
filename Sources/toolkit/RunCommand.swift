import Agent
import AgentAPI
import ArgumentParser
import Foundation
import Infrastructure
import Measurements
import Pipeline
import Runner
import Source
import TestCases
import Verification

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a test case end to end and write its filled-in execution log, JUnit, JSON and HTML timeline.",
        discussion: """
          toolkit up && toolkit run TC-004 --pipeline replica --duration 10
        Checks the preconditions (agent running, network clear, an ETL client reading the binlog, \
        the destination in sync), runs the steps with the toolkit's own load writing, stops the load, \
        waits for the destination to catch up and compares it with the source, then decides every \
        checklist item: PASS, FAIL or NOT OBSERVED (BLOCKED when a precondition failed).
        One run holds a source at a time: a second one is BLOCKED, naming the holder.
        Exit codes: 0 PASS, 1 FAIL, 3 BLOCKED, 4 INCONCLUSIVE (a step's command failed, the agent restarted or \
        stopped, the source went down, a fault the run did not start, the final restore failed), 130 INTERRUPTED by a signal, 2 bad input \
        (the case and every number checked before anything starts: `toolkit cases check FILE`).
        Outputs in --report DIR (default ./toolkit-runs/ID-TIMESTAMP): ID.md, junit.xml, result.json,
        report.html, events.jsonl.
        """)

    @Argument(help: "A built-in case ID (see `toolkit cases`) or a case file.") var testCase: String
    @Option(help: "replica: the managed replica (`toolkit pipeline up`, started if needed) is the pipeline under test.") var pipeline: String?
    @Option(help: "The pipeline's destination, checked with `toolkit verify` (URL).") var destination: String?
    @Option(help: "Seconds each fault phase lasts (the case's `duration` parameter).") var duration: Int?
    @Option(name: .customLong("set"), help: "KEY=VALUE: override any other parameter the case declares, or recovery_within / catch_up_within / read_within (seconds; defaults 300, 120 and 300) (repeatable).") var settings: [String] = []
    @Option(help: "Directory for the outputs.") var report: String?
    @Option(name: .customLong("etl-tool"), help: "The ETL tool's name, for the log; one naming Debezium reads --etl-log as Java records (causes, the engine stopping).") var etlTool: String?
    @Option(help: "The tester's name, for the log.") var tester: String?
    @Option(name: .customLong("etl-log"), help: "The ETL tool's log file: its first matching line after the fault starts is the error message.") var etlLog: String?
    @Option(name: .customLong("etl-log-pattern"), help: "Regular expression (case-insensitive) for --etl-log lines.")
    var etlLogPattern = RunPlan.defaultETLLogPattern
    @Option(help: "Append the run's section to this Markdown case file, numbering runs.") var append: String?
    @Option(name: .customLong("observe"), help: "MEASURE=TEXT: what you saw, for a checklist measure (error_message=\"...\") (repeatable).")
    var observed: [String] = []
    @Option(name: .customLong("item"), help: "N=PASS|FAIL[:note]: your verdict on checklist item N (repeatable).")
    var itemAnswers: [String] = []
    @Flag(help: "Never prompt (CI).") var yes = false
    @Option(help: "State directory (env TOOLKIT_HOME).") var home: String?
    @OptionGroup var output: OutputFlags

    func validate() throws {
        if let pipeline, pipeline != "replica" { throw ValidationError("--pipeline must be replica, got '\(pipeline)'") }
        if pipeline == nil && destination == nil {
            throw ValidationError("run needs the pipeline under test: --pipeline replica (the toolkit's own) or --destination URL (yours)")
        }
        if destination != nil && pipeline != nil {
            throw ValidationError("--pipeline replica and --destination go one at a time: the replica is its own destination")
        }
        if let destination {
            do { _ = try DestinationAddress(parsing: destination) } catch { throw ValidationError(error.description) }
        }
        if let duration, !(1...86_400).contains(duration) {
            throw ValidationError("--duration must be seconds from 1 to 86400, got \(duration)")
        }
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, Double(parts[1]) != nil else {
                throw ValidationError("--set takes KEY=NUMBER, got '\(setting)'")
            }
        }
        if (try? NSRegularExpression(pattern: etlLogPattern)) == nil {
            throw ValidationError("--etl-log-pattern must be a regular expression, got '\(etlLogPattern)'")
        }
        if let etlLog, let problem = ETLLog.problem(etlLog) {
            throw ValidationError("--etl-log must name a readable regular file, got '\(etlLog)': \(problem)")
        }
        if let report, let problem = OutputDirectory.problem(report) {
            throw ValidationError("--report must name a directory this account can write (or create), got '\(report)': \(problem)")
        }
        if let append, !FileManager.default.isWritableFile(atPath: append) {
            throw ValidationError("--append must name a writable Markdown file, got '\(append)'")
        }
    }

    func run() async throws {
        // Every number is checked with the case before anything starts, naming where it came from.
        var overrides: [CaseOverride] = []
        if let duration { overrides.append(CaseOverride(name: "duration", value: Double(duration), origin: "--duration \(duration)")) }
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1)
            overrides.append(CaseOverride(name: String(parts[0]), value: Double(parts[1]) ?? .nan, origin: "--set \(setting)"))
        }
        let chosen = try CaseSource.load(testCase, overrides: overrides)
        // The default report directory (under the current one) is checked before anything runs, as --report is.
        if report == nil, let problem = OutputDirectory.problem("toolkit-runs/\(chosen.id)") {
            throw ToolkitError.usage("the report directory ./toolkit-runs cannot be written: \(problem); name another with --report DIR")
        }
        let state = StateDirectory.resolve(flag: home)
        let names = askOnce()
        let started = Date().timeIntervalSince1970
        let answers: TesterAnswers
        do {
            answers = try TesterAnswers.parse(observe: observed, items: itemAnswers, checklist: chosen.checklist, tester: names.tester, at: started)
        } catch {
            throw ToolkitError.usage(error.description)
        }
        var base = RunReport(caseID: chosen.id, title: chosen.title, started: started, finished: started,
                             tester: names.tester, etlTool: names.etlTool, toolkitVersion: Toolkit.configuration.version,
                             pipeline: pipeline ?? "external, destination \(DestinationAddress.shown(destination ?? ""))",
                             parameters: chosen.effectiveParameters, verdict: .fail)
        if let append, let text = try? String(contentsOfFile: append, encoding: .utf8) {
            base.run = CaseMarkdown.nextRunNumber(in: text)
        }
        let directory = report.map { URL(fileURLWithPath: $0) } ?? Self.newDirectory("toolkit-runs/\(chosen.id)-\(Self.stamp(started))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)

        Interrupt.install()
        // One run holds a source at a time, from before its preconditions to its last report.
        var lock: RunLock?
        var lockProblem: RunLock.Failure?
        do { lock = try RunLock.acquire(state: state, command: "run \(chosen.id)", now: started) } catch { lockProblem = error }
        defer { lock?.release() }
        let result: RunReport
        if case .busy = lockProblem {
            result = RunReport.blocked(chosen, reason: "\(lockProblem!): one run at a time per source", into: base)
        } else if let environment = try? makeEnvironment(state: state) {
            if let lockProblem {
                result = RunReport.blocked(chosen, reason: "\(lockProblem)", into: base)
            } else {
                let plan = RunPlan(testCase: chosen, etlUser: environment.etlUser, managedReplica: pipeline == "replica",
                                   etlLogPattern: etlLogPattern, etlLogReader: .forTool(names.etlTool))
                var judged = await CaseRunner(environment.run, plan: plan, report: base).execute()
                if !answers.isEmpty { judged.judge(chosen, adding: answers) }
                result = judged
            }
        } else {
            result = RunReport.blocked(chosen, reason: contextFailure(state: state), into: base)
        }
        let written = try writeOutputs(result, testCase: chosen, to: directory, state: state)
        if output.json {
            print(JSONOutput.line(written, pretty: true))
        } else {
            print(RunOutputFiles.summary(written, directory: directory))
        }
        throw ExitCode(written.verdict.exitCode)
    }

    /// Tester and ETL tool: flags, else asked once on a terminal, else left for a person to fill in.
    private func askOnce() -> (tester: String, etlTool: String) {
        var tester = self.tester, etlTool = self.etlTool ?? (pipeline == "replica" ? "MariaDB replica (toolkit pipeline)" : nil)
        if !yes && isatty(STDIN_FILENO) == 1 {
            if tester == nil { writeErrorInline("Tester name: "); tester = readLine().flatMap { $0.isEmpty ? nil : $0 } }
            if etlTool == nil { writeErrorInline("ETL tool: "); etlTool = readLine().flatMap { $0.isEmpty ? nil : $0 } }
        }
        return (tester ?? "[Name]", etlTool ?? "[Tool]")
    }

    /// The live world of this machine's source, agent and pipeline, on the continuous clock.
    private func makeEnvironment(state: StateDirectory) throws -> (run: RunEnvironment<ContinuousClock>, etlUser: String) {
        let live = try LiveContext.make(state: state, home: home, managedReplica: pipeline == "replica", destination: destination, etlLog: etlLog)
        let target = live.target, world = live.world, replica = live.replica
        let table = "users"
        let environment = RunEnvironment(
            clock: ContinuousClock(), epoch: { Date().timeIntervalSince1970 }, world: world,
            load: SteadyLoad(target: target, table: table), sampler: RunSampler(target: target, replica: replica, table: table),
            reporter: { step in writeError("\(RunReport.clock(step.at)) \(step.line)") },
            interruption: { Interrupt.signalName },
            // On a terminal, and not with --yes: the tester is asked what only they can see.
            prompter: !yes && isatty(STDIN_FILENO) == 1 ? TerminalPrompter(interrupted: { Interrupt.signalName != nil }) : nil)
        return (environment, live.etlUser)
    }

    private func contextFailure(state: StateDirectory) -> String {
        do {
            guard try SourceConfig.load(from: state.configFile) != nil else {
                return "no source in \(state.root.path): run `toolkit up` first"
            }
            _ = try AgentDiscovery.client(state: state)
            if pipeline == "replica" {
                let source = try SourceConfig.load(from: state.configFile)!
                _ = try ReplicaPipeline(home: state).up(source: source)
            }
            return "the run could not start"
        } catch {
            return "\(error)"
        }
    }

    /// Writes the five outputs (and the appended log); returns the report with its artifacts listed.
    private func writeOutputs(_ run: RunReport, testCase: TestCase, to directory: URL, state: StateDirectory) throws -> RunReport {
        var run = run
        run.artifacts = RunOutputFiles.names(testCase)
        let events = journalSlice(state: state, from: run.started - 1, to: run.finished + 1)
        try events.write(to: directory.appendingPathComponent("events.jsonl"), atomically: true, encoding: .utf8)
        try RunOutputFiles.write(run, testCase: testCase, to: directory)
        if let append {
            var appended = run
            appended.artifacts = run.artifacts.map { directory.appendingPathComponent($0).path }
            let text = (try? String(contentsOfFile: append, encoding: .utf8)) ?? ""
            try CaseMarkdown.appending(appended, to: text).write(toFile: append, atomically: true, encoding: .utf8)
        }
        return run
    }

    private func journalSlice(state: StateDirectory, from: Double, to: Double) -> String {
        JournalDirectory(state: state).events(from: from).filter { $0.at <= to }
            .map { JSONOutput.line($0) + "\n" }.joined()
    }

    /// `path`, or `path-2`, `path-3`... when it exists: two runs started in the same second
    /// never write into one directory.
    static func newDirectory(_ path: String) -> URL {
        var candidate = path
        var number = 1
        while FileManager.default.fileExists(atPath: candidate), number < 1000 {
            number += 1
            candidate = "\(path)-\(number)"
        }
        return URL(fileURLWithPath: candidate)
    }

    static func stamp(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}
