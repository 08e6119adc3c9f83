import ArgumentParser
import Foundation
import Infrastructure
import Runner
import Soak
import Verification
import Source
import Pipeline
import AgentAPI
import TestCases

struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Hours of seeded random faults against a pipeline, with checkpoints and a Jepsen-style verdict.",
        discussion: """
          toolkit soak --pipeline replica --duration 2h --seed 7
          toolkit soak --destination postgresql://etl@127.0.0.1:5432/etl --duration 8h --detach --report soak-run
          toolkit soak --status | toolkit soak --stop
          toolkit soak --duration 168h --faults reject,latency,kill-connections --dry-run --json > schedule.json
          toolkit soak --replay result.json --pipeline replica
        The nemesis draws the gap before each fault (--gap), its type (--faults, equally likely), its length \
        (--fault-length; reset and kill-connections are instants) and the parameters its type needs from \
        the seed: the same seed and options give the same schedule on every machine. Every \
        --checkpoint-every it pauses: no fault spans a checkpoint, and each fault ends at least the \
        shortest gap before the next checkpoint and before the end.
        While the faults run, the toolkit writes inserts, updates and deletes on users (each kept in the \
        history as ok, failed or indeterminate) and a heartbeat every second into _toolkit_heartbeat. At \
        each checkpoint and at the end it holds its writes, waits (--catch-up-within) for the destination \
        to match the source and compares every table. Verdict: valid (the final comparison matches), \
        invalid (it does not: the rows that differ are blamed on a fault), unknown (the soak's own tooling \
        failed, a fault it did not start, a comparison that could not be made).
        Exit codes: 0 valid, 1 invalid, 4 unknown, 3 blocked (a precondition, or another run holds the \
        source), 130 interrupted (Ctrl-C or --stop: the network is healed and the final comparison made), \
        2 bad input.
        Outputs in --report DIR (default ./toolkit-soaks/soak-TIMESTAMP), rewritten at every checkpoint: \
        soak.md, junit.xml, result.json, report.html, history.jsonl, events.jsonl.
        Lengths: 90 (seconds), 90s, 30m, 2h, 2d, 1h30m. Ranges: MIN..MAX, e.g. 5s..60s.
        """)

    @Option(help: "replica: the managed replica is the pipeline under test.") var pipeline: String?
    @Option(help: "The pipeline's destination (URL); its MySQL password in TOOLKIT_DEST_PASSWORD.") var destination: String?
    @Option(help: "How long the soak lasts: 90, 90s, 30m, 2h, 1h30m (1s to 30d).") var duration: String?
    @Option(help: "The schedule's seed (default: a random one, printed in the schedule).") var seed: UInt64?
    @Option(help: "Comma-separated faults to draw from: \(SoakFault.allCases.map(\.rawValue).joined(separator: ", ")) (default \(SoakFault.defaults.map(\.rawValue).joined(separator: ","))).")
    var faults: String?
    @Option(name: .customLong("fault-length"), help: "Bounds of a fault's length, MIN..MAX (default 5s..60s).") var faultLength: String?
    @Option(help: "Bounds of the healed gap before each fault, MIN..MAX (default 10s..120s).") var gap: String?
    @Option(name: .customLong("checkpoint-every"), help: "A checkpoint this often (default 10m).") var checkpointEvery: String?
    @Option(name: .customLong("catch-up-within"), help: "How long a checkpoint waits for the destination to match (default 2m; 1s to 1h).")
    var catchUpWithin: String?
    @Option(help: "Directory for the outputs.") var report: String?
    @Option(name: .customLong("etl-log"), help: "The ETL tool's log file: its lines date the detection of each fault.") var etlLog: String?
    @Option(name: .customLong("etl-tool"), help: "The ETL tool's name, for the report.") var etlTool: String?
    @Option(help: "A schedule JSON (the output of --dry-run --json, or a soak's result.json) to run again, instead of drawing one.") var replay: String?
    @Flag(name: .customLong("dry-run"), help: "Print the schedule and exit.") var dryRun = false
    @Flag(help: "Run the soak in the background (its log in the report directory's soak.log).") var detach = false
    @Flag(help: "Show the soak that is running.") var status = false
    @Flag(help: "End the running soak as Ctrl-C would: heal, compare, write the report marked INTERRUPTED.") var stop = false
    @Option(help: "State directory (env TOOLKIT_HOME).") var home: String?
    @OptionGroup var output: OutputFlags

    static let catchUpLimits: ClosedRange<Int> = 1...3_600

    func validate() throws {
        if status || stop {
            let others: [(String, Bool)] = [("--pipeline", pipeline != nil), ("--destination", destination != nil), ("--duration", duration != nil),
                                            ("--seed", seed != nil), ("--faults", faults != nil), ("--replay", replay != nil),
                                            ("--dry-run", dryRun), ("--detach", detach), ("--report", report != nil),
                                            (status ? "--stop" : "--status", status && stop)]
            if let flag = others.first(where: \.1)?.0 {
                throw ValidationError("\(status ? "--status" : "--stop") goes alone (with --home, --json), got \(flag)")
            }
            return
        }
        if let pipeline, pipeline != "replica" { throw ValidationError("--pipeline must be replica, got '\(pipeline)'") }
        if destination != nil && pipeline != nil {
            throw ValidationError("--pipeline replica and --destination go one at a time: the replica is its own destination")
        }
        if let destination {
            do { _ = try DestinationAddress(parsing: destination) } catch { throw ValidationError(error.description) }
        }
        if let report, let problem = OutputDirectory.problem(report) {
            throw ValidationError("--report must name a directory this account can write (or create), got '\(report)': \(problem)")
        }
        if let etlLog, let problem = ETLLog.problem(etlLog) {
            throw ValidationError("--etl-log must name a readable regular file, got '\(etlLog)': \(problem)")
        }
        if let catchUpWithin {
            do { _ = try SoakLength.parse(catchUpWithin, flag: "--catch-up-within", allowed: Self.catchUpLimits) } catch {
                throw ValidationError(error.message)
            }
        }
        if replay != nil {
            let drawn: [(String, Bool)] = [("--duration", duration != nil), ("--seed", seed != nil), ("--faults", faults != nil),
                                           ("--fault-length", faultLength != nil), ("--gap", gap != nil),
                                           ("--checkpoint-every", checkpointEvery != nil)]
            if let flag = drawn.first(where: \.1)?.0 {
                throw ValidationError("\(flag) does not go with --replay: the replayed schedule carries its own options")
            }
        } else {
            _ = try options(seed: seed ?? 0)
        }
        if !dryRun && pipeline == nil && destination == nil {
            throw ValidationError("soak needs the pipeline under test: --pipeline replica (the toolkit's own) or --destination URL (yours); --dry-run only prints the schedule")
        }
        if dryRun && detach { throw ValidationError("--detach runs a soak: it does not go with --dry-run") }
    }

    func run() async throws {
        let state = StateDirectory.resolve(flag: home)
        if status { return try showStatus(state: state) }
        if stop { return try stopRunning(state: state) }
        let schedule: SoakSchedule
        if let replay {
            schedule = try Self.read(replay)
        } else {
            // No seed given: one from the system's generator, kept in the schedule like a given one.
            schedule = SoakSchedule(try options(seed: seed ?? UInt64.random(in: 0...UInt64.max)))
        }
        if dryRun {
            if output.json {
                print(JSONOutput.line(schedule, pretty: true))
            } else {
                print(schedule.text)
            }
            return
        }
        let started = Date().timeIntervalSince1970
        if report == nil, let problem = OutputDirectory.problem("toolkit-soaks") {
            throw ToolkitError.usage("the report directory ./toolkit-soaks cannot be written: \(problem); name another with --report DIR")
        }
        let directory = report.map { URL(fileURLWithPath: $0) } ?? RunCommand.newDirectory("toolkit-soaks/soak-\(RunCommand.stamp(started))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if detach { return try startDetached(schedule: schedule, directory: directory, state: state) }
        let outcome = try await soak(schedule: schedule, directory: directory, state: state, started: started)
        throw ExitCode(outcome.exitCode)
    }

    // MARK: Running

    private func soak(schedule: SoakSchedule, directory: URL, state: StateDirectory, started: Double) async throws -> SoakReport {
        writeError(schedule.text)
        var base = SoakReport(toolkitVersion: Toolkit.configuration.version, started: started,
                              pipeline: pipeline ?? "external, destination \(DestinationAddress.shown(destination ?? ""))",
                              etlTool: etlTool ?? (pipeline == "replica" ? "MariaDB replica (toolkit pipeline)" : nil), schedule: schedule)
        Interrupt.install()
        var lock: RunLock?
        var lockProblem: RunLock.Failure?
        do { lock = try RunLock.acquire(state: state, command: "soak seed \(schedule.options.seed)", now: started) } catch { lockProblem = error }
        defer {
            lock?.release()
            try? FileManager.default.removeItem(at: Self.progressFile(state))
        }
        let writer = SoakWriter(directory: directory, state: state)
        let result: SoakReport
        if let lockProblem {
            base.verdict = .blocked
            base.reason = "\(lockProblem)" + (lockProblem.isBusy ? ": one run or soak at a time per source" : "")
            result = base
        } else {
            do {
                let (environment, etlUser) = try makeEnvironment(state: state, seed: schedule.options.seed, writer: writer, directory: directory)
                let catchUp = try catchUpWithin.map { try SoakLength.parse($0, flag: "--catch-up-within", allowed: Self.catchUpLimits) } ?? 120
                let plan = SoakPlan(schedule: schedule, etlUser: etlUser, managedReplica: pipeline == "replica", catchUpWithin: .seconds(catchUp),
                                    etlLogReader: .forTool(etlTool))
                result = await SoakRunner(environment, plan: plan, report: base).execute()
            } catch {
                base.verdict = .blocked
                base.reason = "\(error)"
                result = base
            }
        }
        if isatty(STDERR_FILENO) == 1 { writeErrorInline("\n") }
        let written = writer.write(result, history: writer.workload?.history ?? [])
        if output.json {
            print(JSONOutput.line(written, pretty: true))
        } else {
            print("soak: \(SoakOutputs.headline(written)) — \(written.reason)")
            print("Reports in \(directory.path): \(written.artifacts.joined(separator: ", "))")
        }
        return written
    }

    /// The live world of this machine's source, agent and pipeline, on the continuous clock.
    private func makeEnvironment(state: StateDirectory, seed: UInt64, writer: SoakWriter, directory: URL) throws
        -> (SoakEnvironment<ContinuousClock>, String) {
        let live = try LiveContext.make(state: state, home: home, managedReplica: pipeline == "replica", destination: destination, etlLog: etlLog)
        let target = live.target, world = live.world
        let terminal = isatty(STDERR_FILENO) == 1
        let progressFile = Self.progressFile(state)
        let reportPath = directory.path
        let workload = HistoryLoad(target: target, table: "users", seed: seed)
        writer.workload = workload
        let environment = SoakEnvironment(
            clock: ContinuousClock(), epoch: { Date().timeIntervalSince1970 }, world: world,
            workload: workload, heartbeat: HeartbeatWriter(target: target), sampler: HeartbeatSampler(world: world),
            reporter: { line in
                writeError((terminal ? "\r\u{1B}[K" : "") + "\(RunReport.clock(Date().timeIntervalSince1970)) \(line)")
            },
            progress: { progress in
                if terminal { writeErrorInline("\r\u{1B}[K" + progress.line) }
                let status = SoakStatus(pid: getpid(), report: reportPath, progress: progress)
                try? (JSONOutput.line(status) + "\n").write(to: progressFile, atomically: true, encoding: .utf8)
            },
            checkpointed: { report, history in _ = writer.write(report, history: history) },
            interruption: { Interrupt.signalName })
        return (environment, live.etlUser)
    }

    static func progressFile(_ state: StateDirectory) -> URL { state.runDirectory.appendingPathComponent("soak-progress.json") }

    // MARK: In the background

    /// This very command again, without --detach, in a session of its own; its log in the report directory.
    private func startDetached(schedule: SoakSchedule, directory: URL, state: StateDirectory) throws {
        let scheduleFile = directory.appendingPathComponent("schedule.json")
        try (JSONOutput.line(schedule, pretty: true) + "\n").write(to: scheduleFile, atomically: true, encoding: .utf8)
        var arguments = ["soak", "--replay", scheduleFile.path, "--report", directory.path, "--home", state.root.path]
        if let pipeline { arguments += ["--pipeline", pipeline] }
        if let destination { arguments += ["--destination", destination] }
        if let catchUpWithin { arguments += ["--catch-up-within", catchUpWithin] }
        if let etlLog { arguments += ["--etl-log", etlLog] }
        if let etlTool { arguments += ["--etl-tool", etlTool] }
        let log = directory.appendingPathComponent("soak.log")
        let pid = try ChildProcess.spawn(BackendChoice.selfExecutable(), arguments, log: log, detached: true)
        // A soak that cannot start (blocked, bad input) ends at once: say so here, not only in its log.
        for _ in 0..<30 {
            if !ChildProcess.isAlive(pid) {
                let status = ChildProcess.wait(pid)
                let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                writeError(text.split(separator: "\n").suffix(3).joined(separator: "\n"))
                throw ExitCode(status)
            }
            if RunLock.currentHolder(state: state)?.pid == pid { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        print("soak running in the background (pid \(pid)); its log: \(log.path)")
        print("  toolkit soak --status    where it stands")
        print("  toolkit soak --stop      end it: heal, compare, write the report")
        print("Reports in \(directory.path), rewritten at every checkpoint")
    }

    private func runningSoak(state: StateDirectory) -> RunLockHolder? {
        guard let holder = RunLock.currentHolder(state: state), holder.command.hasPrefix("soak") else { return nil }
        return holder
    }

    private func showStatus(state: StateDirectory) throws {
        guard let holder = runningSoak(state: state) else {
            if let other = RunLock.currentHolder(state: state) { throw ToolkitError("no soak is running; the source is held by \(other.description)") }
            throw ToolkitError("no soak is running")
        }
        let status = (try? Data(contentsOf: Self.progressFile(state))).flatMap { try? JSONDecoder().decode(SoakStatus.self, from: $0) }
        if output.json {
            print(JSONOutput.line(SoakStatus(pid: holder.pid, report: status?.report, progress: status?.progress), pretty: true))
        } else {
            print("\(holder.description)")
            if let status, let progress = status.progress { print(progress.line) }
            if let report = status?.report { print("Reports in \(report)") }
        }
    }

    private func stopRunning(state: StateDirectory) throws {
        guard let holder = runningSoak(state: state) else { throw ToolkitError("no soak is running") }
        let status = (try? Data(contentsOf: Self.progressFile(state))).flatMap { try? JSONDecoder().decode(SoakStatus.self, from: $0) }
        guard kill(holder.pid, SIGINT) == 0 else {
            throw ToolkitError("cannot signal the soak (pid \(holder.pid)): \(String(cString: strerror(errno)))")
        }
        writeError("asked the soak (pid \(holder.pid)) to stop: it heals the network, makes the final comparison and writes its report")
        // Bounded: the final comparison waits at most its catch-up limit (1 h at most).
        let deadline = Date().addingTimeInterval(3_900)
        while Date() < deadline, RunLock.currentHolder(state: state)?.pid == holder.pid, ChildProcess.isAlive(holder.pid) {
            Thread.sleep(forTimeInterval: 0.5)
        }
        if ChildProcess.isAlive(holder.pid), RunLock.currentHolder(state: state)?.pid == holder.pid {
            throw ToolkitError("the soak (pid \(holder.pid)) is still finishing after an hour")
        }
        print("soak stopped" + (status?.report.map { "; reports in \($0)" } ?? ""))
    }

    /// The options from the flags, checked; one line naming the flag when they are not right.
    private func options(seed: UInt64) throws -> SoakOptions {
        do {
            guard let duration else {
                throw SoakInputError(flag: "--duration", message: "--duration is required: how long the soak lasts, like 90, 90s, 30m, 2h or 1h30m")
            }
            let options = SoakOptions(
                durationSeconds: try SoakLength.parse(duration, flag: "--duration", allowed: SoakOptions.Limits.durationSeconds),
                seed: seed,
                faults: try faults.map(SoakFault.parseList) ?? SoakFault.defaults,
                faultLength: try faultLength.map {
                    try SoakLength.parseRange($0, flag: "--fault-length", allowed: SoakOptions.Limits.faultLengthSeconds)
                } ?? SoakOptions.defaultFaultLength,
                gap: try gap.map { try SoakLength.parseRange($0, flag: "--gap", allowed: SoakOptions.Limits.gapSeconds) }
                    ?? SoakOptions.defaultGap,
                checkpointEverySeconds: try checkpointEvery.map {
                    try SoakLength.parse($0, flag: "--checkpoint-every", allowed: SoakOptions.Limits.checkpointEverySeconds)
                } ?? SoakOptions.defaultCheckpointEvery)
            try options.validate()
            return options
        } catch let error as SoakInputError {
            throw ValidationError(error.message)
        }
    }

    /// A schedule file written by `--dry-run --json` (or the schedule a soak's `result.json`
    /// holds): its version this toolkit's, its guarantees kept.
    static func read(_ path: String) throws -> SoakSchedule {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ToolkitError.usage("--replay must name a readable schedule file (the output of soak --dry-run --json), got '\(path)'")
        }
        let decoder = JSONDecoder()
        if let result = try? decoder.decode(ResultFile.self, from: data), result.kind == "soak" {
            return try checked(result.schedule, path: path)
        }
        guard let version = (try? decoder.decode(Version.self, from: data))?.version else {
            throw ToolkitError.usage("--replay must name a schedule JSON (the output of soak --dry-run --json), got '\(path)': no version field")
        }
        guard version == SoakSchedule.currentVersion else {
            throw ToolkitError.usage("--replay reads schedules of version \(SoakSchedule.currentVersion), got version \(version) in '\(path)'")
        }
        let schedule: SoakSchedule
        do { schedule = try decoder.decode(SoakSchedule.self, from: data) } catch {
            throw ToolkitError.usage("--replay must name a schedule JSON (the output of soak --dry-run --json), got '\(path)': \(Self.reason(error))")
        }
        return try checked(schedule, path: path)
    }

    private static func checked(_ schedule: SoakSchedule, path: String) throws -> SoakSchedule {
        guard schedule.version == SoakSchedule.currentVersion else {
            throw ToolkitError.usage("--replay reads schedules of version \(SoakSchedule.currentVersion), got version \(schedule.version) in '\(path)'")
        }
        do { try schedule.options.validate() } catch {
            throw ToolkitError.usage("--replay schedule '\(path)' has options this toolkit refuses: \(error)")
        }
        if let problem = schedule.violations().first {
            throw ToolkitError.usage("--replay schedule '\(path)' breaks the schedule's guarantees: \(problem)")
        }
        return schedule
    }

    private struct Version: Decodable { var version: Int }
    private struct ResultFile: Decodable {
        var kind: String
        var schedule: SoakSchedule
    }

    private static func reason(_ error: Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _): "no field '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            "bad value at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        default: "not JSON"
        }
    }
}

extension SoakSchedule {
    /// One line per fault and checkpoint in order, then the totals per type.
    var text: String {
        let options = self.options
        var lines = [
            "soak schedule v\(version): seed \(options.seed), duration \(SoakLength.text(options.durationSeconds)), "
                + "faults \(options.faults.map(\.rawValue).joined(separator: ",")), fault length \(options.faultLength), "
                + "gap \(options.gap), checkpoint every \(SoakLength.text(options.checkpointEverySeconds))",
        ]
        var rows: [(at: Int, order: Int, line: String)] = checkpoints.map { ($0, 0, "\(SoakLength.clock($0))  checkpoint") }
        for window in faults {
            var line = "\(SoakLength.clock(window.offsetSeconds))  \(window.type.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) "
                + (window.lengthSeconds.map { SoakLength.text($0) } ?? "instant")
            var parameters: [String] = []
            if let latency = window.latencyMs { parameters.append("latency \(latency)ms") }
            if let jitter = window.jitterMs { parameters.append("jitter \(jitter)ms") }
            if let bytes = window.bytesPerSecond { parameters.append("bandwidth \(bytes) B/s") }
            if let interval = window.flapIntervalSeconds { parameters.append("every \(SoakLength.text(interval))") }
            if !parameters.isEmpty { line += " (\(parameters.joined(separator: ", ")))" }
            rows.append((window.offsetSeconds, 1, line))
        }
        lines += rows.sorted { ($0.at, $0.order) < ($1.at, $1.order) }.map { "  " + $0.line }
        lines.append("  \(SoakLength.clock(options.durationSeconds))  end")
        let totals = self.totals.map { total in
            "\(total.type.rawValue) \(total.count)" + (total.type.isInstant ? "" : " (\(SoakLength.text(total.seconds)))")
        }
        func counted(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
        lines.append("totals: \(counted(faults.count, "fault")), \(counted(checkpoints.count, "checkpoint")); "
            + totals.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
