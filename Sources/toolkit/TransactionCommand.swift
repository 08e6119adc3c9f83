import ArgumentParser
import Breakage
import Flavor
import Foundation

struct TransactionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transaction",
        abstract: "Run ONE real transaction: many rows, large rows, a long-open one, or a mix.",
        discussion: """
        Everything goes over one connection inside one transaction: other sessions see nothing until \
        it commits, and the binary log holds it as one GTID. Large rows go in statements that fit the \
        server's max_allowed_packet. Ctrl-C commits (default) or rolls back (--on-interrupt rollback).
        """)

    @Option(help: "many-rows | large-data | long-running | mixed.") var type: TransactionRun.Kind
    @Option(parsing: .unconditional, help: "With --type many-rows, large-data or mixed: rows to insert (1 to 10000000, default 1000).") var rows: Int?
    @Option(parsing: .unconditional, help: "With --type large-data: KB per row (1 to 1048576, default 100).") var size: Int?
    @Option(parsing: .unconditional, help: "With --type long-running: seconds the transaction stays open (1 to 86400, default 60).") var duration: Int?
    @Option(name: .customLong("data-type"), help: "text | blob: the payload column written.") var dataType: TransactionRun.DataType = .text
    @Option(name: .customLong("ops-per-sec"), parsing: .unconditional, help: "With --type long-running: inserts per second (1 to 10000, default 1).") var opsPerSec: Int?
    @Option(help: "Table to write (created if missing).") var table = "txn_test"
    @Option(name: .customLong("on-interrupt"), help: "commit | rollback: what Ctrl-C does to the open transaction.") var onInterrupt: TransactionRun.InterruptChoice = .commit
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        try requireFit("--rows", given: rows != nil, fits: type != .longRunning, goesOnlyWith: "--type many-rows, large-data or mixed")
        try requireFit("--size", given: size != nil, fits: type == .largeData, goesOnlyWith: "--type large-data")
        try requireFit("--duration", given: duration != nil, fits: type == .longRunning, goesOnlyWith: "--type long-running")
        try requireFit("--ops-per-sec", given: opsPerSec != nil, fits: type == .longRunning, goesOnlyWith: "--type long-running")
        if let rows, !(1...10_000_000).contains(rows) { throw ValidationError("--rows must be a whole number from 1 to 10000000, got \(rows)") }
        if let size, !(1...1_048_576).contains(size) { throw ValidationError("--size must be a number of KB from 1 to 1048576, got \(size)") }
        if let duration, !(1...86_400).contains(duration) {
            throw ValidationError("--duration must be a whole number of seconds from 1 to 86400, got \(duration)")
        }
        if let opsPerSec, !(1...10_000).contains(opsPerSec) {
            throw ValidationError("--ops-per-sec must be a whole number from 1 to 10000, got \(opsPerSec)")
        }
        guard SQLText.isPlainIdentifier(table) else {
            throw ValidationError("--table must be a plain table name (letters, digits, _ and $, at most 64), got '\(table)'")
        }
    }

    func run() throws {
        let request = TransactionRun.Request(
            kind: type, table: table, rows: rows ?? 1000, sizeKB: size ?? 100, durationSeconds: duration ?? 60,
            dataType: dataType, opsPerSecond: opsPerSec ?? 1, onInterrupt: onInterrupt)
        Interrupt.install()
        let result = try TransactionRun(target: try connection.target()).run(request, shouldStop: { Interrupt.requested }) { progress in
            writeError(String(format: "  %.0f s: %d rows, %d payload bytes, transaction still open", progress.elapsed,
                              progress.rowsInserted, progress.bytes))
        }
        output.emit(result)
    }
}
