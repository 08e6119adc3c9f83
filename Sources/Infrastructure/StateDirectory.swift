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
    /// Option files the user adds (`*.cnf`), read by the server after the toolkit's own options.
    public var includeDirectory: URL { root.appendingPathComponent("conf.d") }
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

    /// Creates the root (0755, and any missing parent), `run/` (0700) and `log/` (0755) for this account.
    /// Refuses a root that another account owns or can write: it could swap `run/` for its own.
    /// A root this call creates is marked as the toolkit's (`createdRootMarker`): `down --purge` removes it.
    public func prepareOwnDirectories() throws {
        let created = try OwnedPath.createDirectories(root, mode: 0o755)
        try OwnedPath.requireTrusted(directory: root, closingOwn: true)
        try OwnedPath.prepareDirectory(runDirectory, owner: geteuid(), group: getegid(), mode: 0o700)
        try OwnedPath.prepareDirectory(logDirectory, owner: geteuid(), group: getegid(), mode: 0o755)
        if created { try OwnedPath.createPrivate(createdRootMarker, contents: Data()) }
    }

    /// Present when the toolkit created the root itself; a directory the user made stays after `down --purge`.
    public var createdRootMarker: URL { runDirectory.appendingPathComponent("home-created") }

    /// Why `account` (the server's, when it is not this one) cannot reach the root: the first directory
    /// on the way (or the root itself) it may not enter, in one line with the fix; nil when it can.
    /// Directories still to be created are made 0755 and do not count.
    public func reachabilityProblem(for account: OwnedPath.Account) -> String? {
        guard let (blocking, info) = OwnedPath.firstUnsearchable(on: root, by: account) else { return nil }
        let owner = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(info.st_uid)"
        let mode = String(info.st_mode & 0o7777, radix: 8)
        let fix = "run `chmod 711 \(blocking.path)`, or choose another directory with --home or TOOLKIT_HOME"
        if blocking.path == root.path || blocking.path == OwnedPath.resolved(root).path {
            return "the state directory \(root.path) (mode \(mode), owner \(owner)) cannot be entered by the server's account \(account.name): \(fix)"
        }
        return "the state directory \(root.path) cannot be reached by the server's account \(account.name): \(blocking.path) (mode \(mode), owner \(owner)) does not let it through; \(fix)"
    }

    /// Everything `down --purge` removes: only what `up` created.
    public var createdEntries: [URL] {
        [configFile, serverOptionFile, dataDirectory, runDirectory, logDirectory, serverDirectory, backupDirectory, journalDirectory, journalFile,
         tlsDirectory]
    }
}
