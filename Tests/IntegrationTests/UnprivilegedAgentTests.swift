import AgentAPI
import Faults
import Foundation
import Infrastructure
import Testing

@Suite("An agent that may not change iptables", .tags(.integration, .slow), .serialized)
struct UnprivilegedAgentTests {
    /// Without CAP_NET_ADMIN the kernel refuses connects to the closed listener unseen: the
    /// window must say the attempts were not observed rather than report "none".
    @Test("gateway reject without CAP_NET_ADMIN: refused connects are flagged as not observed")
    func refusalsAreFlaggedUnobserved() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-unpriv-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = root.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD", "MYSQL_DATABASE"] { env[name] = nil }
        let port = PortProbe.ephemeral()
        // As root, the agent (and everything `up` starts) runs without NET_ADMIN in its bounding set.
        let launcher = geteuid() == 0 ? ["/usr/bin/setpriv", "--bounding-set=-net_admin"] : []
        let command = launcher + [Run.toolkitPath, "up", "--port", String(port), "--backend", "gateway", "--listen", "127.0.0.1"]
        let up = try Run.program(command[0], Array(command.dropFirst()), environment: env)
        defer {
            _ = try? Run.toolkit(["down", "--purge"], environment: env)
            try? FileManager.default.removeItem(at: root)
        }
        try #require(up.status == 0, "toolkit up: \(up.stderr)")

        #expect(try Run.toolkit(["network", "--down", "--type", "reject"], environment: env).status == 0)
        let refused = try Run.program("/usr/bin/mariadb", [
            "-h", "127.0.0.1", "-P", String(port), "-u", "hevo", "--connect-timeout=3", "testdb", "-e", "SELECT 1",
        ], environment: ["MYSQL_PWD": "hevopassword", "PATH": "/usr/bin:/bin"], timeout: 30)
        #expect(refused.status != 0)
        #expect(try Run.toolkit(["network", "--up"], environment: env).status == 0)

        let status = try JSONDecoder().decode(
            AgentStatus.self, from: Data(try Run.toolkit(["network", "--status", "--json"], environment: env).stdout.utf8))
        let window = try #require(status.windows.last)
        #expect(window.fault.type == .reject)
        #expect(window.attempts.unobserved != nil)
        #expect(window.attempts.total == 0)
        let text = try Run.toolkit(["network", "--status"], environment: env).stdout
        #expect(text.contains("refused connects not observed"), "\(text)")
    }
}
