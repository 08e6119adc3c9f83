import ArgumentParser
import Flavor
import Foundation
import Infrastructure
import MariaDB
import Source

struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Binlog position, files, row counts, and binlog/row rates between samples.")

    @Flag(help: "Keep sampling until Ctrl-C (refreshing in place; with --json one object per line).")
    var watch = false

    @Option(parsing: .unconditional, help: "With --watch: seconds between samples (0.1 to 3600, default 2).")
    var interval: Double?

    @Option(parsing: .unconditional, help: "With --watch: stop after this many samples (0 to 1000000, 0 = until Ctrl-C).")
    var samples: Int?

    @OptionGroup var connection: ConnectionFlags
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let interval, !(interval >= 0.1 && interval <= 3600) {
            throw ValidationError("--interval must be a number of seconds from 0.1 to 3600, got \(interval)")
        }
        if let samples, !(0...1_000_000).contains(samples) {
            throw ValidationError("--samples must be a whole number from 0 to 1000000, got \(samples)")
        }
        try requireFit("--interval", given: interval != nil, fits: watch, goesOnlyWith: "--watch")
        try requireFit("--samples", given: samples != nil, fits: watch, goesOnlyWith: "--watch")
    }

    func run() throws {
        let target = try connection.target()
        let link = try target.connect()
        defer { link.close() }
        let flavor: ServerFlavor
        do {
            guard let identified = try link.identifyFlavor() else { throw ToolkitError("unrecognised server version '\(link.serverVersion)'") }
            flavor = identified
        } catch let error as MariaDBError {
            throw ToolkitError.server("reading the server's flavor", error)
        }
        Interrupt.install()
        let limit = watch ? samples ?? 0 : 1
        let interval = self.interval ?? 2
        var previous: MonitorSample?
        var taken = 0
        let interactive = isatty(STDOUT_FILENO) == 1 && !json
        while !Interrupt.requested {
            let sample: MonitorSample
            do {
                sample = try MonitorSample.read(link, flavor: flavor, database: target.database, previous: previous)
            } catch let error as MariaDBError {
                throw ToolkitError.server("reading the binlog state", error)
            }
            taken += 1
            if json {
                Console.write(JSONOutput.line(sample, pretty: !watch))
            } else {
                var screen = interactive && watch ? "\u{1B}[H\u{1B}[2J" : ""
                if watch { screen += "toolkit monitor — every \(interval) s (Ctrl-C to stop)   \(sample.at)\n" }
                screen += sample.description
                if watch && !interactive { screen += "\n" }
                Console.write(screen)
            }
            previous = sample
            if limit > 0 && taken >= limit { break }
            Interrupt.sleep(seconds: interval)
        }
    }
}
