import Foundation
import Infrastructure
import Testing

@Suite("The gateway needs no capability", .tags(.integration))
struct GatewayCapabilityTests {
    /// TCP_NODELAY must be set at IPPROTO_TCP: set at SOL_SOCKET the same number is SO_DEBUG,
    /// which needs CAP_NET_ADMIN, and the gateway then closed every connection it accepted — in a
    /// container without NET_ADMIN, or as any account but root.
    @Test("a client gets through the gateway of an agent without CAP_NET_ADMIN",
          .enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                   "needs root to drop CAP_NET_ADMIN with setpriv"))
    func clientThroughGatewayWithoutNetAdmin() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-nocap-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = root.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD", "MYSQL_DATABASE", "MYSQL_ROOT_PASSWORD"] { env[name] = nil }
        let port = PortProbe.ephemeral()
        let up = try Run.program("/usr/bin/setpriv", ["--bounding-set=-net_admin", Run.toolkitPath, "up", "--port", String(port),
                                                      "--backend", "gateway", "--listen", "127.0.0.1"], environment: env)
        defer {
            _ = try? Run.toolkit(["down", "--purge"], environment: env)
            try? FileManager.default.removeItem(at: root)
        }
        try #require(up.status == 0, "toolkit up: \(up.stderr)")
        let client = try Run.program("/usr/bin/mariadb", [
            "--protocol=tcp", "-h", "127.0.0.1", "-P", String(port), "-u", "hevo", "-N", "-B", "testdb", "-e", "SELECT 41 + 1",
        ], environment: ["MYSQL_PWD": "hevopassword", "PATH": "/usr/bin:/bin"], timeout: 30)
        #expect(client.status == 0, "\(client.stderr)")
        #expect(client.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "42")
    }
}
