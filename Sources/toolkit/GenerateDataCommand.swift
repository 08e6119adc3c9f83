import ArgumentParser
import Flavor
import Foundation
import Source

struct GenerateDataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-data",
        abstract: "Insert tagged rows: one shot, or a batch every --interval seconds.",
        discussion: """
        Every row carries an ordered tag in its e-mail (gen-000000000042@toolkit.test), so a lost or \
        doubled insert can be proved later. If the server goes away mid-run, generate-data reconnects, \
        checks whether the in-doubt chunk committed, and neither loses nor doubles rows.
        """)

    @Option(parsing: .unconditional, help: "Rows per batch (1 to 100000000).")
    var count = 100

    @Option(parsing: .unconditional, help: "Seconds between batches (0 = one shot, else 0.1 to 86400).")
    var interval: Double = 0

    @Option(parsing: .unconditional, help: "With --interval: stop after this many batches (0 to 1000000, 0 = until Ctrl-C).")
    var batches: Int?

    @Option(help: "Table to write (created users-shaped if missing).")
    var table = "users"

    @Option(parsing: .unconditional, help: "Steady rate in rows per second (1 to 1000000).")
    var rate: Int?

    @Option(help: "Per batch, after the inserts: update this many earlier generated rows (name, status, updated_at).")
    var updates = 0

    @Option(help: "Per batch, after the inserts: delete this many earlier generated rows.")
    var deletes = 0

    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        guard (1...100_000_000).contains(count) else {
            throw ValidationError("--count must be a whole number from 1 to 100000000, got \(count)")
        }
        guard interval == 0 || (interval >= 0.1 && interval <= 86_400) else {
            throw ValidationError("--interval must be 0 (one shot) or a number of seconds from 0.1 to 86400, got \(interval)")
        }
        try requireFit("--batches", given: batches != nil, fits: interval > 0, goesOnlyWith: "--interval S (more than one batch)")
        if let batches, !(0...1_000_000).contains(batches) {
            throw ValidationError("--batches must be a whole number from 0 to 1000000, got \(batches)")
        }
        guard SQLText.isPlainIdentifier(table) else {
            throw ValidationError("--table must be a plain table name (letters, digits, _ and $, at most 64), got '\(table)'")
        }
        for (flag, value) in [("--updates", updates), ("--deletes", deletes)] where !(0...1_000_000).contains(value) {
            throw ValidationError("\(flag) must be a whole number of rows per batch from 0 to 1000000, got \(value)")
        }
        if let rate, !(1...1_000_000).contains(rate) {
            throw ValidationError("--rate must be a whole number of rows per second from 1 to 1000000, got \(rate)")
        }
    }

    func run() throws {
        let generator = DataGenerator(target: try connection.target())
        try generator.prepare(table: table)
        Interrupt.install()
        let showProgress = isatty(STDERR_FILENO) == 1 && !output.json
        var summaries: [DataGenerator.Summary] = []
        var batch = 0
        let batchLimit = batches ?? 0
        repeat {
            batch += 1
            let summary = try generator.run(
                .init(count: count, table: table, rowsPerSecond: rate, updates: updates, deletes: deletes),
                shouldStop: { Interrupt.requested },
                progress: { progress in
                    guard showProgress, progress.total >= 5_000 else { return }
                    let rate = progress.elapsed > 0 ? Double(progress.inserted) / progress.elapsed : 0
                    FileHandle.standardError.write(Data(String(format: "\r  %d / %d rows (%.0f%%)  %.0f rows/s ",
                        progress.inserted, progress.total, 100 * Double(progress.inserted) / Double(progress.total), rate).utf8))
                })
            if showProgress && count >= 5_000 { FileHandle.standardError.write(Data("\n".utf8)) }
            summaries.append(summary)
            let total = summaries.reduce(0) { $0 + $1.rowsInserted }
            if interval > 0 && !output.json {
                var line = "Batch \(batch): inserted \(summary.rowsInserted) rows into \(table) (total \(total))"
                if updates > 0 || deletes > 0 { line += ", updated \(summary.rowsUpdated), deleted \(summary.rowsDeleted)" }
                print(line)
            }
            if interval == 0 || Interrupt.requested || (batchLimit > 0 && batch >= batchLimit) { break }
            Interrupt.sleep(seconds: interval)
        } while !Interrupt.requested
        output.emit(GenerateResult(batches: summaries))
    }
}

struct GenerateResult: Codable, CustomStringConvertible {
    var table: String
    var batches: Int
    var rowsInserted: Int
    var rowsUpdated: Int
    var rowsDeleted: Int
    var firstTag: Int64?
    var lastTag: Int64?
    var seconds: Double
    var rowsPerSecond: Double
    var reconnects: Int
    var inDoubtCommitted: Int
    var inDoubtRetried: Int
    var interrupted: Bool

    enum CodingKeys: String, CodingKey {
        case table, batches, seconds, reconnects, interrupted
        case rowsInserted = "rows_inserted", rowsUpdated = "rows_updated", rowsDeleted = "rows_deleted", firstTag = "first_tag", lastTag = "last_tag"
        case rowsPerSecond = "rows_per_second", inDoubtCommitted = "in_doubt_committed", inDoubtRetried = "in_doubt_retried"
    }

    init(batches summaries: [DataGenerator.Summary]) {
        table = summaries.first?.table ?? ""
        batches = summaries.count
        rowsInserted = summaries.reduce(0) { $0 + $1.rowsInserted }
        rowsUpdated = summaries.reduce(0) { $0 + $1.rowsUpdated }
        rowsDeleted = summaries.reduce(0) { $0 + $1.rowsDeleted }
        firstTag = summaries.compactMap(\.firstTag).first
        lastTag = summaries.compactMap(\.lastTag).last
        seconds = summaries.reduce(0) { $0 + $1.seconds }
        rowsPerSecond = seconds > 0 ? Double(rowsInserted) / seconds : 0
        reconnects = summaries.last?.reconnects ?? 0
        inDoubtCommitted = summaries.reduce(0) { $0 + $1.inDoubtCommitted }
        inDoubtRetried = summaries.reduce(0) { $0 + $1.inDoubtRetried }
        interrupted = summaries.contains(where: \.interrupted)
    }

    var description: String {
        var text = "Inserted \(rowsInserted) rows into \(table)"
        if let firstTag, let lastTag { text += " (tags \(firstTag)...\(lastTag))" }
        text += String(format: " in %.2f s, %.0f rows/s", seconds, rowsPerSecond)
        if rowsUpdated > 0 || rowsDeleted > 0 { text += "; updated \(rowsUpdated), deleted \(rowsDeleted)" }
        if batches > 1 { text += ", \(batches) batches" }
        if reconnects > 0 { text += "; reconnected \(reconnects)×, in-doubt chunks: \(inDoubtCommitted) had committed, \(inDoubtRetried) retried" }
        if interrupted { text += " — interrupted" }
        return text
    }
}
