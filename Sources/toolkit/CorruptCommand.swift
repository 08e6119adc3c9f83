import ArgumentParser
import Breakage
import Foundation
import Source

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

    @Option(help: "truncate | random-bytes | magic-number.") var type: String
    @Option(help: "The binlog file, by name (default: the current one; with --rotate, the newest closed one).") var file: String?
    @Option(help: "truncate: percent of the file cut off the end (1 to 100).") var percentage = 50
    @Option(help: "random-bytes: bytes changed (1 to 100000).") var count = 10
    @Flag(name: .customLong("no-backup"), help: "Do not back the file up first.") var noBackup = false
    @Flag(help: "FLUSH BINARY LOGS first, so that the corrupted file is a closed one.") var rotate = false
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        guard CorruptionType(rawValue: type) != nil else {
            throw ValidationError("--type must be truncate, random-bytes or magic-number, got '\(type)'")
        }
        if let file, !BinlogFileName.isValid(file) {
            throw ValidationError("--file must be the name of a binlog file in the server's binlog directory (no '/' or '..'), got '\(file)'")
        }
        guard (1...100).contains(percentage) else { throw ValidationError("--percentage must be a whole number from 1 to 100, got \(percentage)") }
        guard (1...100_000).contains(count) else { throw ValidationError("--count must be a whole number from 1 to 100000, got \(count)") }
    }

    func run() throws {
        var rng = SystemRandomNumberGenerator()
        let result = try BinlogCorruption(target: try connection.target()).run(
            CorruptionType(rawValue: type)!, file: file, percentage: percentage, count: count,
            backup: !noBackup, rotate: rotate, using: &rng)
        output.emit(result)
    }
}
