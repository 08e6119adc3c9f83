import ArgumentParser
import Breakage
import Foundation

struct CorruptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corrupt",
        abstract: "Corrupt a binlog file of the managed source (backed up first), and print every byte changed.",
        discussion: """
          truncate       cut --percentage % off the end (default 50)
          random-bytes   flip --count bytes after the magic number (default 10)
          magic-number   invert the four bytes every binlog starts with
        --file names a binlog file the server lists, nothing else (no '/', no '..', no symlink out of the \
        data directory). Default: the current binlog; with --rotate, FLUSH BINARY LOGS first and corrupt \
        the newest closed file. Undo with `toolkit restore`.
        """)

    @Option(help: "truncate | random-bytes | magic-number.") var type: CorruptionType
    @Option(help: "The binlog file, by name (default: the current one; with --rotate, the newest closed one).") var file: String?
    @Option(parsing: .unconditional, help: "With --type truncate: percent of the file cut off the end (1 to 100, default 50).") var percentage: Int?
    @Option(parsing: .unconditional, help: "With --type random-bytes: bytes changed (1 to 100000, default 10).") var count: Int?
    @Flag(name: .customLong("no-backup"), help: "Do not back the file up first.") var noBackup = false
    @Flag(help: "FLUSH BINARY LOGS first, so that the corrupted file is a closed one.") var rotate = false
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        if let file, !BinlogFileName.isValid(file) {
            throw ValidationError("--file must be the name of a binlog file in the server's binlog directory (no '/' or '..'), got '\(file)'")
        }
        try requireFit("--percentage", given: percentage != nil, fits: type == .truncate, goesOnlyWith: "--type truncate")
        try requireFit("--count", given: count != nil, fits: type == .randomBytes, goesOnlyWith: "--type random-bytes")
        if let percentage, !(1...100).contains(percentage) {
            throw ValidationError("--percentage must be a whole number from 1 to 100, got \(percentage)")
        }
        if let count, !(1...100_000).contains(count) { throw ValidationError("--count must be a whole number from 1 to 100000, got \(count)") }
    }

    func run() throws {
        var rng = SystemRandomNumberGenerator()
        let result = try BinlogCorruption(target: try connection.target()).run(
            type, file: file, percentage: percentage ?? 50, count: count ?? 10,
            backup: !noBackup, rotate: rotate, using: &rng)
        output.emit(result)
    }
}
