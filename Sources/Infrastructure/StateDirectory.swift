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
    public var backupDirectory: URL { root.appendingPathComponent("backups") }
    /// The agent's journal: segments, window summaries (see `JournalDirectory`).
    public var journalDirectory: URL { root.appendingPathComponent("journal") }
    /// The single journal file of earlier versions, migrated into `journalDirectory` by the agent.
    public var journalFile: URL { root.appendingPathComponent("journal.jsonl") }
    /// The toolkit's CA and the server's certificate (see `ToolkitCA`).
    public var tlsDirectory: URL { root.appendingPathComponent("tls") }

    // The toolkit's own files: owned by the account that runs `toolkit up` (root, usually),
    // never writable by the server's account, so nothing the server writes can steer them.
    /// Mode 0700: the agent's control socket, its token and pid, our record of the server's process.
    public var runDirectory: URL { root.appendingPathComponent("run") }
    public var logDirectory: URL { root.appendingPathComponent("log") }
    public var agentPIDFile: URL { runDirectory.appendingPathComponent("agent.pid") }
    public var agentSocketFile: URL { runDirectory.appendingPathComponent("agent.sock") }
    public var agentTokenFile: URL { runDirectory.appendingPathComponent("agent.token") }
    public var leftoverFile: URL { runDirectory.appendingPathComponent("agent-leftovers.json") }
    /// The pid and start time of the server process we spawned: the only pid we ever signal.
    public var serverProcessFile: URL { runDirectory.appendingPathComponent("server.process") }
    /// The server's stdout and stderr, opened by us before it drops privileges.
    public var serverOutput: URL { logDirectory.appendingPathComponent("mysqld.out") }

    // The server's own files: owned by its account (`mysql` when we are root). Read, never trusted.
    public var serverDirectory: URL { root.appendingPathComponent("server") }
    public var socketFile: URL { serverDirectory.appendingPathComponent("mysqld.sock") }
    public var serverPIDFile: URL { serverDirectory.appendingPathComponent("mysqld.pid") }
    public var serverLog: URL { serverDirectory.appendingPathComponent("mysqld.err") }
    public var temporaryDirectory: URL { serverDirectory.appendingPathComponent("tmp") }

    /// Creates the root (0755), `run/` (0700) and `log/` (0755) for this account. Refuses a root that
    /// another account owns or can write: it could swap `run/` for its own.
    public func prepareOwnDirectories() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try OwnedPath.requireTrusted(directory: root, closingOwn: true)
        try OwnedPath.prepareDirectory(runDirectory, owner: geteuid(), group: getegid(), mode: 0o700)
        try OwnedPath.prepareDirectory(logDirectory, owner: geteuid(), group: getegid(), mode: 0o755)
    }

    /// Everything `down --purge` removes: only what `up` created.
    public var createdEntries: [URL] {
        [configFile, serverOptionFile, dataDirectory, runDirectory, logDirectory, serverDirectory, backupDirectory, journalDirectory, journalFile,
         tlsDirectory]
    }
}
