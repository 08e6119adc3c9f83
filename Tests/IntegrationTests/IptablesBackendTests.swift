import AgentAPI
import Faults
import Foundation
import Source
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

    init() throws {
        let tag = Int(getpid()) % 10_000
        server = "tkt-srv-\(tag)"
        client = "tkt-cli-\(tag)"
        let subnet = Int(getpid()) % 250 + 1
        serverAddress = "10.213.\(subnet).1"
        clientAddress = "10.213.\(subnet).2"
        tearDown()
        try ip(["netns", "add", server])
        try ip(["netns", "add", client])
        try ip(["link", "add", "tkv-s\(tag)", "type", "veth", "peer", "name", "tkv-c\(tag)"])
        try ip(["link", "set", "tkv-s\(tag)", "netns", server])
        try ip(["link", "set", "tkv-c\(tag)", "netns", client])
        try ip(["-n", server, "addr", "add", "\(serverAddress)/30", "dev", "tkv-s\(tag)"])
        try ip(["-n", client, "addr", "add", "\(clientAddress)/30", "dev", "tkv-c\(tag)"])
        for (namespace, device) in [(server, "tkv-s\(tag)"), (client, "tkv-c\(tag)")] {
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

@Suite("iptables backend: kernel REJECT and DROP in a chain of our own", .tags(.integration, .slow), .serialized)
struct IptablesBackendTests {
    @Test("reject and timeout hit a client in another namespace; --up and a crashed agent leave nothing behind")
    func kernelFaults() throws {
        if let reason = NamespacePair.capable {
            print("skipped: \(reason)")
            return
        }
        let namespaces = try NamespacePair()
        defer { namespaces.tearDown() }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-netns-\(getpid())")
        try? FileManager.default.removeItem(at: home)
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = home.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD"] { env[name] = nil }
        let port = 3306
        func toolkit(_ arguments: [String], expect: Int32 = 0) throws -> Run {
            let run = try namespaces.exec(namespaces.server, Run.toolkitPath, arguments, environment: env)
            #expect(run.status == expect, "toolkit \(arguments.joined(separator: " ")): \(run.stderr)")
            return run
        }
        func iptablesRules() throws -> String {
            try namespaces.exec(namespaces.server, "/usr/sbin/iptables", ["-w", "-S"]).stdout
        }
        /// A plain connect from the client namespace with the mysql client; returns (exit status, seconds, stderr).
        func clientConnect() throws -> (Int32, Double, String) {
            var clientEnv = ProcessInfo.processInfo.environment
            clientEnv["MYSQL_PWD"] = "hevopassword"
            let start = Date()
            let run = try namespaces.exec(namespaces.client, "/usr/bin/mariadb", [
                "-h", namespaces.serverAddress, "-P", String(port), "-u", "hevo", "--connect-timeout=3", "testdb", "-e", "SELECT 1",
            ], environment: clientEnv, timeout: 30)
            return (run.status, Date().timeIntervalSince(start), run.stderr)
        }

        // A rule of the test's own, which nothing of ours may remove.
        let ownRule = ["-s", "192.0.2.77/32", "-p", "tcp", "-j", "DROP"]
        _ = try namespaces.exec(namespaces.server, "/usr/sbin/iptables", ["-w", "-A", "INPUT"] + ownRule)
        let ownRuleText = "-A INPUT -s 192.0.2.77/32 -p tcp -j DROP"

        try toolkit(["up", "--port", String(port), "--listen", "0.0.0.0", "--backend", "iptables"])
        defer { _ = try? toolkit(["down", "--purge"]) }
        #expect(try clientConnect().0 == 0)

        // reject: refused at once, counted by our chain.
        try toolkit(["network", "--down", "--type", "reject"])
        #expect(try iptablesRules().contains("-A INPUT -p tcp -m tcp --dport \(port) -j TOOLKIT-\(port)"))
        let (refusedStatus, refusedAfter, refusedMessage) = try clientConnect()
        #expect(refusedStatus != 0)
        #expect(refusedAfter < 2, "refused at once, not after a timeout: \(refusedMessage)")
        Thread.sleep(forTimeInterval: 0.5)
        try toolkit(["network", "--up"])
        var window = try #require(try JSONDecoder().decode(AgentStatus.self, from: Data(toolkit(["network", "--status", "--json"]).stdout.utf8)).windows.last)
        #expect(window.fault.type == .reject)
        #expect(window.attempts.total >= 1)
        #expect(window.detection?.event == .connRefused)
        var rules = try iptablesRules()
        #expect(!rules.contains("TOOLKIT-"))
        #expect(rules.contains(ownRuleText))
        #expect(try clientConnect().0 == 0)

        // timeout (DROP): the client's connect hangs until its own timeout.
        try toolkit(["network", "--down", "--type", "timeout"])
        let (droppedStatus, droppedAfter, _) = try clientConnect()
        #expect(droppedStatus != 0)
        #expect(droppedAfter >= 2.5, "nothing answered until the client's 3 s connect timeout")
        try toolkit(["network", "--up"])
        window = try #require(try JSONDecoder().decode(AgentStatus.self, from: Data(toolkit(["network", "--status", "--json"]).stdout.utf8)).windows.last)
        #expect(window.fault.type == .timeout)
        #expect(window.attempts.total >= 1, "dropped SYNs are counted")

        // A crashed agent leaves its chain; the next agent removes it and nothing else.
        try toolkit(["network", "--down", "--type", "reject"])
        let agentPID = try #require(pid_t((try String(contentsOf: home.appendingPathComponent("run/agent.pid"), encoding: .utf8))
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(agentPID, SIGKILL)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try iptablesRules().contains("TOOLKIT-\(port)"))
        try toolkit(["up", "--port", String(port), "--listen", "0.0.0.0", "--backend", "iptables"])
        rules = try iptablesRules()
        #expect(!rules.contains("TOOLKIT-"))
        #expect(rules.contains(ownRuleText))
        #expect(try clientConnect().0 == 0)
        let journal = try toolkit(["events", "--last", "0"]).stdout
        #expect(journal.contains("removed iptables chain TOOLKIT-\(port)"))
    }
}
