import ArgumentParser
import Foundation
import Infrastructure
import Runner
import Soak
import Verification

struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Plan a long soak: a seeded schedule of faults and checkpoints (only --dry-run in this version).",
        discussion: """
          toolkit soak --duration 2h --seed 7 --dry-run
          toolkit soak --duration 168h --faults reject,latency,kill-connections --dry-run --json > schedule.json
          toolkit soak --replay schedule.json --dry-run
        The nemesis draws the gap before each fault (--gap), its type (--faults, equally likely), its length \
        (--fault-length; reset and kill-connections are instants) and the parameters its type needs from \
        the seed: the same seed and options give the same schedule on every machine. Every \
        --checkpoint-every it pauses: no fault spans a checkpoint, and each fault ends at least the \
        shortest gap before the next checkpoint and before the end.
        Lengths: 90 (seconds), 90s, 30m, 2h, 2d, 1h30m. Ranges: MIN..MAX, e.g. 5s..60s.
        Running the schedule is not in this version: without --dry-run the command exits 2.
        """)

    @Option(help: "replica: the managed replica is the pipeline under test.") var pipeline: String?
    @Option(help: "The pipeline's destination (URL).") var destination: String?
    @Option(help: "How long the soak lasts: 90, 90s, 30m, 2h, 1h30m (1s to 30d).") var duration: String?
    @Option(help: "The schedule's seed (default: a random one, printed in the schedule).") var seed: UInt64?
    @Option(help: "Comma-separated faults to draw from: \(SoakFault.allCases.map(\.rawValue).joined(separator: ", ")) (default \(SoakFault.defaults.map(\.rawValue).joined(separator: ","))).")
    var faults: String?
    @Option(name: .customLong("fault-length"), help: "Bounds of a fault's length, MIN..MAX (default 5s..60s).") var faultLength: String?
    @Option(help: "Bounds of the healed gap before each fault, MIN..MAX (default 10s..120s).") var gap: String?
    @Option(name: .customLong("checkpoint-every"), help: "A checkpoint this often (default 10m).") var checkpointEvery: String?
    @Option(help: "Directory for the outputs (for the run to come).") var report: String?
    @Option(name: .customLong("etl-log"), help: "The ETL tool's log file (for the run to come).") var etlLog: String?
    @Option(help: "A schedule JSON (the output of --dry-run --json) to print again, instead of drawing one.") var replay: String?
    @Flag(name: .customLong("dry-run"), help: "Print the schedule and exit.") var dryRun = false
    @OptionGroup var output: OutputFlags

    func validate() throws {
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
        if !dryRun {
            throw ValidationError("soak without --dry-run is not available in this version yet: add --dry-run to print the schedule")
        }
    }

    func run() throws {
        let schedule: SoakSchedule
        if let replay {
            schedule = try Self.read(replay)
        } else {
            // No seed given: one from the system's generator, kept in the schedule like a given one.
            schedule = SoakSchedule(try options(seed: seed ?? UInt64.random(in: 0...UInt64.max)))
        }
        if output.json {
            print(JSONOutput.line(schedule, pretty: true))
        } else {
            print(schedule.text)
        }
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

    /// A schedule file written by `--dry-run --json`: its version this toolkit's, its guarantees kept.
    static func read(_ path: String) throws -> SoakSchedule {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ToolkitError.usage("--replay must name a readable schedule file (the output of soak --dry-run --json), got '\(path)'")
        }
        let decoder = JSONDecoder()
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
        do { try schedule.options.validate() } catch {
            throw ToolkitError.usage("--replay schedule '\(path)' has options this toolkit refuses: \(error)")
        }
        if let problem = schedule.violations().first {
            throw ToolkitError.usage("--replay schedule '\(path)' breaks the schedule's guarantees: \(problem)")
        }
        return schedule
    }

    private struct Version: Decodable { var version: Int }

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
