import ArgumentParser
import Breakage
import Foundation

struct BreakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "break",
        abstract: "Break the ETL tool's connections on the server side; --undo brings a fresh source's settings back.",
        discussion: """
          --kill-etl-connections   KILL every connection of the ETL user (queries and binlog dumps)
          --wait-timeout N         SET GLOBAL wait_timeout = N: idle connections are closed by the server
          --revoke-replication     REVOKE the replication privileges from the ETL user and drop its binlog dumps
          --row-image minimal      SET GLOBAL binlog_row_image (minimal, noblob or full)
          --undo                   wait_timeout 28800, binlog_row_image FULL, replication privileges granted again
        Several flags may go together; --undo goes alone.
        """)

    @Flag(name: .customLong("kill-etl-connections"), help: "KILL every connection of the ETL user.") var killETLConnections = false
    @Option(name: .customLong("wait-timeout"), parsing: .unconditional, help: "Seconds an idle connection may live (1 to 31536000).") var waitTimeout: Int?
    @Flag(name: .customLong("revoke-replication"), help: "Revoke the ETL user's replication privileges.") var revokeReplication = false
    @Option(name: .customLong("row-image"), help: "minimal | noblob | full.") var rowImage: RowImage?
    @Flag(help: "Bring back the settings of a fresh source.") var undo = false
    @OptionGroup var connection: ConnectionFlags
    @OptionGroup var output: OutputFlags

    func validate() throws {
        let breaks = [killETLConnections, waitTimeout != nil, revokeReplication, rowImage != nil].filter { $0 }.count
        if undo && breaks > 0 { throw ValidationError("--undo goes alone") }
        if !undo && breaks == 0 {
            throw ValidationError("break needs --kill-etl-connections, --wait-timeout N, --revoke-replication, --row-image MODE or --undo")
        }
        if let waitTimeout, !(1...31_536_000).contains(waitTimeout) {
            throw ValidationError("--wait-timeout must be a whole number of seconds from 1 to 31536000, got \(waitTimeout)")
        }
    }

    func run() throws {
        var request = ConnectionBreakage.Request()
        request.killETLConnections = killETLConnections
        request.waitTimeout = waitTimeout
        request.revokeReplication = revokeReplication
        request.rowImage = rowImage?.rawValue
        request.undo = undo
        output.emit(try ConnectionBreakage(target: try connection.target()).run(request))
    }
}
