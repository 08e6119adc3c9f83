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

    /// Starts the agent under its supervisor (`toolkit agent --supervise`, in a session of its own)
    /// unless a supervisor already runs (it may be starting the agent again), waits until the
    /// agent's control API answers, and returns the agent's pid.
    public static func start(state: StateDirectory, executable: String, timeout: Duration = .seconds(20)) throws -> pid_t {
        let log = state.logDirectory.appendingPathComponent("agent.log")
        try state.prepareOwnDirectories()
        let supervisor = try AgentSupervisor.running(state: state)?.pid
            ?? ChildProcess.spawn(executable, ["agent", "--supervise", "--home", state.root.path], log: log, detached: true)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            guard ChildProcess.isAlive(supervisor) else {
                let lines = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n") ?? []
                let tail = lines.last { !$0.contains(" supervisor: ") }.map(String.init) ?? ""
                throw ToolkitError("the agent exited during start-up: \(tail)")
            }
            if let client = try? client(state: state), let status = try? client.get("/status", as: AgentStatus.self) {
                return status.pid
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        signalSupervisor(state: state, SIGTERM)
        throw ToolkitError("the agent did not answer within \(timeout); see \(log.path)")
    }

    /// Signals the supervisor, only while the process recorded in `run/` is that very supervisor.
    @discardableResult
    static func signalSupervisor(state: StateDirectory, _ number: Int32) -> pid_t? {
        guard let supervisor = AgentSupervisor.running(state: state) else { return nil }
        kill(supervisor.pid, number)
        return supervisor.pid
    }

    /// Stops the supervisor (so nothing starts the agent again), asks the agent to restore
    /// everything and exit, and kills either if it does not go.
    public static func stop(state: StateDirectory, timeout: Duration = .seconds(30)) {
        let supervisor = signalSupervisor(state: state, SIGTERM)
        let agent = runningPID(state: state)
        if let agent {
            if let client = try? client(state: state) {
                _ = try? client.post("/shutdown", Empty(), as: AgentStatus.self)
            } else {
                kill(agent, SIGTERM)
            }
        }
        let running = [agent, supervisor].compactMap { $0 }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while running.contains(where: ChildProcess.isAlive) && clock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if let agent, ChildProcess.isAlive(agent) { kill(agent, SIGKILL) }
        if supervisor != nil { signalSupervisor(state: state, SIGKILL) }
        // An agent that could not restore (killed) leaves its faults recorded: after `down` no
        // later agent may put them back. What they changed outside is still undone at its start.
        if FileManager.default.fileExists(atPath: state.leftoverFile.path) {
            LeftoverFile(url: state.leftoverFile).forgetFaults()
        }
    }

    struct Empty: Codable {}
}
