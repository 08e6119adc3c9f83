import AgentAPI
import Foundation
import Infrastructure
import Testing

/// An `sshd` of the test's own on a loopback port: host key, client key, authorized_keys and
/// configuration in a temporary directory; the account is root (PermitRootLogin in this config only).
final class SSHServer {
    let directory: URL
    let port: Int
    let clientKey: String
    let knownHosts: String
    private let process: Background
    private let createdPrivilegeDirectory: Bool

    static let sshd = "/usr/sbin/sshd"
    static var available: Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: sshd) && FileManager.default.isExecutableFile(atPath: "/usr/bin/ssh")
    }

    init(name: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-sshd-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, 0o700)
        let path = directory.path
        for key in ["host_key", "client_key"] {
            let run = try Run.program("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", "\(path)/\(key)"])
            guard run.status == 0 else { throw FixtureError("ssh-keygen: \(run.stderr)") }
        }
        clientKey = "\(path)/client_key"
        try FileManager.default.copyItem(atPath: "\(path)/client_key.pub", toPath: "\(path)/authorized_keys")
        port = PortProbe.ephemeral()
        let hostKey = try String(contentsOfFile: "\(path)/host_key.pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        knownHosts = "\(path)/known_hosts"
        try "[127.0.0.1]:\(port) \(hostKey)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        try """
        Port \(port)
        ListenAddress 127.0.0.1
        HostKey \(path)/host_key
        PidFile \(path)/sshd.pid
        AuthorizedKeysFile \(path)/authorized_keys
        PermitRootLogin prohibit-password
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        UsePAM no
        StrictModes no
        AllowTcpForwarding yes
        GatewayPorts no
        LogLevel VERBOSE

        """.write(toFile: "\(path)/sshd_config", atomically: true, encoding: .utf8)
        // sshd insists on its privilege-separation directory; Debian's service makes it at boot.
        createdPrivilegeDirectory = !FileManager.default.fileExists(atPath: "/run/sshd")
        if createdPrivilegeDirectory { try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true) }
        process = try Background(Self.sshd, ["-D", "-e", "-f", "\(path)/sshd_config"])
        let deadline = Date().addingTimeInterval(15)
        while PortProbe.isFree(port) {
            guard process.isRunning, Date() < deadline else {
                throw FixtureError("sshd did not listen on \(port): \(process.text)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    func tearDown() {
        kill(process.pid, SIGTERM)
        _ = process.waitFor(seconds: 5)
        if createdPrivilegeDirectory { try? FileManager.default.removeItem(atPath: "/run/sshd") }
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("Tunnels: ssh -R to an sshd of the test's own, through the gateway", .tags(.integration, .endToEnd), .serialized,
       .enabled(if: SSHServer.available, "needs root, /usr/sbin/sshd and /usr/bin/ssh (scripts/test-deps installs them)"))
struct TunnelTests {
    /// `mariadb -e QUERY` as the ETL user to 127.0.0.1:PORT (the tunnel's public end).
    func client(_ port: Int, _ query: String) throws -> Run {
        var environment = ProcessInfo.processInfo.environment
        environment["MYSQL_PWD"] = "hevopassword"
        return try Run.program("/usr/bin/mariadb", ["--protocol=tcp", "-h", "127.0.0.1", "-P", String(port), "-u", "hevo",
                                                    "--connect-timeout=5", "-N", "-B", "testdb", "-e", query],
                               environment: environment, timeout: 30)
    }

    func sshArguments(_ sshd: SSHServer, remotePort: Int) -> [String] {
        ["tunnel", "--provider", "ssh", "--host", "127.0.0.1", "--ssh-port", String(sshd.port), "--remote-port", String(remotePort),
         "--identity", sshd.clientKey, "--known-hosts", sshd.knownHosts]
    }

    @Test("a real client through the ssh tunnel; reject is seen and journaled; --stop and down stop only our ssh")
    func sshTunnelCarriesAClientAndAFault() throws {
        let source = try AgentFixture(name: "tunnel")
        defer { source.tearDown() }
        let sshd = try SSHServer(name: "tunnel")
        defer { sshd.tearDown() }
        let remotePort = PortProbe.ephemeral()

        // The fixture's passwords are the defaults: refused, nothing started.
        let refused = try source.toolkit(sshArguments(sshd, remotePort: remotePort), expect: 1)
        #expect(refused.stderr.contains("still the default") && refused.stderr.contains("--allow-default-passwords"))
        #expect(!FileManager.default.fileExists(atPath: source.state.runDirectory.appendingPathComponent("tunnel.json").path))
        #expect(PortProbe.isFree(remotePort))

        let started = try source.toolkit(sshArguments(sshd, remotePort: remotePort) + ["--allow-default-passwords", "--json"])
        #expect(started.stderr.contains("warning: exposing a source whose admin and ETL password is still the default"))
        let state = try JSONDecoder().decode(TunnelStatusJSON.self, from: Data(started.stdout.utf8))
        #expect(state.running && state.record?.publicHost == "127.0.0.1" && state.record?.publicPort == remotePort)
        #expect(state.record?.gatewayPort == source.port)
        let sshPID = try #require(state.record?.pid)
        #expect(ChildProcess.isAlive(sshPID))
        #expect(try source.toolkit(["status"]).stdout.contains("Tunnel     ssh, pid \(sshPID): public address 127.0.0.1:\(remotePort)"))
        #expect(try source.toolkit(["tunnel", "--status"]).stdout.contains("127.0.0.1:\(remotePort)"))
        // A second one is refused while the first runs.
        #expect(try source.toolkit(sshArguments(sshd, remotePort: remotePort) + ["--allow-default-passwords"], expect: 1)
            .stderr.contains("already running (pid \(sshPID))"))

        // A real client through sshd's end of the tunnel, the agent's gateway and the server.
        let through = try client(remotePort, "SELECT CONCAT('via ', @@port)")
        #expect(through.status == 0 && through.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "via \(source.serverPort)", "\(through.stderr)")

        // reject: the tunnel's far end still accepts, so the client loses the connection at the
        // handshake (2013) where a direct client is refused (2003); the gateway journals the refusal.
        try source.toolkit(["network", "--down", "--type", "reject"])
        let failed = try client(remotePort, "SELECT 1")
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("ERROR 2013") && failed.stderr.contains("handshake"), "\(failed.stderr)")
        var attempts = 0
        let deadline = Date().addingTimeInterval(15)
        while attempts == 0 && Date() < deadline {
            attempts = try source.agentStatus().windows.last?.attempts.total ?? 0
            if attempts == 0 { Thread.sleep(forTimeInterval: 0.2) }
        }
        #expect(attempts >= 1, "the refused connect through the tunnel is journaled")
        #expect(try source.agentStatus().windows.last?.fault.type == .reject)
        try source.toolkit(["network", "--up"])
        let back = try client(remotePort, "SELECT 1")
        #expect(back.status == 0, "\(back.stderr)")

        // --stop stops our ssh (by pid), and the public end closes.
        try source.toolkit(["tunnel", "--stop"])
        #expect(!ChildProcess.isAlive(sshPID))
        let closeDeadline = Date().addingTimeInterval(10)
        while !PortProbe.isFree(remotePort) && Date() < closeDeadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(PortProbe.isFree(remotePort))
        #expect(try source.toolkit(["tunnel", "--status"]).stdout.contains("Tunnel     none"))

        // down stops a running tunnel too.
        let again = try source.toolkit(sshArguments(sshd, remotePort: remotePort) + ["--allow-default-passwords", "--json"])
        let againPID = try #require(try JSONDecoder().decode(TunnelStatusJSON.self, from: Data(again.stdout.utf8)).record?.pid)
        try source.toolkit(["down"])
        #expect(!ChildProcess.isAlive(againPID))
    }

    @Test("the tunnel's port flag and missing programs and tokens are refused clearly, nothing started")
    func refusals() throws {
        let source = try AgentFixture(name: "tunnel-refusals")
        defer { source.tearDown() }
        let serverPort = try source.toolkit(["tunnel", "--provider", "ngrok", "--port", String(source.serverPort)], expect: 2)
        #expect(serverPort.stderr.contains("--port must be the gateway's port \(source.port)"))

        var noPrograms = source.environment
        noPrograms["PATH"] = "/nonexistent"
        noPrograms["NGROK_AUTHTOKEN"] = "t"
        let missing = try Run.toolkit(["tunnel", "--provider", "ngrok", "--allow-default-passwords"], environment: noPrograms)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("ngrok is not installed"), "\(missing.stderr)")
        let missingCloudflared = try Run.toolkit(["expose", "--provider", "cloudflare", "--hostname", "db.example.com", "--allow-default-passwords"],
                                                 environment: noPrograms)
        #expect(missingCloudflared.status == 1 && missingCloudflared.stderr.contains("cloudflared is not installed"))
        #expect(!FileManager.default.fileExists(atPath: source.state.runDirectory.appendingPathComponent("tunnel.json").path))
    }
}

@Suite("Tunnel flags: tokens never on argv", .tags(.integration))
struct TunnelFlagTests {
    let environment = ["PATH": "/usr/bin:/bin", "TOOLKIT_HOME": "/nonexistent-toolkit-home"]

    @Test("--authtoken and --token are refused with the environment variable to use; expose is the same command")
    func tokensOnArgvAreRefused() throws {
        let authtoken = try Run.toolkit(["expose", "--provider", "ngrok", "--authtoken", "abc"], environment: environment)
        #expect(authtoken.status == 2)
        #expect(authtoken.stderr.split(separator: "\n").count == 1 && authtoken.stderr.contains("NGROK_AUTHTOKEN"))
        let token = try Run.toolkit(["tunnel", "--provider", "cloudflare", "--token", "abc"], environment: environment)
        #expect(token.status == 2 && token.stderr.contains("TUNNEL_TOKEN"))
    }

    @Test("bad flag combinations name the flag", arguments: [
        (["tunnel"], "needs --provider"),
        (["tunnel", "--provider", "ssh"], "--provider ssh needs --host"),
        (["tunnel", "--provider", "ssh", "--host=-oProxyCommand=x"], "--provider ssh needs --host"),
        (["tunnel", "--provider", "ngrok", "--host", "h"], "--host goes only with --provider ssh"),
        (["tunnel", "--provider", "cloudflare"], "needs --hostname"),
        (["tunnel", "--status", "--stop"], "go one at a time"),
        (["tunnel", "--provider", "ssh", "--host", "h", "--remote-port", "0"], "--remote-port must be a port number"),
    ])
    func badFlags(arguments: [String], message: String) throws {
        let run = try Run.toolkit(arguments, environment: environment)
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }

    @Test("no source: the tunnel says to start one first, exit 1")
    func noSource() throws {
        let run = try Run.toolkit(["tunnel", "--provider", "ssh", "--host", "h"], environment: environment)
        #expect(run.status == 1 && run.stderr.contains("toolkit up"))
    }
}

/// `tunnel --json`'s shape, decoded without depending on the Tunnels module's types.
struct TunnelStatusJSON: Decodable {
    struct Record: Decodable {
        var pid: Int32
        var publicHost: String?
        var publicPort: Int?
        var gatewayPort: Int
        enum CodingKeys: String, CodingKey { case pid, publicHost = "public_host", publicPort = "public_port", gatewayPort = "gateway_port" }
    }
    var running: Bool
    var record: Record?
}
