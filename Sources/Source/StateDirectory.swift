import Foundation

/// The toolkit's own files for one managed source: `$TOOLKIT_HOME`, by default
/// `/var/lib/mysql-test-toolkit` for root (the server account must reach it) and
/// `$XDG_STATE_HOME/mysql-test-toolkit` (or `~/.local/state/...`) otherwise.
public struct StateDirectory: Sendable, Hashable {
    public let root: URL

    public init(root: URL) { self.root = root.standardizedFileURL }

    public static func resolve(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> StateDirectory {
        if let flag, !flag.isEmpty { return StateDirectory(root: URL(fileURLWithPath: flag)) }
        if let home = environment["TOOLKIT_HOME"], !home.isEmpty { return StateDirectory(root: URL(fileURLWithPath: home)) }
        if geteuid() == 0 { return StateDirectory(root: URL(fileURLWithPath: "/var/lib/mysql-test-toolkit")) }
        let base = environment["XDG_STATE_HOME"].map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/state")
        return StateDirectory(root: base.appendingPathComponent("mysql-test-toolkit"))
    }

    public var configFile: URL { root.appendingPathComponent("toolkit.json") }
    public var serverOptionFile: URL { root.appendingPathComponent("my.cnf") }
    public var dataDirectory: URL { root.appendingPathComponent("data") }
    public var runDirectory: URL { root.appendingPathComponent("run") }
    public var logDirectory: URL { root.appendingPathComponent("log") }
    public var temporaryDirectory: URL { root.appendingPathComponent("tmp") }
    public var socketFile: URL { runDirectory.appendingPathComponent("mysqld.sock") }
    public var serverPIDFile: URL { runDirectory.appendingPathComponent("mysqld.pid") }
    public var serverLog: URL { logDirectory.appendingPathComponent("mysqld.err") }
    public var backupDirectory: URL { root.appendingPathComponent("backups") }
    public var journalFile: URL { root.appendingPathComponent("journal.jsonl") }
    public var agentPIDFile: URL { runDirectory.appendingPathComponent("agent.pid") }
    public var agentPortFile: URL { runDirectory.appendingPathComponent("agent.port") }
    public var leftoverFile: URL { runDirectory.appendingPathComponent("agent-leftovers.json") }

    /// Everything `down --purge` removes: only what `up` created.
    public var createdEntries: [URL] {
        [configFile, serverOptionFile, dataDirectory, runDirectory, logDirectory, temporaryDirectory, backupDirectory, journalFile]
    }
}
