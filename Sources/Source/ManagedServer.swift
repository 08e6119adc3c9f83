import Flavor
import Foundation
import Infrastructure
import MariaDB

/// The local server `toolkit up` creates and runs: its option file, data directory and process.
public struct ManagedServer: Sendable {
    public let state: StateDirectory
    public let serverBinary: String
    public let family: ServerFlavor.Family

    /// Finds a server on this machine: MariaDB's `mariadbd` first, then `mysqld`.
    public static func locate(state: StateDirectory) throws -> ManagedServer {
        if let mariadbd = ChildProcess.find(["mariadbd"]) {
            return ManagedServer(state: state, serverBinary: mariadbd, family: .mariadb)
        }
        if let mysqld = ChildProcess.find(["mysqld"]) {
            let family: ServerFlavor.Family = (try? String(contentsOfFile: mysqld, encoding: .isoLatin1))?.contains("MariaDB") == true ? .mariadb : .mysql
            return ManagedServer(state: state, serverBinary: mysqld, family: family)
        }
        throw ToolkitError("no MySQL-compatible server found (looked for mariadbd and mysqld); install one: apt-get install mariadb-server")
    }

    /// The account the server runs as when we are root.
    private var serverAccount: (uid: uid_t, gid: gid_t, name: String)? {
        guard geteuid() == 0, let entry = getpwnam("mysql") else { return nil }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid, "mysql")
    }

    /// Refuses (exit 2, before anything is created) a state directory the server's account could not
    /// reach: a 0700 directory from `mktemp -d`, or one under root's home. The server would fail later
    /// with no more than "initializing ... failed".
    public func requireReachableState() throws {
        guard let account = serverAccount, account.uid != geteuid(), let server = OwnedPath.Account.named(account.name),
              let problem = state.reachabilityProblem(for: server) else { return }
        throw ToolkitError.usage(problem)
    }

    public var isInitialized: Bool {
        FileManager.default.fileExists(atPath: state.dataDirectory.appendingPathComponent("mysql").path)
    }

    /// The group that may read the server's TLS key: the server's account's, when we are root.
    public var serverGroup: gid_t? { serverAccount?.gid }

    /// Writes the option file for a CDC-ready source listening on loopback `port`, serving TLS
    /// with the toolkit's certificate when `tls` is given.
    /// `options` (`up --server-option`) follow the toolkit's own, then `conf.d/` is included when it exists.
    public func writeOptionFile(port: Int, flavor: ServerFlavor, serverID: Int = 1, tls: ToolkitCA? = nil,
                                options: [ServerOption] = []) throws {
        if hasIncludeDirectory { try requireTrustedIncludeDirectory() }
        try optionFileText(port: port, flavor: flavor, serverID: serverID, tls: tls, options: options)
            .write(to: state.serverOptionFile, atomically: true, encoding: .utf8)
        chmod(state.serverOptionFile.path, 0o644)
    }

    /// True when `conf.d/` exists (as a directory or anything else: `requireTrustedIncludeDirectory` judges it).
    public var hasIncludeDirectory: Bool {
        var info = stat()
        return lstat(state.includeDirectory.path, &info) == 0
    }

    /// What `writeOptionFile` writes; an `up` on a running server compares it with the file the server started with.
    public func optionFileText(port: Int, flavor: ServerFlavor, serverID: Int = 1, tls: ToolkitCA? = nil,
                               options: [ServerOption] = []) -> String {
        var lines = [
            "# Written by toolkit up. Changes are overwritten on the next up.",
            "[mysqld]",
            "datadir = \(state.dataDirectory.path)",
            "socket = \(state.socketFile.path)",
            "pid-file = \(state.serverPIDFile.path)",
            "log-error = \(state.serverLog.path)",
            // A tmpdir of its own: a server removes stale #sql* files from its tmpdir when it
            // starts, which would break another server initializing in a shared /tmp.
            "tmpdir = \(state.temporaryDirectory.path)",
            "port = \(port)",
            "bind-address = 127.0.0.1",
            "skip-name-resolve",
            "max_connections = 1000",
            "max_allowed_packet = 64M",
            "innodb_buffer_pool_size = 256M",
            "character-set-server = utf8mb4",
        ]
        if let account = serverAccount { lines.append("user = \(account.name)") }
        lines += flavor.cdcServerOptions(serverID: serverID, retentionSeconds: 7 * 86_400, maxBinlogSizeMB: 100)
        if let tls {
            lines += ["ssl_ca = \(tls.caCertificate.path)", "ssl_cert = \(tls.serverCertificate.path)",
                      "ssl_key = \(tls.serverKey.path)"]
        }
        lines += ServerOption.optionFileLines(options, includeDirectory: hasIncludeDirectory ? state.includeDirectory : nil)
        lines += ["", "[client]", "socket = \(state.socketFile.path)", ""]
        return lines.joined(separator: "\n")
    }

    /// Refuses (one line naming the file, its owner and mode) a `conf.d/` that is not a directory of this
    /// account's that no one else can write, or that holds a `.cnf` file that is not a regular file of this
    /// account's that no one else can write: the server (started by root) reads them all.
    public func requireTrustedIncludeDirectory() throws {
        let directory = state.includeDirectory
        try OwnedPath.requireTrusted(directory: directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        for name in names where name.hasSuffix(".cnf") {
            let path = directory.appendingPathComponent(name).path
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let mode = String(info.st_mode & 0o7777, radix: 8)
            let owner = getpwuid(info.st_uid).map { String(cString: $0.pointee.pw_name) } ?? "uid \(info.st_uid)"
            guard info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(), info.st_mode & 0o022 == 0 else {
                throw ToolkitError("refusing \(path) (owner \(owner), mode \(mode)): conf.d files must be regular files owned by "
                    + "the account running up (uid \(geteuid())) that no one else can write")
            }
        }
    }

    /// Creates the state directories: the toolkit's own (`run/`, `log/`) stay with this account; the
    /// server's account gets `server/` (socket, pid file, error log, tmpdir) and `data/`, and nothing else.
    public func prepareDirectories() throws {
        try state.prepareOwnDirectories()
        let owner = serverAccount.map { ($0.uid, $0.gid) } ?? (geteuid(), getegid())
        for directory in [state.serverDirectory, state.temporaryDirectory, state.dataDirectory] {
            try OwnedPath.prepareDirectory(directory, owner: owner.0, group: owner.1, mode: 0o750)
        }
    }

    /// Initializes the data directory on first use (root gets an empty password, set by bootstrap).
    public func initializeIfNeeded() throws {
        guard !isInitialized else { return }
        let log = state.logDirectory.appendingPathComponent("install.log")
        // The installer's server writes its errors to the error log: what it adds now is this install's.
        var errorLogInfo = stat()
        let errorLogStart = lstat(state.serverLog.path, &errorLogInfo) == 0 ? Int(errorLogInfo.st_size) : 0
        let status: Int32
        switch family {
        case .mariadb:
            guard let installer = ChildProcess.find(["mariadb-install-db", "mysql_install_db"]) else {
                throw ToolkitError("mariadb-install-db not found; install it: apt-get install mariadb-server")
            }
            status = try ChildProcess.run(installer, [
                "--defaults-file=\(state.serverOptionFile.path)",
                "--auth-root-authentication-method=normal", "--skip-test-db",
            ], log: log)
        case .mysql:
            status = try ChildProcess.run(serverBinary, [
                "--defaults-file=\(state.serverOptionFile.path)", "--initialize-insecure",
            ], log: log)
        }
        guard status == 0, isInitialized else {
            let cause = OwnedPath.tail(state.serverLog).flatMap { data -> String? in
                var size = stat()
                let added = lstat(state.serverLog.path, &size) == 0 ? max(0, Int(size.st_size) - errorLogStart) : data.count
                return Self.firstError(in: String(decoding: data.suffix(added), as: UTF8.self))
            }
            if let cause {
                throw ToolkitError("initializing \(state.dataDirectory.path) failed (exit \(status)): the server says \"\(cause)\" "
                    + "(\(state.serverLog.path); see also \(log.path))")
            }
            throw ToolkitError("initializing \(state.dataDirectory.path) failed (exit \(status)); see \(log.path) and \(state.serverLog.path)")
        }
    }

    /// The first error line of a server's error log text (later ones are mostly its consequences:
    /// "Plugin 'InnoDB' registration ... failed", "Aborting"), as the server wrote it, without its time stamp.
    public static func firstError(in text: String) -> String? {
        guard let line = text.split(separator: "\n").first(where: { $0.contains("[ERROR]") }) else { return nil }
        let message = String((line.range(of: "[ERROR]").map { line[$0.lowerBound...] } ?? line[...]).prefix(300))
            .trimmingCharacters(in: .whitespaces)
        // InnoDB names the system error by number only ("failed with error 28"): say what it is.
        if let match = message.firstMatch(of: /(?:with error|errno:?|Errcode:) (\d+)$/), let code = Int32(match.1) {
            return message + " (\(String(cString: strerror(code))))"
        }
        return message
    }

    /// The server's pid when the process we started still runs. Only our own record in `run/` counts,
    /// checked against the process's start time and program: the server's account can write its own
    /// pid file, and a pid read from there could be any process's.
    public func runningPID() -> pid_t? {
        runningProcess()?.pid
    }

    private func runningProcess() -> ProcessIdentity? {
        guard let data = try? OwnedPath.readTrusted(state.serverProcessFile),
              let identity = try? JSONDecoder().decode(ProcessIdentity.self, from: data),
              identity.isRunning else { return nil }
        let expected = realpath(serverBinary, nil).map { resolved in defer { free(resolved) }; return String(cString: resolved) }
        guard let running = identity.executable, running == expected || running == serverBinary else { return nil }
        return identity
    }

    /// Starts the server in a session of its own, records which process it is, and waits until it accepts connections.
    public func start(timeout: Duration = .seconds(90)) throws -> pid_t {
        try state.prepareOwnDirectories()
        // my.cnf includes conf.d: checked at every start (the agent restarts the server after a service fault).
        if hasIncludeDirectory { try requireTrustedIncludeDirectory() }
        let logStarts = [state.serverLog, state.serverOutput].map { url -> (URL, Int) in
            var info = stat()
            return (url, lstat(url.path, &info) == 0 ? Int(info.st_size) : 0)
        }
        let pid = try ChildProcess.spawn(serverBinary, ["--defaults-file=\(state.serverOptionFile.path)"],
                                         log: state.serverOutput, detached: true)
        if let identity = ProcessIdentity.of(pid) {
            try JSONEncoder().encode(identity).write(to: state.serverProcessFile, options: .atomic)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            guard ChildProcess.isAlive(pid) else {
                // The server's own first error of this start (an unknown option is reported before the error log opens).
                let cause = logStarts.lazy.compactMap { url, start -> String? in
                    guard let data = OwnedPath.tail(url) else { return nil }
                    var info = stat()
                    let added = lstat(url.path, &info) == 0 ? max(0, Int(info.st_size) - start) : data.count
                    return Self.firstError(in: String(decoding: data.suffix(added), as: UTF8.self))
                }.first
                throw ToolkitError("the server exited during start-up: \(cause ?? lastErrorLine())")
            }
            if answers() { return pid }
            Thread.sleep(forTimeInterval: 0.1)
        }
        kill(pid, SIGKILL)
        throw ToolkitError("the server did not answer within \(timeout); see \(state.serverLog.path)")
    }

    /// True when something answers on the socket (an access-denied answer counts).
    public func answers() -> Bool {
        let options = ConnectionOptions(user: "toolkit-probe", password: "", socket: state.socketFile.path,
                                        connectTimeoutSeconds: 1)
        do {
            let connection = try MariaDBConnection(options)
            connection.close()
            return true
        } catch {
            return !error.isConnectionLost && error.number != 2002
        }
    }

    /// Stops the server cleanly (SIGTERM), or kills it when `crash` is set or it will not stop.
    /// Signals only the process `start` recorded, and only while it is that process.
    public func stop(crash: Bool = false, timeout: Duration = .seconds(60)) throws {
        guard let process = runningProcess() else { return }
        kill(process.pid, crash ? SIGKILL : SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while process.isRunning {
            if clock.now >= deadline {
                kill(process.pid, SIGKILL)
                Thread.sleep(forTimeInterval: 0.2)
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        try? FileManager.default.removeItem(at: state.serverProcessFile)
    }

    /// The last line the server wrote to its error log (read without following links: the server's account owns it).
    public func lastErrorLine() -> String {
        let text = OwnedPath.tail(state.serverLog).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let lines = text.split(separator: "\n").filter { $0.contains("ERROR") }
        return lines.last.map(String.init) ?? "see \(state.serverLog.path)"
    }

    /// Removes what `up` created: data, logs, configuration, and the directory itself when `up` created it.
    /// Nothing else in the directory.
    public func purge() throws {
        let ownRoot = FileManager.default.fileExists(atPath: state.createdRootMarker.path)
        for entry in state.createdEntries where FileManager.default.fileExists(atPath: entry.path) {
            try FileManager.default.removeItem(at: entry)
        }
        // The root goes only when `up` made it: a directory the user made (`mktemp -d`) is theirs.
        if ownRoot, let remaining = try? FileManager.default.contentsOfDirectory(atPath: state.root.path), remaining.isEmpty {
            try? FileManager.default.removeItem(at: state.root)
        }
    }
}
