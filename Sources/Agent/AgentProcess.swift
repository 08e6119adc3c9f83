import AgentAPI
import Foundation
import Source

/// Starting, finding and stopping the agent process of a state directory.
public enum AgentProcess {
    public static func runningPID(state: StateDirectory) -> pid_t? {
        guard let text = try? String(contentsOf: state.agentPIDFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
              ChildProcess.isAlive(pid) else { return nil }
        return pid
    }

    /// The control client of the running agent, or a one-line error saying why there is none: no agent,
    /// or a `run/` directory this account may not use or must not trust.
    public static func client(state: StateDirectory) throws -> ControlClient {
        if access(state.runDirectory.path, X_OK) != 0 && errno == EACCES {
            throw ToolkitError("\(state.runDirectory.path) is not this account's: only the account that started the agent can drive it")
        }
        guard runningPID(state: state) != nil else {
            throw ToolkitError("no agent is running for \(state.root.path); start it with `toolkit up`")
        }
        try OwnedPath.requireTrusted(directory: state.runDirectory)
        let configured = try SourceConfig.load(from: state.configFile)?.control ?? "unix"
        switch ControlAddress(configured) {
        case .unixSocket, nil:
            let socket = state.agentSocketFile.path
            var info = stat()
            if lstat(socket, &info) == 0, info.st_mode & S_IFMT != S_IFSOCK || (info.st_uid != geteuid() && info.st_uid != 0) {
                throw ToolkitError("\(socket) is not a socket of this account's (uid \(info.st_uid)); refusing to talk to it")
            }
            return ControlClient(endpoint: .unix(path: socket))
        case .tcp(let host, let port):
            guard let token = try OwnedPath.readTrusted(state.agentTokenFile, limit: 256) else {
                throw ToolkitError("the agent listens on tcp:\(host):\(port) but \(state.agentTokenFile.path) is missing")
            }
            let reachable = host == "0.0.0.0" ? "127.0.0.1" : host
            return ControlClient(endpoint: .tcp(host: reachable, port: port,
                                               token: String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }

    /// Starts `toolkit agent` in a session of its own and waits until its control API answers.
    public static func start(state: StateDirectory, executable: String, timeout: Duration = .seconds(20)) throws -> pid_t {
        let log = state.logDirectory.appendingPathComponent("agent.log")
        try state.prepareOwnDirectories()
        let pid = try ChildProcess.spawn(executable, ["agent", "--home", state.root.path], log: log, detached: true)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            guard ChildProcess.isAlive(pid) else {
                let tail = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").last.map(String.init) ?? ""
                throw ToolkitError("the agent exited during start-up: \(tail)")
            }
            if let client = try? client(state: state), (try? client.get("/status", as: AgentStatus.self)) != nil {
                return pid
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(pid, SIGTERM)
        throw ToolkitError("the agent did not answer within \(timeout); see \(log.path)")
    }

    /// Asks the agent to restore everything and exit; kills it if it does not go.
    public static func stop(state: StateDirectory, timeout: Duration = .seconds(30)) {
        guard let pid = runningPID(state: state) else { return }
        if let client = try? client(state: state) {
            _ = try? client.post("/shutdown", Empty(), as: AgentStatus.self)
        } else {
            kill(pid, SIGTERM)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while ChildProcess.isAlive(pid) && clock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if ChildProcess.isAlive(pid) { kill(pid, SIGKILL) }
    }

    struct Empty: Codable {}
}
