import Foundation
import Testing

/// Two network namespaces of the test's own joined by a veth pair: the source (server, agent,
/// gateway, iptables rules) lives in one, the client in the other. Nothing touches the host's
/// own network or rules; both namespaces are deleted afterwards.
final class NamespacePair {
    let server: String
    let client: String
    let serverAddress: String
    let clientAddress: String

    static var capable: String? {
        if geteuid() != 0 { return "not root: network namespaces and iptables need root" }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") && !FileManager.default.isExecutableFile(atPath: "/sbin/ip") {
            return "iproute2 (ip) is not installed"
        }
        if !FileManager.default.isExecutableFile(atPath: "/usr/sbin/iptables") { return "iptables is not installed" }
        return nil
    }

    /// - Parameters:
    ///   - letter: tells apart the pairs of suites that run at the same time (names `tk<letter>-srv-<pid>`).
    ///   - network: the second octet of the pair's 10.x.y.0/30 addresses, one per suite.
    init(letter: Character = "t", network: Int = 213) throws {
        let tag = Int(getpid()) % 10_000
        server = "tk\(letter)-srv-\(tag)"
        client = "tk\(letter)-cli-\(tag)"
        let subnet = Int(getpid()) % 250 + 1
        serverAddress = "10.\(network).\(subnet).1"
        clientAddress = "10.\(network).\(subnet).2"
        let serverDevice = "tk\(letter)s\(tag)", clientDevice = "tk\(letter)c\(tag)"
        tearDown()
        try ip(["netns", "add", server])
        try ip(["netns", "add", client])
        try ip(["link", "add", serverDevice, "type", "veth", "peer", "name", clientDevice])
        try ip(["link", "set", serverDevice, "netns", server])
        try ip(["link", "set", clientDevice, "netns", client])
        try ip(["-n", server, "addr", "add", "\(serverAddress)/30", "dev", serverDevice])
        try ip(["-n", client, "addr", "add", "\(clientAddress)/30", "dev", clientDevice])
        for (namespace, device) in [(server, serverDevice), (client, clientDevice)] {
            try ip(["-n", namespace, "link", "set", device, "up"])
            try ip(["-n", namespace, "link", "set", "lo", "up"])
        }
    }

    func tearDown() {
        _ = try? Run.program(Self.ipPath, ["netns", "del", server])
        _ = try? Run.program(Self.ipPath, ["netns", "del", client])
    }

    static var ipPath: String { FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip" }

    @discardableResult
    func ip(_ arguments: [String]) throws -> Run {
        let run = try Run.program(Self.ipPath, arguments)
        guard run.status == 0 else { throw FixtureError("ip \(arguments.joined(separator: " ")): \(run.stderr)") }
        return run
    }

    /// Runs a program inside one of the namespaces.
    func exec(_ namespace: String, _ program: String, _ arguments: [String], environment: [String: String]? = nil,
              timeout: TimeInterval = 120) throws -> Run {
        try Run.program(Self.ipPath, ["netns", "exec", namespace, program] + arguments, environment: environment, timeout: timeout)
    }
}
