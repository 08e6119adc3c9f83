import ArgumentParser
import Foundation
import Source

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Server, binary log, tables, connected binlog readers and CDC readiness checks.",
        discussion: "Exits 1 when the server cannot be reached (the report still prints, with server.running false).")

    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func run() throws {
        let report = StatusReport.read(try connection.target())
        output.emit(report)
        if !report.server.running { throw ExitCode(1) }
    }
}
