import ArgumentParser
import Breakage
import Flavor
import Foundation
import Source

struct TransactionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transaction",
        abstract: "Run ONE real transaction: many rows, large rows, a long-open one, or a mix.",
        discussion: """
        Everything goes over one connection inside one transaction: other sessions see nothing until \
        it commits, and the binary log holds it as one GTID. Large rows go in statements that fit the \
        server's max_allowed_packet. Ctrl-C commits (default) or rolls back (--on-interrupt rollback).
        """)

    @Option(help: "many-rows | large-data | long-running | mixed.") var type: String
    @Option(help: "Rows to insert (many-rows, large-data, mixed; 1 to 10000000).") var rows = 1000
    @Option(help: "KB per row for large-data (1 to 1048576).") var size = 100
    @Option(help: "Seconds the long-running transaction stays open (1 to 86400).") var duration = 60
    @Option(name: .customLong("data-type"), help: "text | blob.") var dataType = "text"
    @Option(name: .customLong("ops-per-sec"), help: "Inserts per second for long-running (1 to 10000).") var opsPerSec = 1
    @Option(help: "Table to write (created if missing).") var table = "txn_test"
    @Option(name: .customLong("on-interrupt"), help: "commit | rollback: what Ctrl-C does to the open transaction.") var onInterrupt = "commit"
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        guard TransactionRun.Kind(rawValue: type) != nil else {
            throw ValidationError("--type must be many-rows, large-data, long-running or mixed, got '\(type)'")
        }
        guard (1...10_000_000).contains(rows) else { throw ValidationError("--rows must be a whole number from 1 to 10000000, got \(rows)") }
        guard (1...1_048_576).contains(size) else { throw ValidationError("--size must be a number of KB from 1 to 1048576, got \(size)") }
        guard (1...86_400).contains(duration) else { throw ValidationError("--duration must be a whole number of seconds from 1 to 86400, got \(duration)") }
        guard TransactionRun.DataType(rawValue: dataType) != nil else { throw ValidationError("--data-type must be text or blob, got '\(dataType)'") }
        guard (1...10_000).contains(opsPerSec) else { throw ValidationError("--ops-per-sec must be a whole number from 1 to 10000, got \(opsPerSec)") }
        guard SQLText.isPlainIdentifier(table) else {
            throw ValidationError("--table must be a plain table name (letters, digits, _ and $, at most 64), got '\(table)'")
        }
        guard TransactionRun.InterruptChoice(rawValue: onInterrupt) != nil else {
            throw ValidationError("--on-interrupt must be commit or rollback, got '\(onInterrupt)'")
        }
    }

    func run() throws {
        let request = TransactionRun.Request(
            kind: TransactionRun.Kind(rawValue: type)!, table: table, rows: rows, sizeKB: size, durationSeconds: duration,
            dataType: TransactionRun.DataType(rawValue: dataType)!, opsPerSecond: opsPerSec,
            onInterrupt: TransactionRun.InterruptChoice(rawValue: onInterrupt)!)
        Interrupt.install()
        let result = try TransactionRun(target: try connection.target()).run(request, shouldStop: { Interrupt.requested }) { progress in
            writeError(String(format: "  %.0f s: %d rows, %d payload bytes, transaction still open", progress.elapsed,
                              progress.rowsInserted, progress.bytes))
        }
        output.emit(result)
    }
}
