import Faults
import Foundation
import Infrastructure
import Logging
import Synchronization

/// What the agent changed outside itself (an iptables chain, a stopped server) and the faults it
/// has in force with their wall-clock deadlines, written down as they change so that the next
/// agent can undo what is over and put back what is not if this one dies. Lives in the agent's
/// own `run/`; read only when it is a regular file of ours (no symlink followed), replaced atomically.
final class LeftoverFile: Sendable {
    struct Contents: Codable {
        var iptables = false
        var serviceStopped = false
        var faults: ScheduleRecord?
    }

    let url: URL
    private let contents: Mutex<Contents>
    private let log = AgentLog.logger("agent.leftovers")

    init(url: URL) {
        self.url = url
        var existing: Contents?
        do {
            if let data = try OwnedPath.readTrusted(url, limit: 1 << 20) {
                existing = try JSONDecoder().decode(Contents.self, from: data)
            }
        } catch {
            // What is still in place outside (our chain, a stopped server) is found again at start;
            // the faults that were in force are not put back.
            log.error("the previous agent's record cannot be read; starting from nothing", metadata: ["file": "\(url.path)", "error": "\(error)"])
        }
        contents = Mutex(existing ?? Contents())
    }

    var iptables: Bool { contents.withLock { $0.iptables } }
    var serviceStopped: Bool { contents.withLock { $0.serviceStopped } }
    /// The faults the last agent had in force; nil when none was ever recorded.
    var faults: ScheduleRecord? { contents.withLock { $0.faults } }

    func record(iptables: Bool? = nil, serviceStopped: Bool? = nil, faults: ScheduleRecord? = nil) {
        let snapshot = contents.withLock { contents in
            if let iptables { contents.iptables = iptables }
            if let serviceStopped { contents.serviceStopped = serviceStopped }
            if let faults { contents.faults = faults }
            return contents
        }
        write(snapshot)
    }

    /// Forgets the faults: they are over (`toolkit down` with no agent to restore them).
    func forgetFaults() {
        let snapshot = contents.withLock { contents in
            contents.faults = nil
            return contents
        }
        write(snapshot)
    }

    /// A record that cannot be written leaves the next agent the previous one: logged.
    private func write(_ snapshot: Contents) {
        do { try JSONEncoder().encode(snapshot).write(to: url, options: .atomic) } catch {
            log.error("cannot record what the agent changed for a successor", metadata: ["file": "\(url.path)", "error": "\(error)"])
        }
    }

    /// Forgets the changes outside the agent (they were undone); the fault record stays.
    func clear() { record(iptables: false, serviceStopped: false) }
}
