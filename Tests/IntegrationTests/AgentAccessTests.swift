import AgentAPI
import Foundation
import Infrastructure
import MariaDB
import Source
import Testing

/// Who may drive the agent, and what the server's own account can make root do. Run as root with
/// the machine's second accounts: `nobody` plays a stranger, `mysql` the server's account.
@Suite("Agent access: owner-only control, a server account that cannot steer root",
       .tags(.integration, .slow), .serialized,
       .enabled(if: geteuid() == 0 && getpwnam("nobody") != nil && getpwnam("mysql") != nil,
                "needs root and the nobody and mysql accounts to act as other accounts"))
struct AgentAccessTests {
    @Test("A stranger cannot reach the control socket, and the agent listens on no TCP port but the gateway's")
    func strangerCannotDriveTheAgent() throws {
        let source = try AgentFixture(name: "owner-only")
        defer { source.tearDown() }
        let socket = source.state.agentSocketFile.path

        // The owner drives it, through its socket, with a client written by others.
        let mine = try Curl.unix(socket, "/status")
        #expect(mine.status == 200, "\(mine)")
        #expect(try Self.mode(source.state.runDirectory) == (owner: 0, mode: 0o700))
        #expect(try Self.mode(source.state.agentSocketFile) == (owner: 0, mode: 0o600))

        // nobody gets no answer at all: no fault, no note, no status.
        let reject = try Curl.unix(socket, "/faults", body: #"{"action": "down", "spec": {"type": "reject"}}"#, as: .nobody)
        let note = try Curl.unix(socket, "/notes", body: #"{"detail": "forged by nobody"}"#, as: .nobody)
        let status = try Curl.unix(socket, "/status", as: .nobody)
        for attempt in [reject, note, status] {
            #expect(attempt.status == nil, "nobody was answered: \(attempt)")
        }
        #expect(try source.agentStatus().faults.isEmpty)
        let journal = try source.state.journalText()
        #expect(!journal.contains("forged by nobody"))

        // Second line: were the directory and socket opened up, the agent still checks who connects.
        #expect(chmod(source.state.runDirectory.path, 0o711) == 0 && chmod(socket, 0o666) == 0)
        let throughOpenedSocket = try Curl.unix(socket, "/notes", body: #"{"detail": "forged through an open socket"}"#, as: .nobody)
        #expect(chmod(source.state.runDirectory.path, 0o700) == 0 && chmod(socket, 0o600) == 0)
        #expect(throughOpenedSocket.status == nil, "nobody was answered: \(throughOpenedSocket)")
        #expect(!(try source.state.journalText()).contains("forged through"))

        // The only TCP port the agent listens on is the gateway's.
        let agentPID = try #require(source.agentPID)
        #expect(try Listening.tcpPorts(of: agentPID) == [source.port])

        // The CLI will not talk through a run/ another account could have swapped the socket in.
        let nobody = try #require(getpwnam("nobody")).pointee
        #expect(chown(source.state.runDirectory.path, nobody.pw_uid, nobody.pw_gid) == 0)
        let refused = try source.toolkit(["network", "--status"], expect: 1)
        #expect(refused.stderr.contains("belongs to uid \(nobody.pw_uid)"), "\(refused.stderr)")
        #expect(chown(source.state.runDirectory.path, 0, 0) == 0)
        try source.toolkit(["network", "--status"])
    }

    @Test("Asked for TCP (up --control tcp:ADDR:PORT), the agent answers only requests with its token")
    func tcpControlNeedsTheToken() throws {
        let controlPort = PortProbe.ephemeral()
        let source = try AgentFixture(name: "tcp-control", upArguments: ["--control", "tcp:127.0.0.1:\(controlPort)"])
        defer { source.tearDown() }
        let url = "http://127.0.0.1:\(controlPort)"
        let tokenFile = source.state.agentTokenFile
        #expect(try Self.mode(tokenFile) == (owner: 0, mode: 0o600))
        let token = try String(contentsOf: tokenFile, encoding: .utf8)
        #expect(token.count == 64 && token.allSatisfy(\.isHexDigit))
        // The Unix socket stays the owner's way in beside TCP, as private as ever.
        #expect(try Self.mode(source.state.agentSocketFile) == (owner: 0, mode: 0o600))

        // nobody reaches the port but is refused: no token, a wrong one; and cannot read the right one.
        let bare = try Curl.tcp(url + "/faults", body: #"{"action": "down", "spec": {"type": "reject"}}"#, as: .nobody)
        let guessed = try Curl.tcp(url + "/notes", body: #"{"detail": "forged"}"#, token: String(repeating: "0", count: 64), as: .nobody)
        for attempt in [bare, guessed] {
            #expect(attempt.status == 401, "\(attempt)")
            #expect(try JSONDecoder().decode(AgentFailure.self, from: Data(attempt.body.utf8)).status == 401)
        }
        let stolen = try Account.nobody.run("/bin/cat", [tokenFile.path])
        #expect(stolen.status != 0 && !stolen.stdout.contains(token))
        #expect(try source.agentStatus().faults.isEmpty)

        // With the token the owner drives it over TCP; the CLI goes through the socket.
        #expect(try Curl.tcp(url + "/status", token: token).status == 200)
        try source.toolkit(["network", "--down", "--type", "reject"])
        #expect(try source.agentStatus().faults.map(\.fault.type) == [.reject])
        try source.toolkit(["network", "--up"])
        #expect(try source.agentStatus().faults.isEmpty)
    }

    @Test("The server's account cannot make root kill another process or write through a symlink")
    func serverAccountCannotSteerRoot() throws {
        let source = try AgentFixture(name: "steer")
        defer { source.tearDown() }
        let state = source.state
        let server = try #require(try ManagedServer.locate(state: state).runningPID())

        // A root process mysql would like dead, and a root-only file it would like root to create.
        let bystander = try Background("/bin/sleep", ["300"])
        defer { bystander.signal(SIGKILL); _ = bystander.waitFor(seconds: 5) }
        let vault = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-vault-\(getpid())")
        try? FileManager.default.removeItem(at: vault)
        try FileManager.default.createDirectory(at: vault, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: vault) }
        let planted = vault.appendingPathComponent("created-through-a-symlink")

        // What mysql tries: its pid file (its own to write), root's run/ and log/ (not its to write).
        let pidFile = try Account.mysql.run("/bin/sh", ["-c", "echo \(bystander.pid) > \(state.serverPIDFile.path)"])
        #expect(pidFile.status == 0, "the server's own pid file is the server's to write: \(pidFile.stderr)")
        let runFile = try Account.mysql.run("/bin/sh", ["-c", "echo \(bystander.pid) > \(state.runDirectory.path)/mysqld.pid"])
        #expect(runFile.status != 0, "mysql wrote into run/")
        let output = state.logDirectory.appendingPathComponent("mysqld.out")
        let link = try Account.mysql.run("/bin/sh", ["-c", "rm -f \(output.path); ln -s \(planted.path) \(output.path)"])
        #expect(link.status != 0, "mysql replaced log/mysqld.out")

        // The crash kills the server we started, and nothing else; the restart writes nothing through a link.
        try source.toolkit(["network", "--down", "--type", "service", "--crash"])
        try Poll.until(seconds: 30, "the server to be killed") { !ChildProcess.isAlive(server) }
        #expect(ChildProcess.isAlive(bystander.pid), "the crash killed the pid mysql wrote")
        try source.toolkit(["network", "--up"])
        try Poll.until(seconds: 60, "the server to answer again") { (try? source.direct())?.close() != nil }
        #expect(ChildProcess.isAlive(bystander.pid))
        #expect(!FileManager.default.fileExists(atPath: planted.path), "root created a file through mysql's symlink")
        var info = stat()
        #expect(lstat(output.path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG)
    }

    @Test("up --control takes unix or tcp:ADDR:PORT; anything else is a usage error that changes nothing")
    func controlAddressIsValidated() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-control-flag-\(getpid())")
        try? FileManager.default.removeItem(at: home)
        var environment = ProcessInfo.processInfo.environment
        environment["TOOLKIT_HOME"] = home.path
        for bad in ["tcp", "tcp:localhost:7000", "tcp:127.0.0.1:0", "tcp:127.0.0.1:70000", "udp:127.0.0.1:7000", "unix:/tmp/x"] {
            let run = try Run.toolkit(["up", "--port", String(PortProbe.ephemeral()), "--control", bad], environment: environment)
            #expect(run.status == 2, "--control \(bad): \(run.stderr)")
            #expect(run.stderr.contains("--control") && run.stderr.contains(bad))
            #expect(!FileManager.default.fileExists(atPath: home.path), "--control \(bad) created \(home.path)")
        }
    }

    static func mode(_ url: URL) throws -> (owner: uid_t, mode: mode_t) {
        var info = stat()
        guard lstat(url.path, &info) == 0 else { throw FixtureError("cannot stat \(url.path)") }
        return (info.st_uid, info.st_mode & 0o7777)
    }
}

@Suite("Agent control input is bounded", .tags(.integration, .slow), .serialized)
struct ControlInputBoundsTests {
    @Test("Oversized bodies get a JSON 413, oversized notes and a bad since a 400, idle connections are closed")
    func boundedRequests() throws {
        let source = try AgentFixture(name: "bounds")
        defer { source.tearDown() }
        let socket = source.state.agentSocketFile.path
        let journalBefore = source.state.journalBytes()

        let megabyte = #"{"detail": ""# + String(repeating: "x", count: 1 << 20) + #""}"#
        for _ in 0..<5 {
            let answer = try Curl.unix(socket, "/notes", body: megabyte)
            #expect(answer.status == 413, "\(answer.status.map(String.init) ?? "no answer")")
            #expect(try JSONDecoder().decode(AgentFailure.self, from: Data(answer.body.utf8)).status == 413)
        }
        let chunked = try Curl.unix(socket, "/notes", body: megabyte, extra: ["-H", "Transfer-Encoding: chunked"])
        #expect(chunked.status == 413)
        #expect(source.state.journalBytes() - journalBefore < 64 * 1024)

        let long = try Curl.unix(socket, "/notes", body: #"{"detail": ""# + String(repeating: "y", count: 4097) + #""}"#)
        #expect(long.status == 400 && long.body.contains("4096"), "\(long)")
        #expect(try Curl.unix(socket, "/notes", body: #"{"detail": ""# + String(repeating: "y", count: 4096) + #""}"#).status == 200)

        for bad in ["abc", "-1", "1.5", ""] {
            let answer = try Curl.unix(socket, "/events?since=\(bad)")
            #expect(answer.status == 400, "since=\(bad): \(answer)")
        }
        let page = try Curl.unix(socket, "/events?since=1")
        #expect(page.status == 200)
        let beyond = try Curl.unix(socket, "/events?since=\(UInt64.max)")
        #expect(beyond.status == 200 && beyond.body.contains(#""events":[]"#), "\(beyond)")

        // A connection that never sends a request is closed by the agent, not kept forever.
        let idle = try RawConnection(unixSocket: socket)
        defer { idle.close() }
        #expect(idle.waitForClose(seconds: 15), "the agent kept an idle control connection open for 15 s")
    }

    @Test("Thousands of idle control connections leave the gateway accepting and relaying a real client")
    func controlFloodSparesTheGateway() throws {
        let source = try AgentFixture(name: "flood")
        defer { source.tearDown() }
        let agentPID = try #require(source.agentPID)
        // The agent as a host with the usual 1024-descriptor default would run it.
        let limited = try Run.program("/usr/bin/prlimit", ["--pid", String(agentPID), "--nofile=1024:1024"])
        try #require(limited.status == 0, "prlimit: \(limited.stderr)")

        var flood: [RawConnection] = []
        defer { flood.forEach { $0.close() } }
        // More connections than the limit allows descriptors; a full backlog (EAGAIN) is retried, within bounds.
        let deadline = Date().addingTimeInterval(30)
        for _ in 0..<50_000 where flood.count < 2_000 && Date() < deadline {
            if let connection = try? RawConnection(unixSocket: source.state.agentSocketFile.path, blocking: false) {
                flood.append(connection)
            } else {
                Thread.sleep(forTimeInterval: 0.001)
            }
        }
        #expect(flood.count == 2_000, "only \(flood.count) connections opened")

        var environment = ProcessInfo.processInfo.environment
        environment["MYSQL_PWD"] = "hevopassword"
        let client = try Run.program("/usr/bin/mariadb", ["-h", "127.0.0.1", "-P", String(source.port), "-u", "hevo",
                                                          "--connect-timeout=10", "-N", "-e", "SELECT 41 + 1"],
                                     environment: environment, timeout: 60)
        #expect(client.status == 0 && client.stdout.contains("42"), "mariadb through the gateway: \(client.stderr)")
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(agentPID)/fd").count) ?? 0
        #expect(descriptors < 512, "the agent holds \(descriptors) descriptors")

        flood.forEach { $0.close() }
        flood = []
        try Poll.until(seconds: 30, "the control API to answer again") {
            (try? Curl.unix(source.state.agentSocketFile.path, "/status"))?.status == 200
        }
    }
}

/// Another account on this machine, through setpriv (util-linux).
enum Account {
    case nobody, mysql

    var arguments: [String] {
        switch self {
        case .nobody: ["--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        case .mysql: ["--reuid=mysql", "--regid=mysql", "--clear-groups"]
        }
    }

    func run(_ program: String, _ arguments: [String]) throws -> Run {
        try Run.program("/usr/bin/setpriv", self.arguments + [program] + arguments, timeout: 60)
    }
}

/// curl (a client written by others) against the agent: the answer's status and body, or no status
/// when nothing answered.
struct Curl: CustomStringConvertible {
    var status: Int?
    var body: String
    var error: String

    var description: String { "HTTP \(status.map(String.init) ?? "none") \(body) \(error)" }

    static func unix(_ socket: String, _ path: String, body: String? = nil, extra: [String] = [], as account: Account? = nil) throws -> Curl {
        try run(["--unix-socket", socket, "http://agent" + path], body: body, extra: extra, as: account)
    }

    static func tcp(_ url: String, body: String? = nil, token: String? = nil, as account: Account? = nil) throws -> Curl {
        try run([url], body: body, extra: token.map { ["-H", "Authorization: Bearer \($0)"] } ?? [], as: account)
    }

    private static func run(_ target: [String], body: String?, extra: [String], as account: Account?) throws -> Curl {
        var arguments = ["-sS", "--max-time", "30", "-w", "\n%{http_code}"] + extra
        var bodyFile: URL?
        if let body {
            // Readable by the other account too: the body is not a secret.
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("curl-body-\(UUID().uuidString)")
            try Data(body.utf8).write(to: file)
            chmod(file.path, 0o644)
            bodyFile = file
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@" + file.path]
        }
        defer { bodyFile.map { try? FileManager.default.removeItem(at: $0) } }
        arguments += target
        let run = try account.map { try $0.run("/usr/bin/curl", arguments) } ?? Run.program("/usr/bin/curl", arguments, timeout: 60)
        var lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let code = lines.popLast().flatMap { Int($0) } ?? 0
        return Curl(status: code == 0 ? nil : code, body: lines.joined(separator: "\n"), error: run.stderr)
    }
}

/// A bare stream socket connected to the agent's control socket that sends nothing.
final class RawConnection {
    private var fd: Int32

    init(unixSocket path: String, blocking: Bool = true) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | (blocking ? 0 : Int32(SOCK_NONBLOCK.rawValue)), 0)
        guard fd >= 0 else { throw FixtureError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            fd = -1
            throw FixtureError("connect: \(reason)")
        }
    }

    /// True when the peer closes the connection within `seconds`.
    func waitForClose(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 64)
        while Date() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, 200) > 0 {
                let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if count == 0 || (count < 0 && errno != EAGAIN) { return true }
            }
        }
        return false
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}

/// The TCP ports a process listens on, from ss (iproute2).
enum Listening {
    static func tcpPorts(of pid: pid_t) throws -> Set<Int> {
        let run = try Run.program("/usr/bin/ss", ["-Hltnp"])
        var ports = Set<Int>()
        for line in run.stdout.split(separator: "\n") where line.contains("pid=\(pid),") {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            guard columns.count > 3, let colon = columns[3].lastIndex(of: ":"),
                  let port = Int(columns[3][columns[3].index(after: colon)...]) else { continue }
            ports.insert(port)
        }
        return ports
    }
}

enum Poll {
    /// Polls `condition` every 100 ms until it holds; throws after `seconds`.
    static func until(seconds: Double, _ what: String, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw FixtureError("waited \(seconds) s for \(what)")
    }
}

extension StateDirectory {
    /// The journal's segments, oldest first.
    var journalSegments: [URL] {
        ((try? FileManager.default.contentsOfDirectory(atPath: journalDirectory.path)) ?? [])
            .filter { $0.count == 12 && $0.hasSuffix(".jsonl") }.sorted()
            .map { journalDirectory.appendingPathComponent($0) }
    }

    /// Every event line of the journal.
    func journalText() throws -> String {
        try journalSegments.map { try String(contentsOf: $0, encoding: .utf8) }.joined()
    }

    func journalBytes() -> Int {
        journalSegments.reduce(0) { $0 + (((try? FileManager.default.attributesOfItem(atPath: $1.path))?[.size] as? Int) ?? 0) }
    }
}
