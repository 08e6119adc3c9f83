import ArgumentParser
import Breakage
import Foundation
import Source

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

    @Option(help: "purge | reset | gtid-gap | disconnect | lag.") var scenario: String
    @Option(help: "lag: seconds the lag lasts (1 to 86400).") var duration = 60
    @Option(help: "lag: milliseconds each replication round trip is delayed (1 to 600000).") var delay = 5000
    @Option(help: "gtid-gap: sequence numbers to skip (1 to 1000000).") var gap = 10
    @Option(help: "gtid-gap: writes after the gap (0 to 1000).") var writes = 3
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        guard ReplicationScenarioKind(rawValue: scenario) != nil else {
            throw ValidationError("--scenario must be purge, reset, gtid-gap, disconnect or lag, got '\(scenario)'")
        }
        guard (1...86_400).contains(duration) else { throw ValidationError("--duration must be a whole number of seconds from 1 to 86400, got \(duration)") }
        guard (1...600_000).contains(delay) else { throw ValidationError("--delay must be a number of milliseconds from 1 to 600000, got \(delay)") }
        guard (1...1_000_000).contains(gap) else { throw ValidationError("--gap must be a whole number from 1 to 1000000, got \(gap)") }
        guard (0...1000).contains(writes) else { throw ValidationError("--writes must be a whole number from 0 to 1000, got \(writes)") }
    }

    func run() throws {
        let kind = ReplicationScenarioKind(rawValue: scenario)!
        Interrupt.install()
        let showCountdown = kind == .lag && !output.json && isatty(STDERR_FILENO) == 1
        let result = try ReplicationScenario(target: try connection.target()).run(
            kind, options: .init(gap: gap, writes: writes, delayMs: delay, durationSeconds: duration),
            shouldStop: { Interrupt.requested },
            tick: { left in
                if showCountdown { FileHandle.standardError.write(Data("\r  lag on, writing 1 row/s: \(max(0, left)) s left ".utf8)) }
            })
        if showCountdown { writeError("") }
        output.emit(result)
    }
}
