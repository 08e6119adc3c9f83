import Agent
import AgentAPI
import Foundation
import Infrastructure
import Measurements

/// `network --up` when no agent runs, e.g. one killed during a fault: starting a new agent undoes
/// what its predecessor left (its iptables chain, a server a service fault stopped); then the
/// new agent restores everything else. A step that fails is an error (exit 1), never a success.
struct AgentRecovery {
    let state: StateDirectory

    func restoreWithoutAgent() throws -> RecoveredNetwork {
        guard try SourceConfig.load(from: state.configFile) != nil else {
            throw ToolkitError("no source is configured in \(state.root.path), so there is no agent to restore anything; run `toolkit up`")
        }
        let pid = try AgentProcess.start(state: state, executable: BackendChoice.selfExecutable(), progress: { writeError("\($0)") })
        let client = try AgentDiscovery.client(state: state)
        let answer = try agentCall { () throws(AgentClient.Failure) in
            try client.restoreAll()
        }
        return RecoveredNetwork(agentPID: pid, undone: undoneAtStart(by: pid), status: answer)
    }

    /// What the agent `pid` undid when it started, from its start-up note in the journal.
    func undoneAtStart(by pid: pid_t) -> [String] {
        let note = JournalDirectory(state: state).lastEvents(1_000).last {
            $0.kind == .note && ($0.detail ?? "").hasPrefix("agent started (pid \(pid),")
        }
        return (note?.detail ?? "").components(separatedBy: "; ").dropFirst().map { $0 }
    }
}

/// `network --up` that had to start the agent first: what the new agent undid, then its status.
struct RecoveredNetwork: Encodable, CustomStringConvertible {
    var agentPID: pid_t
    var undone: [String]
    var status: AgentStatus

    enum CodingKeys: String, CodingKey {
        case undone, status
        case agentPID = "agent_started"
    }

    var description: String {
        let what = undone.isEmpty ? "it found nothing of a predecessor's to undo" : "it " + undone.joined(separator: ", ")
        return "Agent      no agent was running: started one (pid \(agentPID)); \(what)\n" + NetworkView(status).description
    }
}
