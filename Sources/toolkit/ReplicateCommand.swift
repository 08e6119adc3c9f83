import ArgumentParser
import Breakage
import Foundation

struct ReplicateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replicate",
        abstract: "What a binlog consumer meets: purged or reset binlogs, a GTID gap, a dropped dump, lag.",
        discussion: """
          purge        FLUSH BINARY LOGS, then PURGE BINARY LOGS TO the new file: a reader that was away gets error 1236
          reset        RESET MASTER (RESET BINARY LOGS AND GTIDS on MySQL 8.4): every file and GTID forgotten
          gtid-gap     a real gap: the next GTID skips --gap sequence numbers, then --writes more writes
          disconnect   KILL every binlog dump connection, then FLUSH BINARY LOGS
          lag          through the agent: --delay ms on replication connections for --duration s while writes go on
        """)

    @Option(help: "purge | reset | gtid-gap | disconnect | lag.") var scenario: ReplicationScenarioKind
    @Option(parsing: .unconditional, help: "With --scenario lag: seconds the lag lasts (1 to 86400, default 60).") var duration: Int?
    @Option(parsing: .unconditional, help: "With --scenario lag: milliseconds by which binlog events reach replication connections late (1 to 600000, default 5000).") var delay: Int?
    @Option(parsing: .unconditional, help: "With --scenario gtid-gap: sequence numbers to skip (1 to 1000000, default 10).") var gap: Int?
    @Option(parsing: .unconditional, help: "With --scenario gtid-gap: writes after the gap (0 to 1000, default 3).") var writes: Int?
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        try requireFit("--duration", given: duration != nil, fits: scenario == .lag, goesOnlyWith: "--scenario lag")
        try requireFit("--delay", given: delay != nil, fits: scenario == .lag, goesOnlyWith: "--scenario lag")
        try requireFit("--gap", given: gap != nil, fits: scenario == .gtidGap, goesOnlyWith: "--scenario gtid-gap")
        try requireFit("--writes", given: writes != nil, fits: scenario == .gtidGap, goesOnlyWith: "--scenario gtid-gap")
        if let duration, !(1...86_400).contains(duration) {
            throw ValidationError("--duration must be a whole number of seconds from 1 to 86400, got \(duration)")
        }
        if let delay, !(1...600_000).contains(delay) { throw ValidationError("--delay must be a number of milliseconds from 1 to 600000, got \(delay)") }
        if let gap, !(1...1_000_000).contains(gap) { throw ValidationError("--gap must be a whole number from 1 to 1000000, got \(gap)") }
        if let writes, !(0...1000).contains(writes) { throw ValidationError("--writes must be a whole number from 0 to 1000, got \(writes)") }
    }

    func run() throws {
        let kind = scenario
        Interrupt.install()
        let showCountdown = kind == .lag && !output.json && isatty(STDERR_FILENO) == 1
        let result = try ReplicationScenario(target: try connection.target()).run(
            kind, options: .init(gap: gap ?? 10, writes: writes ?? 3, delayMs: delay ?? 5000, durationSeconds: duration ?? 60),
            shouldStop: { Interrupt.requested },
            tick: { left in
                if showCountdown { FileHandle.standardError.write(Data("\r  lag on, writing 1 row/s: \(max(0, left)) s left ".utf8)) }
            })
        if showCountdown { writeError("") }
        output.emit(result)
    }
}
