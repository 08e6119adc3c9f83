import Flavor
import Foundation
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

    public var isInitialized: Bool {
        FileManager.default.fileExists(atPath: state.dataDirectory.appendingPathComponent("mysql").path)
    }

    /// Writes the option file for a CDC-ready source listening on loopback `port`.
    public func writeOptionFile(port: Int, flavor: ServerFlavor, serverID: Int = 1) throws {
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
        lines += ["", "[client]", "socket = \(state.socketFile.path)", ""]
        try lines.joined(separator: "\n").write(to: state.serverOptionFile, atomically: true, encoding: .utf8)
        chmod(state.serverOptionFile.path, 0o644)
    }

    /// Creates the state directories with ownership the server account needs.
    public func prepareDirectories() throws {
        let manager = FileManager.default
        try manager.createDirectory(at: state.root, withIntermediateDirectories: true)
        chmod(state.root.path, 0o755)
        for directory in [state.dataDirectory, state.runDirectory, state.logDirectory, state.temporaryDirectory] {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
            if let account = serverAccount { chown(directory.path, account.uid, account.gid) }
        }
        chmod(state.dataDirectory.path, 0o750)
    }

    /// Initializes the data directory on first use (root gets an empty password, set by bootstrap).
    public func initializeIfNeeded() throws {
        guard !isInitialized else { return }
        let log = state.logDirectory.appendingPathComponent("install.log")
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
            throw ToolkitError("initializing \(state.dataDirectory.path) failed (exit \(status)); see \(log.path)")
        }
    }

    /// The server's pid when it is running.
    public func runningPID() -> pid_t? {
        guard let text = try? String(contentsOf: state.serverPIDFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
              ChildProcess.isAlive(pid) else { return nil }
        return pid
    }

    /// Starts the server in a session of its own and waits until it accepts connections.
    public func start(timeout: Duration = .seconds(90)) throws -> pid_t {
        let pid = try ChildProcess.spawn(serverBinary, ["--defaults-file=\(state.serverOptionFile.path)"],
                                         log: state.logDirectory.appendingPathComponent("mysqld.out"), detached: true)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            guard ChildProcess.isAlive(pid) else {
                throw ToolkitError("the server exited during start-up: \(lastErrorLine())")
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
    public func stop(crash: Bool = false, timeout: Duration = .seconds(60)) throws {
        guard let pid = runningPID() else { return }
        kill(pid, crash ? SIGKILL : SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while ChildProcess.isAlive(pid) {
            if clock.now >= deadline {
                kill(pid, SIGKILL)
                Thread.sleep(forTimeInterval: 0.2)
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        if crash { try? FileManager.default.removeItem(at: state.serverPIDFile) }
    }

    /// The last line the server wrote to its error log.
    public func lastErrorLine() -> String {
        let text = (try? String(contentsOf: state.serverLog, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n").filter { $0.contains("ERROR") }
        return lines.last.map(String.init) ?? "see \(state.serverLog.path)"
    }

    /// Removes what `up` created: data, logs, configuration. Nothing else in the directory.
    public func purge() throws {
        for entry in state.createdEntries where FileManager.default.fileExists(atPath: entry.path) {
            try FileManager.default.removeItem(at: entry)
        }
        if let remaining = try? FileManager.default.contentsOfDirectory(atPath: state.root.path), remaining.isEmpty {
            try? FileManager.default.removeItem(at: state.root)
        }
    }
}
