import AgentAPI
import Faults
import Foundation
import Infrastructure
import Measurements
import Testing

/// Journal events as `toolkit events --json` prints them.
func journalEvents(_ stdout: String) -> [JournalEvent] {
    stdout.split(separator: "\n").compactMap { try? JSONDecoder().decode(JournalEvent.self, from: Data($0.utf8)) }
}

/// A source (server, agent on 0.0.0.0:3306 with the iptables backend) in one namespace, clients
/// in the other.
final class NamespacedSource {
    let namespaces: NamespacePair
    let home: URL
    let environment: [String: String]
    let port = 3306

    /// `letter`, `network`: as for `NamespacePair`, one per suite that runs at the same time.
    init(backend: String = "iptables", letter: Character = "t", network: Int = 213) throws {
        namespaces = try NamespacePair(letter: letter, network: network)
        home = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-netns-\(letter)-\(getpid())")
        try? FileManager.default.removeItem(at: home)
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = home.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD"] { env[name] = nil }
        environment = env
        try toolkit(["up", "--port", String(port), "--listen", "0.0.0.0", "--backend", backend])
    }

    func tearDown() {
        _ = try? toolkit(["down", "--purge"])
        namespaces.tearDown()
        try? FileManager.default.removeItem(at: home)
    }

    @discardableResult
    func toolkit(_ arguments: [String], expect: Int32 = 0) throws -> Run {
        let run = try namespaces.exec(namespaces.server, Run.toolkitPath, arguments, environment: environment)
        #expect(run.status == expect, "toolkit \(arguments.joined(separator: " ")): \(run.stderr)")
        return run
    }

    func iptablesRules() throws -> String {
        try namespaces.exec(namespaces.server, "/usr/sbin/iptables", ["-w", "-S"]).stdout
    }

    func iptables(_ arguments: [String]) throws {
        let run = try namespaces.exec(namespaces.server, "/usr/sbin/iptables", ["-w"] + arguments)
        guard run.status == 0 else { throw FixtureError("iptables \(arguments.joined(separator: " ")): \(run.stderr)") }
    }

    func status() throws -> AgentStatus {
        try JSONDecoder().decode(AgentStatus.self, from: Data(toolkit(["network", "--status", "--json"]).stdout.utf8))
    }

    func lastWindow() throws -> WindowReport { try #require(try status().windows.last) }

    func events() throws -> [JournalEvent] { journalEvents(try toolkit(["events", "--json", "--last", "0"]).stdout) }

    /// Polls the journal (bounded) until an event matches.
    func waitForEvent(seconds: Double, _ matches: (JournalEvent) -> Bool) throws -> JournalEvent? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let event = try events().first(where: matches) { return event }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date() < deadline
        return nil
    }

    /// One plain connect and query from the client namespace with the mariadb client.
    /// Returns the exit status and the times just before and after it ran.
    func clientConnect(connectTimeout: Int = 3) throws -> (status: Int32, started: Double, ended: Double, stderr: String) {
        var clientEnv = ProcessInfo.processInfo.environment
        clientEnv["MYSQL_PWD"] = "hevopassword"
        let started = Date().timeIntervalSince1970
        let run = try namespaces.exec(namespaces.client, "/usr/bin/mariadb", [
            "-h", namespaces.serverAddress, "-P", String(port), "-u", "hevo", "--connect-timeout=\(connectTimeout)", "testdb",
            "-e", "SELECT 1",
        ], environment: clientEnv, timeout: 30)
        return (run.status, started, Date().timeIntervalSince1970, run.stderr)
    }

    /// `mysqlbinlog --stop-never` from the client namespace, decoding rows to its output.
    func binlogStreamer(serverID: Int, options: ClientOptionFile) throws -> Background {
        try Background(NamespacePair.ipPath, [
            "netns", "exec", namespaces.client, "/usr/bin/mysqlbinlog", options.argument, "--read-from-remote-server",
            "--stop-never", "--stop-never-slave-server-id=\(serverID)", "--host=\(namespaces.serverAddress)",
            "--port=\(port)", "--user=hevo", "--base64-output=DECODE-ROWS", "--verbose", "mysql-bin.000001"])
    }
}

/// Every attempt in `window` lies within one of the client runs, one per run, in order, each
/// with the client namespace's address and its own port.
func expectOneExactAttemptPerConnect(
    _ window: WindowReport, runs: [(started: Double, ended: Double)], kind: ConnectionAttempt.Kind, clientAddress: String
) {
    let attempts = window.attempts.attempts
    #expect(attempts.count == runs.count, "\(attempts)")
    #expect(window.attempts.total == runs.count)
    #expect(!window.attempts.estimatedTimes)
    for (attempt, run) in zip(attempts, runs) {
        #expect(attempt.kind == kind)
        #expect(attempt.count == 1)
        let at = window.started + attempt.after
        #expect(at >= run.started - 0.05 && at <= run.ended + 0.05, "attempt at \(at) outside its connect \(run)")
        let client = attempt.client ?? ""
        #expect(client.hasPrefix(clientAddress + ":") && Int(client.dropFirst(clientAddress.count + 1)) != nil, "\(client)")
    }
    #expect(Set(attempts.compactMap(\.client)).count == runs.count, "each connect has its own client port")
}

@Suite("iptables backend: kernel REJECT and DROP in a chain of our own", .tags(.integration, .slow), .serialized,
       .enabled(if: NamespacePair.capable == nil, Comment(rawValue: NamespacePair.capable ?? "")))
struct IptablesBackendTests {
    @Test("reject: each refused connect once, exact, with its client port; a reader the kernel resets is lost")
    func rejectIsObservedPerAttempt() throws {
        let source = try NamespacedSource()
        defer { source.tearDown() }
        let namespaces = source.namespaces
        #expect(try source.clientConnect().status == 0)
        let options = try ClientOptionFile(password: "hevopassword")
        defer { withExtendedLifetime(options) {} }
        try source.toolkit(["generate-data", "--count", "1", "--table", "kernel_reset"])
        let streamer = try source.binlogStreamer(serverID: 78, options: options)
        let dump = try #require(try source.waitForEvent(seconds: 10) { $0.kind == .binlogFirstEvent && $0.serverID == 78 },
                                "mysqlbinlog streams: \(streamer.text)")

        try source.toolkit(["network", "--down", "--type", "reject"])
        #expect(try source.iptablesRules().contains("-A INPUT -p tcp -m tcp --dport \(source.port) -j TOOLKIT-\(source.port)"))
        var runs: [(started: Double, ended: Double)] = []
        for _ in 0..<3 {
            let run = try source.clientConnect()
            #expect(run.status != 0)
            #expect(run.ended - run.started < 2, "refused at once: \(run.stderr)")
            runs.append((run.started, run.ended))
        }
        // New binlog events reach the reader; its ACK meets REJECT and the kernel resets it.
        try source.toolkit(["generate-data", "--count", "3", "--table", "kernel_reset"])
        #expect(streamer.waitFor(seconds: 15) != nil, "the kernel's RST ends mysqlbinlog: \(streamer.text)")
        let reset = try source.waitForEvent(seconds: 5) { $0.kind == .connReset && $0.conn == dump.conn }
        #expect(reset?.detail == AttemptLedger.kernelResetDetail)
        #expect(reset?.client?.hasPrefix(namespaces.clientAddress + ":") == true)
        try source.toolkit(["network", "--up"])

        let window = try source.lastWindow()
        #expect(window.fault.type == .reject)
        #expect(window.detection?.event == .connRefused)
        expectOneExactAttemptPerConnect(window, runs: runs, kind: .refused, clientAddress: namespaces.clientAddress)
        let lost = try #require(window.connections.lost.first { $0.conn == dump.conn })
        #expect(lost.replication)
        #expect(lost.how.contains("kernel reset"))
        #expect(window.connections.survived < window.connections.openAtStart)
        #expect(window.replicationResumedAfter == nil)
        let text = try source.toolkit(["network", "--status"]).stdout
        #expect(!text.contains("not needed"), "\(text)")
        #expect(text.contains("the replication connection was lost"), "\(text)")
        #expect(try source.events().filter { $0.kind == .connRefused && $0.window == window.window }.allSatisfy { $0.count == nil })
        let rules = try source.iptablesRules()
        #expect(!rules.contains("TOOLKIT-"))
        #expect(try source.clientConnect().status == 0)
    }

    @Test("timeout: nothing is called refused; one attempt per connect, not per SYN; detection is the client giving up")
    func timeoutIsNeverRefused() throws {
        let source = try NamespacedSource()
        defer { source.tearDown() }
        try source.toolkit(["network", "--down", "--type", "timeout"])
        var runs: [(started: Double, ended: Double)] = []
        for _ in 0..<2 {
            let run = try source.clientConnect(connectTimeout: 3)
            #expect(run.status != 0)
            #expect(run.ended - run.started >= 2.5, "nothing answered until the client's 3 s connect timeout")
            runs.append((run.started, run.ended))
        }
        try source.toolkit(["network", "--up"])
        let window = try source.lastWindow()
        #expect(window.fault.type == .timeout)
        expectOneExactAttemptPerConnect(window, runs: runs, kind: .dropped, clientAddress: source.namespaces.clientAddress)
        #expect(window.attempts.attempts.first?.outcome == .gaveUp)
        let events = try source.events().filter { $0.window == window.window }
        #expect(!events.contains { $0.kind == .connRefused }, "a dropped SYN is never a refusal")
        let detection = try #require(window.detection)
        #expect(detection.event == .clientGaveUp)
        // The first client gave up at its 3 s timeout, when the second one tried.
        #expect(abs(window.started + detection.after - runs[1].started) < 0.5, "\(detection) \(runs)")
        #expect(try source.clientConnect().status == 0)
    }

    @Test("gateway reject on a root agent: exact per-attempt times and client ports too")
    func gatewayRejectIsObservedPerAttempt() throws {
        let source = try NamespacedSource()
        defer { source.tearDown() }
        try source.toolkit(["network", "--down", "--type", "reject", "--backend", "gateway"])
        var runs: [(started: Double, ended: Double)] = []
        for _ in 0..<2 {
            let run = try source.clientConnect()
            #expect(run.status != 0)
            runs.append((run.started, run.ended))
        }
        try source.toolkit(["network", "--up"])
        let window = try source.lastWindow()
        #expect(window.fault.backend == .gateway)
        #expect(window.detection?.event == .connRefused)
        expectOneExactAttemptPerConnect(window, runs: runs, kind: .refused, clientAddress: source.namespaces.clientAddress)
        #expect(!(try source.iptablesRules()).contains("TOOLKIT-"))
    }

    @Test("--slow --only replication and replicate --scenario lag work on an iptables agent")
    func scopedShapingOnAnIptablesAgent() throws {
        let source = try NamespacedSource()
        defer { source.tearDown() }
        try source.toolkit(["network", "--slow", "--latency", "1000", "--only", "replication"])
        let window = try source.lastWindow()
        #expect(window.fault.type == .latency && window.fault.scope == .replication)
        // A plain connect and query is not slowed: milliseconds against a 1000 ms round trip.
        let run = try source.clientConnect()
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.ended - run.started < 0.3, "\(run.ended - run.started) s")
        try source.toolkit(["network", "--slow", "--off"])
        let lag = try source.toolkit(["replicate", "--scenario", "lag", "--delay", "500", "--duration", "2"])
        #expect(lag.stdout.contains("latency on replication connections"), "\(lag.stdout)")
        #expect(try source.lastWindow().fault == FaultSpec(type: .latency, scope: .replication, latencyMs: 500))
        #expect(!(try source.iptablesRules()).contains("TOOLKIT-"))
    }

    @Test("--up answers failure, naming the step, when our chain cannot be removed; nothing else is touched")
    func upReportsAFailedRestore() throws {
        let source = try NamespacedSource()
        defer { source.tearDown() }
        // A rule of the test's own, which nothing of ours may remove.
        let ownRule = ["-s", "192.0.2.77/32", "-p", "tcp", "-j", "DROP"]
        try source.iptables(["-A", "INPUT"] + ownRule)
        let ownRuleText = "-A INPUT -s 192.0.2.77/32 -p tcp -j DROP"
        try source.toolkit(["network", "--down", "--type", "reject"])
        // Another rule of the test's that jumps to our chain: the kernel refuses to delete a
        // chain still referenced, so the restore cannot finish.
        let holdingRule = ["-s", "192.0.2.78/32", "-p", "tcp", "-j", "TOOLKIT-\(source.port)"]
        try source.iptables(["-A", "INPUT"] + holdingRule)
        let failed = try source.toolkit(["network", "--up"], expect: 1)
        #expect(failed.stderr.contains("iptables chain removal"), "\(failed.stderr)")
        #expect(failed.stderr.split(separator: "\n").count == 1, "one line: \(failed.stderr)")
        #expect(try source.iptablesRules().contains(ownRuleText))
        // Our REJECT went with the flush: the network is back even so.
        #expect(try source.clientConnect().status == 0)

        try source.iptables(["-D", "INPUT"] + holdingRule)
        try source.toolkit(["network", "--up"])
        let rules = try source.iptablesRules()
        #expect(!rules.contains("TOOLKIT-"))
        #expect(rules.contains(ownRuleText))
    }

    @Test("a crashed agent leaves its chain; the next agent removes it, once its fault is over, and nothing else")
    func crashedAgentLeavesNothing() throws {
        let source = try NamespacedSource()
        defer { source.tearDown() }
        let ownRule = ["-s", "192.0.2.77/32", "-p", "tcp", "-j", "DROP"]
        try source.iptables(["-A", "INPUT"] + ownRule)
        let ownRuleText = "-A INPUT -s 192.0.2.77/32 -p tcp -j DROP"
        try source.toolkit(["network", "--down", "--type", "reject", "--duration", "2", "--detach"])
        let ends = Date().addingTimeInterval(try #require(try source.status().faults.first?.remainingSeconds))
        // Agent and supervisor both gone: no one restores anything.
        let state = StateDirectory(root: source.home)
        if let supervisor = AgentCrashTests.supervisor(state) { AgentCrashTests.kill9(supervisor.pid) }
        AgentCrashTests.kill9(try #require(AgentCrashTests.pid(in: state.agentPIDFile)))
        #expect(try source.iptablesRules().contains("TOOLKIT-\(source.port)"))
        // The next agent starts after the fault's deadline: its chain is a leftover to remove.
        while Date() < ends { Thread.sleep(forTimeInterval: 0.1) }
        try source.toolkit(["up", "--port", String(source.port), "--listen", "0.0.0.0", "--backend", "iptables"])
        let rules = try source.iptablesRules()
        #expect(!rules.contains("TOOLKIT-"))
        #expect(rules.contains(ownRuleText))
        #expect(try source.clientConnect().status == 0)
        #expect(try source.toolkit(["events", "--last", "0"]).stdout.contains("removed iptables chain TOOLKIT-\(source.port)"))
    }
}
