import Foundation
import Infrastructure
import MariaDB
import Pipeline
import Source
import Testing

extension AgentFixture {
    /// One source with its agent (`toolkit up`), shared by the suites that only need one running:
    /// torn down (with its replica) when the test process exits.
    static let sharedForChecks: AgentFixture = {
        do {
            let fixture = try AgentFixture(name: "checks")
            atexit {
                _ = try? Run.toolkit(["pipeline", "down", "--purge"], environment: AgentFixture.sharedForChecks.environment)
                AgentFixture.sharedForChecks.tearDown()
            }
            return fixture
        } catch { fatalError("cannot start the test source: \(error)") }
    }()
}

/// The managed replica is the destination every verdict is about: no other local account may
/// write to it. Checked as `nobody` with the `mariadb` client.
@Suite("The managed replica: its root needs the source's admin password; pipeline status never hangs",
       .tags(.integration, .endToEnd, .slow), .serialized,
       .enabled(if: geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs root to act as nobody"))
struct ReplicaAccessTests {
    let source = AgentFixture.sharedForChecks
    var pipeline: ReplicaPipeline { ReplicaPipeline(home: source.state) }

    /// `mariadb -u root` as nobody against the replica; `password` nil gives none.
    func asNobody(_ target: [String], password: String?) throws -> Run {
        try Account.nobody.run("/usr/bin/mariadb", ["--no-defaults", "--connect-timeout=5", "-u", "root",
                                                     "--password=\(password ?? "")"] + target + ["-N", "-e", "SELECT CURRENT_USER()"])
    }

    func waitUntilReplicating() throws {
        try Poll.until(seconds: 60, "the replica to replicate") { (try? pipeline.status())?.replicating == true }
    }

    @Test("as nobody: root over 127.0.0.1 without the password is denied, with it allowed; the socket is out of reach")
    func rootNeedsThePassword() throws {
        try source.toolkit(["pipeline", "up"])
        let port = try #require(pipeline.settings?.port)
        try waitUntilReplicating()

        let tcp = ["-h", "127.0.0.1", "-P", String(port)]
        let denied = try asNobody(tcp, password: nil)
        #expect(denied.status != 0 && denied.stderr.contains("Access denied"), "root logged in without a password: \(denied.stdout) \(denied.stderr)")
        let allowed = try asNobody(tcp, password: "rootpassword")
        #expect(allowed.status == 0 && allowed.stdout.contains("root@127.0.0.1"), "\(allowed.stderr)")
        let socket = try asNobody(["--socket=\(pipeline.state.socketFile.path)"], password: nil)
        #expect(socket.status != 0, "nobody reached the replica's socket: \(socket.stdout)")

        // No root account without a password, no anonymous account, no root@HOSTNAME.
        let connection = try pipeline.connect()
        defer { connection.close() }
        let accounts = try connection.query("SELECT User, Host, authentication_string FROM mysql.user WHERE User IN ('root', '') ORDER BY Host").rows
        #expect(accounts.map { $0[1] ?? "" }.sorted() == ["127.0.0.1", "::1", "localhost"], "\(accounts)")
        #expect(accounts.allSatisfy { $0[0] == "root" && !($0[2] ?? "").isEmpty }, "\(accounts)")

        // The toolkit's own connections still work: its status (root, socket) and run's check account over TCP.
        let status = try source.toolkit(["pipeline", "status", "--json"])
        #expect(status.stdout.contains("\"io_running\" : \"Yes\""), "\(status.stdout)")
        var env = source.environment
        env["TOOLKIT_DEST_PASSWORD"] = "rootpassword"
        let verify = try Run.toolkit(["verify", "--destination", "mysql://\(ReplicaPipeline.checkUser)@127.0.0.1:\(port)/testdb",
                                      "--table", "users", "--wait", "30"], environment: env)
        #expect(verify.status == 0, "\(verify.stdout) \(verify.stderr)")
    }

    @Test("a replica whose root lost its password gets it back at the next pipeline up")
    func pipelineUpClosesAnOpenRoot() throws {
        try source.toolkit(["pipeline", "up"])
        let port = try #require(pipeline.settings?.port)
        let connection = try pipeline.connect()
        try connection.execute("SET SESSION sql_log_bin = 0")
        try connection.execute("ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY ''")
        connection.close()
        #expect(try asNobody(["-h", "127.0.0.1", "-P", String(port)], password: nil).status == 0, "the setup did not open root")

        try source.toolkit(["pipeline", "up"])
        let denied = try asNobody(["-h", "127.0.0.1", "-P", String(port)], password: nil)
        #expect(denied.status != 0 && denied.stderr.contains("Access denied"), "\(denied.stdout) \(denied.stderr)")
    }

    @Test("pipeline up with no room for the replica's data quotes the server's own error, not only install.log")
    func pipelineUpOnAFullDiskQuotesTheServer() throws {
        let fixture = try AgentFixture(name: "replica-no-room")
        defer {
            _ = try? Run.toolkit(["pipeline", "down", "--purge"], environment: fixture.environment, timeout: 180)
            fixture.tearDown()
        }
        let replica = ReplicaPipeline(home: fixture.state)
        // Far too small for InnoDB's files: the installer's server fails writing them.
        let tmpfs = try ScratchTmpfs(at: replica.state.dataDirectory, size: "24m", mode: "0750")
        defer { tmpfs.unmount() }
        let up = try Run.toolkit(["pipeline", "up"], environment: fixture.environment, timeout: 180)
        #expect(up.status == 1, "\(up.stdout) \(up.stderr)")
        #expect(up.stderr.contains("the server says \"[ERROR]"), "\(up.stderr)")
        #expect(up.stderr.contains(replica.state.serverLog.path), "\(up.stderr)")
        #expect(up.stderr.split(separator: "\n").count == 1, "\(up.stderr)")
        print("pipeline-full-disk: \(up.stderr)")
    }

    @Test("pipeline status of a replica waiting for disk space ends within its bound, saying so")
    func statusOfAReplicaOnAFullDiskIsBounded() throws {
        // A replica of its own (not the shared one) whose data directory is a small tmpfs, mounted in
        // a mount namespace of its own: the host's mounts stay as they are.
        let fixture = try AgentFixture(name: "full-disk")
        defer {
            _ = try? Run.toolkit(["pipeline", "down", "--purge"], environment: fixture.environment, timeout: 180)
            fixture.tearDown()
        }
        let replica = ReplicaPipeline(home: fixture.state)
        try FileManager.default.createDirectory(at: replica.state.dataDirectory, withIntermediateDirectories: true)
        let script = "mount -t tmpfs -o size=160m toolkit-replica-data \"$1\" && shift && exec \"$@\""
        let up = try Run.program("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh",
                                                      replica.state.dataDirectory.path, Run.toolkitPath, "pipeline", "up"],
                                 environment: fixture.environment)
        try #require(up.status == 0, "\(up.stderr)")
        try Poll.until(seconds: 60, "the replica to replicate") { (try? replica.status())?.replicating == true }
        let pid = try #require(try ManagedServer.locate(state: replica.state).runningPID())
        let fill = replica.state.dataDirectory.appendingPathComponent("fill")
        _ = try Run.program("/usr/bin/nsenter", ["-t", String(pid), "-m", "/bin/dd", "if=/dev/zero", "of=\(fill.path)", "bs=1M"])
        defer { _ = try? Run.program("/usr/bin/nsenter", ["-t", String(pid), "-m", "/bin/rm", "-f", fill.path]) }
        try fixture.toolkit(["generate-data", "--count", "20000"])
        try Poll.until(seconds: 60, "the replica to wait for disk space") {
            String(decoding: OwnedPath.tail(replica.state.serverLog) ?? Data(), as: UTF8.self).contains("Waiting for someone to free space")
        }

        let started = Date()
        let status = try Run.toolkit(["pipeline", "status", "--json"], environment: fixture.environment, timeout: 90)
        let seconds = Date().timeIntervalSince(started)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(seconds < 45, "pipeline status took \(Int(seconds)) s")
        #expect(status.stdout.contains("\"problem\""), "\(status.stdout)")
    }
}
