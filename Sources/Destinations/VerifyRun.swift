import Foundation
import MariaDB
import Verification

extension DestinationAddress {
    /// The destination's reader. `mysqlPassword`: a MySQL destination's (`TOOLKIT_DEST_PASSWORD`,
    /// never argv); PostgreSQL's comes from libpq's own `PGPASSWORD` or `~/.pgpass`; an exec command
    /// takes its CLI's own variables from the environment. `execTimeout` bounds each run of it.
    public func open(mysqlPassword: String, execTimeout: Duration = .seconds(300)) throws -> TableSource {
        switch self {
        case .postgres(let user, let host, let port, let database, let schema):
            return try PostgresTables(user: user, host: host, port: port, database: database, schema: schema)
        case .mysql(let user, let host, let port, let database):
            return MySQLTables(options: ConnectionOptions(host: host, port: port, user: user, password: mysqlPassword), database: database)
        case .jsonl(let path):
            return FileTables(path: path, format: .jsonl)
        case .csv(let path):
            return FileTables(path: path, format: .csv)
        case .exec(let command):
            guard let executable = ExecTables.resolve(command) else {
                throw ReadError("--destination exec: \(command.program) is not an executable program (nor on PATH)", usage: true)
            }
            return ExecTables(command: command, executable: executable, timeout: execTimeout)
        }
    }
}

extension Verifier {
    /// Compares, and again until the destination matches or `wait` has passed (a pipeline still
    /// making its first tables is waited for as one still catching up): the last comparison, as
    /// `verify` reports it. `progress` hears every pass that will be tried again; `shouldStop`
    /// ends the wait early. Throws what the first reads threw (`ReadError`).
    public func verify(wait: Duration, shouldStop: () -> Bool = { false }, progress: (Pass) -> Void = { _ in }) throws -> VerifyReport {
        let start = Date()
        let deadline = start.addingTimeInterval(Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18)
        let interval = destination.recheckInterval
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        var pass = try run()
        while pass.nothingReplicated || pass.tables.contains(where: { $0.differences > 0 }), Date() < deadline, !shouldStop() {
            // A destination read at most every 10 s (exec:) gets no pass squeezed in before the deadline.
            if seconds > 1 && deadline.timeIntervalSinceNow < seconds { break }
            progress(pass)
            Thread.sleep(forTimeInterval: min(seconds, max(0, deadline.timeIntervalSinceNow)))
            pass = try run()
        }
        return VerifyReport(tables: pass.tables, notReplicatedTables: pass.notReplicatedTables, seconds: Date().timeIntervalSince(start),
                            error: pass.nothingReplicated ? pass.nothingReplicatedError : nil)
    }
}
