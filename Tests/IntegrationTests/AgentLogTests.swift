@testable import Agent
import Foundation
import Infrastructure
import MariaDB
import Source
import Testing

/// The agent's diagnostics in `log/agent.log`: written by the real agent and its supervisor,
/// private to the agent's account, never through anything another account planted, bounded in
/// size; failures the agent used to drop are there with what was being done.
@Suite("the agent's log: log/agent.log", .tags(.integration))
struct AgentLogTests {
    static func logFile(_ state: StateDirectory) -> URL { state.logDirectory.appendingPathComponent("agent.log") }

    static func text(_ url: URL) -> String {
        FileManager.default.contents(atPath: url.path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Polls (bounded) until the log holds `needle`; returns its text.
    @discardableResult
    static func waitForLog(_ url: URL, containing needle: String, seconds: Double = 15) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let text = text(url)
            if text.contains(needle) { return text }
            guard Date() < deadline else { throw FixtureError("\(url.path) has no '\(needle)' after \(seconds) s:\n\(text)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    static func fileStatus(_ url: URL) throws -> stat {
        var info = stat()
        guard lstat(url.path, &info) == 0 else { throw FixtureError("lstat \(url.path): \(String(cString: strerror(errno)))") }
        return info
    }

    /// Waits (bounded) until `pid` has exited.
    static func waitForExit(_ pid: pid_t, seconds: Double = 30) {
        let deadline = Date().addingTimeInterval(seconds)
        while ChildProcess.isAlive(pid) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    }

    @Test("up's agent writes its start line and its supervisor's, 0600 and the agent's own; a restart is logged")
    func startLineAndRestart() throws {
        let fixture = try AgentFixture(name: "log-start")
        defer { fixture.tearDown() }
        let file = Self.logFile(fixture.state)
        let pid = try #require(fixture.agentPID)
        let text = try Self.waitForLog(file, containing: "agent started (pid \(pid),")

        let info = try Self.fileStatus(file)
        #expect(info.st_mode & S_IFMT == S_IFREG)
        #expect(info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
        #expect(info.st_uid == geteuid())
        let directory = try Self.fileStatus(fixture.state.logDirectory)
        #expect(directory.st_uid == geteuid())
        #expect(directory.st_mode & 0o022 == 0, "log/ must not be writable by others")

        let line = try #require(text.split(separator: "\n").first { $0.contains("agent started (pid \(pid),") })
        #expect(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info agent: agent started \(pid \d+, backend gateway, listening on 127\.0\.0\.1:\d+"#,
                           options: .regularExpression) != nil, "\(line)")
        #expect(text.contains(" info agent.supervisor: supervisor started pid="), "\(text)")

        // The supervisor logs why it starts the agent again; the new agent says what it follows.
        let (old, new, _) = try AgentCrashTests.killAgentAndAwaitRestart(fixture.state)
        let after = try Self.waitForLog(file, containing: "agent started (pid \(new),")
        #expect(after.contains(" warning agent.supervisor: the agent (pid \(old)) was killed by signal 9; starting it again"), "\(after)")
        #expect(after.contains(#"restarted_after="the previous agent (pid \#(old)) was killed by signal 9""#), "\(after)")

        // A level that does not exist is bad input: exit 2, one line naming the variable and the levels.
        var environment = fixture.environment
        environment["TOOLKIT_LOG_LEVEL"] = "loud"
        let refused = try Run.toolkit(["agent"], environment: environment)
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr == "toolkit: TOOLKIT_LOG_LEVEL is 'loud'; it must be one of trace, debug, info, notice, warning, error, critical\n")
    }

    @Test("up with a TOOLKIT_LOG_LEVEL that does not exist is refused before anything starts")
    func upRefusesAnUnknownLevelFirst() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-loglevel-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        defer { try? FileManager.default.removeItem(at: root) }
        var environment = ProcessInfo.processInfo.environment
        environment["TOOLKIT_HOME"] = root.path
        environment["TOOLKIT_LOG_LEVEL"] = "loud"
        let refused = try Run.toolkit(["up", "--port", String(PortProbe.ephemeral())], environment: environment)
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.hasSuffix("TOOLKIT_LOG_LEVEL is 'loud'; it must be one of trace, debug, info, notice, warning, error, critical\n"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        // Nothing was made, let alone started.
        #expect(!FileManager.default.fileExists(atPath: root.path), "up created \(root.path)")
    }

    @Test("failures that left no trace are logged: a control connection that breaks HTTP, an upstream connect refused")
    func failuresAreLogged() throws {
        let fixture = try AgentFixture(name: "log-failures")
        defer { fixture.tearDown() }
        let file = Self.logFile(fixture.state)

        // A client of the control socket (Python's) that does not speak HTTP.
        let python = try Run.program(AgentCrashTests.python, ["-c", """
            import socket, sys
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(10)
            s.connect(sys.argv[1])
            s.sendall(b"NOT HTTP AT ALL\\r\\n\\r\\n")
            try:
                while s.recv(4096): pass
            except OSError as e:
                print(e)
            """, fixture.state.agentSocketFile.path])
        #expect(python.status == 0, "\(python.stderr)")
        let text = try Self.waitForLog(file, containing: "notice agent.control: a control connection failed error=")
        let line = try #require(text.split(separator: "\n").first { $0.contains("a control connection failed") })
        #expect(line.lowercased().contains("http"), "\(line)")

        // The server goes away behind the agent's back: the gateway cannot reach it for a client.
        let server = try ManagedServer.locate(state: fixture.state)
        try server.stop()
        defer { _ = try? server.start() }
        #expect(throws: MariaDBError.self) {
            try MariaDBConnection(ConnectionOptions(host: "127.0.0.1", port: fixture.port, user: "hevo", password: "hevopassword",
                                                    database: "testdb", connectTimeoutSeconds: 3)).close()
        }
        let refused = try Self.waitForLog(file, containing: "warning agent.gateway: upstream connect failed conn=")
        let upstream = try #require(refused.split(separator: "\n").first { $0.contains("upstream connect failed") })
        #expect(upstream.contains("\(fixture.serverPort)") || upstream.lowercased().contains("refused"), "\(upstream)")
    }

    @Test("a symlink another account planted at log/agent.log is not followed: the agent's start replaces it")
    func plantedSymlinkIsNotFollowed() throws {
        let fixture = try AgentFixture(name: "log-symlink")
        defer { fixture.tearDown() }
        // Agent and supervisor gone, so that the next command starts them anew.
        if let supervisor = AgentCrashTests.supervisor(fixture.state) { AgentCrashTests.kill9(supervisor.pid) }
        AgentCrashTests.kill9(try #require(fixture.agentPID))

        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-log-target-\(getpid())")
        try? FileManager.default.removeItem(at: outside)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        let target = outside.appendingPathComponent("theirs")
        try Data("theirs\n".utf8).write(to: target)
        let file = Self.logFile(fixture.state)
        #expect(unlink(file.path) == 0)
        #expect(symlink(target.path, file.path) == 0)
        if geteuid() == 0 {
            // As another account (nobody) would have planted them.
            chown(target.path, 65534, 65534)
            lchown(file.path, 65534, 65534)
        }

        // Started with TOOLKIT_LOG_LEVEL=debug, which the agent then runs with.
        var environment = fixture.environment
        environment["TOOLKIT_LOG_LEVEL"] = "debug"
        let run = try Run.toolkit(["network", "--up"], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("no agent was running: started one"), "\(run.stdout)")
        let pid = try #require(fixture.agentPID)
        try Self.waitForLog(file, containing: "agent started (pid \(pid),")
        #expect(Self.text(target) == "theirs\n", "nothing is written through the symlink")
        let info = try Self.fileStatus(file)
        #expect(info.st_mode & S_IFMT == S_IFREG)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(info.st_uid == geteuid())

        try fixture.toolkit(["network", "--window", "999"], expect: 1)
        try Self.waitForLog(file, containing: " debug agent: GET /window refused ")
    }

    @Test("an agent stopped while its chain cannot be removed logs the failed restore (it used to vanish)",
          .enabled(if: NamespacePair.capable == nil, "network namespaces and iptables need root, ip and iptables"))
    func failedRestoreAtExitIsLogged() throws {
        let source = try NamespacedSource(letter: "l", network: 218)
        defer { source.tearDown() }
        let state = StateDirectory(root: source.home)
        try source.toolkit(["network", "--down", "--type", "reject"])
        // A rule of the test's that jumps to our chain: the kernel refuses to delete a chain still referenced.
        let holdingRule = ["-s", "192.0.2.78/32", "-p", "tcp", "-j", "TOOLKIT-\(source.port)"]
        try source.iptables(["-A", "INPUT"] + holdingRule)
        defer { try? source.iptables(["-D", "INPUT"] + holdingRule) }

        let agent = try #require(AgentCrashTests.pid(in: state.agentPIDFile))
        kill(agent, SIGTERM)
        Self.waitForExit(agent)
        #expect(!ChildProcess.isAlive(agent))
        let text = try Self.waitForLog(Self.logFile(state), containing: "restoring everything before the agent exits failed")
        let line = try #require(text.split(separator: "\n").first { $0.contains("restoring everything before the agent exits failed") })
        #expect(line.contains(" error agent: "), "\(line)")
        #expect(line.contains("iptables chain removal"), "\(line)")
        #expect(line.contains("TOOLKIT-\(source.port)"), "\(line)")
    }

    // MARK: - The file itself, in this process

    static func scratch(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-agentlog-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test("agent.log is bounded: past its size it becomes agent.log.1; a second writer follows, no line lost or torn")
    func rotationIsBounded() throws {
        let directory = try Self.scratch("rotate")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("agent.log")
        // The supervisor and the agent: two writers of one file.
        let first = try AgentLogFile(url: url, maxBytes: 4096)
        let second = try AgentLogFile(url: url, maxBytes: 4096)
        let filler = String(repeating: "x", count: 60)
        for index in 0..<400 {
            (index.isMultiple(of: 2) ? first : second).append("line \(String(format: "%05d", index)) \(filler)\n")
        }
        let rotated = URL(fileURLWithPath: url.path + ".1")
        let currentSize = try Self.fileStatus(url).st_size, rotatedSize = try Self.fileStatus(rotated).st_size
        #expect(currentSize <= 4096)
        #expect(rotatedSize <= 4096)
        #expect(!FileManager.default.fileExists(atPath: url.path + ".2"))
        let lines = (Self.text(rotated) + Self.text(url)).split(separator: "\n")
        let numbers = lines.compactMap { line -> Int? in
            guard line.hasSuffix(filler), line.hasPrefix("line ") else { return nil }
            return Int(line.dropFirst(5).prefix(5))
        }
        #expect(numbers.count == lines.count, "every line whole")
        #expect(numbers.last == 399)
        #expect(numbers == Array((400 - numbers.count)..<400), "the newest lines, in order, none missing")
        #expect(numbers.count > 4096 / 80, "the rotated file keeps what came before")
        #expect(try Self.fileStatus(url).st_mode & 0o777 == 0o600)
    }

    @Test("agent.log is never written through a symlink, a hard link or a file of another account")
    func plantedFilesAreReplaced() throws {
        let directory = try Self.scratch("planted")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("agent.log")
        let target = directory.appendingPathComponent("theirs")
        try Data("theirs\n".utf8).write(to: target)

        #expect(symlink(target.path, url.path) == 0)
        try AgentLogFile(url: url).append("ours\n")
        #expect(Self.text(target) == "theirs\n")
        #expect(Self.text(url) == "ours\n")
        #expect(try Self.fileStatus(url).st_mode & S_IFMT == S_IFREG)

        #expect(unlink(url.path) == 0)
        #expect(link(target.path, url.path) == 0)
        try AgentLogFile(url: url).append("ours\n")
        #expect(Self.text(target) == "theirs\n")
        #expect(Self.text(url) == "ours\n")
        #expect(try Self.fileStatus(url).st_nlink == 1)

        if geteuid() == 0 {
            #expect(unlink(url.path) == 0)
            try Data("theirs\n".utf8).write(to: url)
            chown(url.path, 65534, 65534)
            try AgentLogFile(url: url).append("ours\n")
            #expect(Self.text(url) == "ours\n")
            #expect(try Self.fileStatus(url).st_uid == 0)
        }
        #expect(try Self.fileStatus(url).st_mode & 0o777 == 0o600)
    }
}
