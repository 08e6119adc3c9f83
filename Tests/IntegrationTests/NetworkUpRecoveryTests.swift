import AgentAPI
import Foundation
import Infrastructure
import MariaDB
import Source
import Testing

/// `network --up` from any state, including an agent and its supervisor killed (SIGKILL) in the middle of a fault:
/// it starts the agent again, which undoes what its predecessor left, and says so; a restore
/// step that fails is exit 1, never success.
@Suite("network --up from any state; an agent's failure is exit 1", .tags(.integration, .slow), .serialized)
struct NetworkUpRecoveryTests {
    /// A login through the gateway, as the ETL tool makes it.
    static func etlLogin(port: Int) -> Bool {
        guard let connection = try? MariaDBConnection(ConnectionOptions(
            host: "127.0.0.1", port: port, user: "hevo", password: "hevopassword", database: "testdb", connectTimeoutSeconds: 3))
        else { return false }
        connection.close()
        return true
    }

    /// Kills the agent and its supervisor (which would start it again), so that no agent runs.
    static func killAgent(_ fixture: AgentFixture) throws {
        let supervisor = try #require(AgentCrashTests.supervisor(fixture.state))
        AgentCrashTests.kill9(supervisor.pid)
        let pid = try #require(fixture.agentPID)
        kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        while kill(pid, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(kill(pid, 0) != 0, "the agent survived SIGKILL")
    }

    @Test("down after the agent and its supervisor were killed during a reject leaves no chain of ours")
    func downRemovesADeadAgentsChain() throws {
        let fixture = try AgentFixture(name: "dead-down")
        defer { fixture.tearDown() }
        try fixture.toolkit(["network", "--down", "--type", "reject"])
        let chain = "TOOLKIT-\(fixture.port)"
        func rules() throws -> String { try Run.program("/usr/sbin/iptables", ["-w", "-S"]).stdout }
        #expect(try rules().contains(chain), "a root agent logs refused connects through a chain of its own")
        try Self.killAgent(fixture)
        #expect(try rules().contains(chain))
        try fixture.toolkit(["down"])
        #expect(!(try rules().contains(chain)))
    }

    @Test("a service fault whose agent was killed: --up restarts the agent and the server; a failed restart is exit 1")
    func serviceFaultWithKilledAgent() throws {
        let fixture = try AgentFixture(name: "recovery")
        defer { fixture.tearDown() }
        let server = try ManagedServer.locate(state: fixture.state)

        try fixture.toolkit(["network", "--down", "--type", "service"])
        #expect(server.runningPID() == nil)
        try Self.killAgent(fixture)
        #expect(!Self.etlLogin(port: fixture.port))

        // The server cannot start while something else holds its port: the step fails, and says so.
        let blocker = try LoopbackListener(port: fixture.serverPort)
        let failed = try fixture.toolkit(["network", "--up"], expect: 1)
        #expect(failed.stderr.split(separator: "\n").count == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("server"), "\(failed.stderr)")
        #expect(failed.stdout.isEmpty)
        blocker.close()

        // The agent that attempt started put the service fault back (it was in force) and runs on.
        let recovered = try fixture.toolkit(["network", "--up"])
        #expect(!recovered.stdout.contains("no agent was running"), "\(recovered.stdout)")
        #expect(recovered.stdout.contains("Network    clear"), "\(recovered.stdout)")
        #expect(server.runningPID() != nil)
        #expect(Self.etlLogin(port: fixture.port), "the port works again")
        #expect(try fixture.agentStatus().faults.isEmpty)

    }

    @Test("a restore step the agent reports failed (500) is exit 1 with its one line, not success")
    func agentFailureIsExitOne() throws {
        let fixture = try AgentFixture(name: "agent-500")
        defer { fixture.tearDown() }
        let server = try ManagedServer.locate(state: fixture.state)
        try fixture.toolkit(["network", "--down", "--type", "service"])
        #expect(server.runningPID() == nil)

        // Replacing the service fault restarts the server first, which cannot bind its port now.
        let blocker = try LoopbackListener(port: fixture.serverPort)
        let failed = try fixture.toolkit(["network", "--down", "--type", "reject"], expect: 1)
        #expect(failed.stderr.split(separator: "\n").count == 1, "\(failed.stderr)")
        #expect(failed.stderr.contains("server"), "\(failed.stderr)")
        #expect(failed.stdout.isEmpty)
        blocker.close()

        try fixture.toolkit(["network", "--up"])
        #expect(server.runningPID() != nil)
        #expect(Self.etlLogin(port: fixture.port), "the port works again")
    }

    @Test("an iptables reject whose agent was killed: --up removes the chain, keeps other rules, and the port works",
          .enabled(if: NamespacePair.capable == nil, "network namespaces and iptables need root, ip and iptables"))
    func iptablesRejectWithKilledAgent() throws {
        let namespaces = try NamespacePair(letter: "r", network: 214)
        defer { namespaces.tearDown() }
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-recovery-netns-\(getpid())")
        try? FileManager.default.removeItem(at: home)
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = home.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD"] { env[name] = nil }
        let port = 3306
        @discardableResult
        func toolkit(_ arguments: [String], expect: Int32 = 0) throws -> Run {
            let run = try namespaces.exec(namespaces.server, Run.toolkitPath, arguments, environment: env)
            #expect(run.status == expect, "toolkit \(arguments.joined(separator: " ")): \(run.stderr)")
            return run
        }
        func rules() throws -> String { try namespaces.exec(namespaces.server, "/usr/sbin/iptables", ["-w", "-S"]).stdout }
        func clientConnects() throws -> Bool {
            var clientEnv = ProcessInfo.processInfo.environment
            clientEnv["MYSQL_PWD"] = "hevopassword"
            return try namespaces.exec(namespaces.client, "/usr/bin/mariadb", [
                "-h", namespaces.serverAddress, "-P", String(port), "-u", "hevo", "--connect-timeout=3", "testdb", "-e", "SELECT 1",
            ], environment: clientEnv, timeout: 30).status == 0
        }
        let ownRule = "-A INPUT -s 192.0.2.78/32 -p tcp -j DROP"
        _ = try namespaces.exec(namespaces.server, "/usr/sbin/iptables", ["-w", "-A", "INPUT", "-s", "192.0.2.78/32", "-p", "tcp", "-j", "DROP"])

        try toolkit(["up", "--port", String(port), "--listen", "0.0.0.0", "--backend", "iptables"])
        defer { _ = try? toolkit(["down", "--purge"]) }
        try toolkit(["network", "--down", "--type", "reject"])
        AgentCrashTests.kill9(try #require(AgentCrashTests.supervisor(StateDirectory(root: home))).pid)
        let agentPID = try #require(pid_t((try String(contentsOf: home.appendingPathComponent("run/agent.pid"), encoding: .utf8))
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(agentPID, SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        while kill(agentPID, 0) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(try rules().contains("TOOLKIT-\(port)"), "the killed agent's REJECT is still in place")
        #expect(try !clientConnects())

        let recovered = try toolkit(["network", "--up"])
        #expect(recovered.stdout.contains("no agent was running: started one"), "\(recovered.stdout)")
        #expect(recovered.stdout.contains("Network    clear"), "\(recovered.stdout)")
        let after = try rules()
        #expect(!after.contains("TOOLKIT-"))
        #expect(after.contains(ownRule))
        #expect(try clientConnects(), "the port works again")
    }
}

/// A listening TCP socket on 127.0.0.1:port of the test's own, to hold a port.
final class LoopbackListener {
    private var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 4) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { Glibc.close(fd) }
            throw FixtureError("cannot listen on 127.0.0.1:\(port): \(reason)")
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}
