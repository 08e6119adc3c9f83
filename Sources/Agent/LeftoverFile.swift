import Foundation
import Synchronization

/// What the agent changed outside itself (an iptables chain, a stopped server), written down
/// as it happens so that the next agent can undo it if this one dies.
final class LeftoverFile: Sendable {
    struct Contents: Codable {
        var iptables = false
        var serviceStopped = false
    }

    let url: URL
    private let contents: Mutex<Contents>

    init(url: URL) {
        self.url = url
        let existing = (try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode(Contents.self, from: $0) }
        contents = Mutex(existing ?? Contents())
    }

    var iptables: Bool { contents.withLock { $0.iptables } }
    var serviceStopped: Bool { contents.withLock { $0.serviceStopped } }

    func record(iptables: Bool? = nil, serviceStopped: Bool? = nil) {
        let snapshot = contents.withLock { contents in
            if let iptables { contents.iptables = iptables }
            if let serviceStopped { contents.serviceStopped = serviceStopped }
            return contents
        }
        if let data = try? JSONEncoder().encode(snapshot) { try? data.write(to: url, options: .atomic) }
    }

    func clear() { record(iptables: false, serviceStopped: false) }
}
