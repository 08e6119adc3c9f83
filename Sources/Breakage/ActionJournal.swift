import AgentAPI
import Source

/// Writes what a breakage command did into the agent's journal (`POST /notes`), so that it shows
/// on the same timeline as the network faults. Without a running agent it does nothing.
public enum ActionJournal {
    public static func note(_ target: Target, command: String, _ detail: String) {
        guard let state = target.state, let client = try? AgentDiscovery.client(state: state) else { return }
        _ = try? client.note(JournalNote(command: command, detail: detail))
    }
}
