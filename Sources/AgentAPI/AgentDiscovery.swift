import Foundation
import Infrastructure

/// Finding the agent of a state directory, and a control client for it. Commands that only talk
/// to the agent depend on this module, never on the agent itself.
public enum AgentDiscovery {
    public static func runningPID(state: StateDirectory) -> pid_t? {
        guard let text = try? String(contentsOf: state.agentPIDFile, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0,
              ChildProcess.isAlive(pid) else { return nil }
        return pid
    }

    /// The control client of the running agent, or a one-line error saying why there is none: no agent,
    /// or a `run/` directory this account may not use or must not trust.
    public static func client(state: StateDirectory) throws -> AgentClient {
        if access(state.runDirectory.path, X_OK) != 0 && errno == EACCES {
            throw ToolkitError("\(state.runDirectory.path) is not this account's: only the account that started the agent can drive it")
        }
        guard runningPID(state: state) != nil else {
            throw ToolkitError("no agent is running for \(state.root.path); start it with `toolkit up`")
        }
        try OwnedPath.requireTrusted(directory: state.runDirectory)
        let configured = try SourceConfig.load(from: state.configFile)?.control ?? "unix"
        // The Unix socket is always there for the owner, also when the agent serves TCP: a flood
        // on the TCP port never takes the owner's control away.
        let socket = state.agentSocketFile.path
        var info = stat()
        if lstat(socket, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK, info.st_uid == geteuid() || info.st_uid == 0 else {
                throw ToolkitError("\(socket) is not a socket of this account's (uid \(info.st_uid)); refusing to talk to it")
            }
            return AgentClient(endpoint: .unix(path: socket))
        }
        switch ControlAddress(configured) {
        case .unixSocket, nil:
            return AgentClient(endpoint: .unix(path: socket))
        case .tcp(let host, let port):
            guard let token = try OwnedPath.readTrusted(state.agentTokenFile, limit: 256) else {
                throw ToolkitError("the agent listens on tcp:\(host):\(port) but \(state.agentTokenFile.path) is missing")
            }
            let reachable = host == "0.0.0.0" ? "127.0.0.1" : host
            return AgentClient(endpoint: .tcp(host: reachable, port: port,
                                               token: String(decoding: token, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
    }
}
