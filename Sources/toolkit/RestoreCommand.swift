import ArgumentParser
import Breakage
import Foundation

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Copy binlog backups taken by `corrupt` back, verifying their SHA-256.",
        discussion: "Restores only what the manifest in $TOOLKIT_HOME/backups lists, with the file's owner and mode.")

    @Flag(help: "List the backups.") var list = false
    @Option(help: "Restore this binlog file's backup.") var file: String?
    @Flag(help: "Restore every backup not restored yet.") var all = false
    @Flag(help: "Then run FLUSH BINARY LOGS.") var flush = false
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        let chosen = [list, file != nil, all].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("restore takes exactly one of --list, --file F or --all") }
        if let file, !BinlogFileName.isValid(file) {
            throw ValidationError("--file must be the name of a binlog file in the server's binlog directory (no '/' or '..'), got '\(file)'")
        }
        if flush && list { throw ValidationError("--flush goes with --file or --all") }
    }

    func run() throws {
        let restore = BinlogRestore(target: try connection.target())
        if list {
            output.emit(try restore.list())
        } else {
            output.emit(try restore.restore(names: file.map { [$0] }, flush: flush))
        }
    }
}
