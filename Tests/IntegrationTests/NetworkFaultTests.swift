import AgentAPI
import Foundation
import MariaDB
import Measurements
import Testing

/// One source (with its agent and gateway) and one replica for the whole suite.
final class ReplicationRig: Sendable {
    let source: AgentFixture
    let replica: ReplicaFixture
    let table = "cdc_rows"

    static let shared: ReplicationRig = {
        do {
            let rig = try ReplicationRig()
            atexit { ReplicationRig.shared.tearDown() }
            return rig
        } catch {
            fatalError("cannot start the replication rig: \(error)")
        }
    }()

    private init() throws {
        source = try AgentFixture(name: "rig")
        replica = try ReplicaFixture(name: "rig", sourcePort: source.port)
        try replica.wait(for: 60, "the replica to connect") { $0["Slave_IO_Running"] == "Yes" && $0["Slave_SQL_Running"] == "Yes" }
    }

    func tearDown() {
        replica.tearDown()
        source.tearDown()
    }

    /// Writes `count` tagged rows straight to the server (the toolkit's own path, not the gateway).
    func write(_ count: Int) throws {
        try source.toolkit(["generate-data", "--count", String(count), "--table", table])
    }

    /// The window a fault command opened: the newest one in the agent's status.
    func lastWindow() throws -> WindowReport {
        try #require(try source.agentStatus().windows.last)
    }
}

@Suite("Network faults against a real replica through the gateway", .tags(.integration, .slow), .serialized)
struct NetworkFaultTests {
    let rig = ReplicationRig.shared

    @Test("TC-004's commands, exactly as written")
    func seedRunbook() throws {
        let source = rig.source
        try rig.write(50)
        #expect(try source.toolkit(["network", "--status"]).stdout.contains("Network    clear"))
        try source.toolkit(["network", "--down", "--type", "reject"])
        try rig.write(50)
        try rig.replica.wait(for: 30, "a connection error") { ($0["Last_IO_Errno"] ?? "0") != "0" }
        try source.toolkit(["network", "--up"])
        try rig.replica.wait(for: 30, "reconnection") { $0["Slave_IO_Running"] == "Yes" }

        // The timed outage counts down; `--up` from another terminal ends it early, and the countdown with it.
        let timed = try Background(Run.toolkitPath, ["network", "--down", "--type", "reject", "--duration", "60"],
                                   environment: source.environment)
        let active = try #require(try source.waitForStatus(10, "the timed reject") { !$0.faults.isEmpty }.faults.first)
        #expect(active.fault.type == .reject)
        #expect((active.remainingSeconds ?? 0) > 50 && (active.remainingSeconds ?? 0) <= 60)
        // The `--up` from another terminal comes once the countdown shows (bounded): sent sooner, on a
        // busy machine it can end the fault before the countdown's command has its answer.
        let shown = Date().addingTimeInterval(10)
        while !timed.text.contains("until restore") && Date() < shown { Thread.sleep(forTimeInterval: 0.05) }
        try source.toolkit(["network", "--up"])
        #expect(timed.waitFor(seconds: 5) == 0, "\(timed.text)")
        #expect(timed.text.contains("until restore"))

        #expect(try source.toolkit(["network", "--status"]).stdout.contains("Network    clear"))
        let status = try source.toolkit(["status"]).stdout
        #expect(status.contains("running"))
        #expect(status.contains("network clear"))
        try rig.replica.wait(for: 30, "reconnection") { $0["Slave_IO_Running"] == "Yes" }
        try rig.replica.waitUntilIdentical(to: rig.source, table: rig.table)
    }

    @Test("reject: the replica sees connection refused, recovers after --up, loses and doubles nothing")
    func reject() throws {
        try rig.write(200)
        try rig.replica.waitUntilIdentical(to: rig.source, table: rig.table)
        try rig.source.toolkit(["network", "--down", "--type", "reject"])
        let broken = try rig.replica.wait(for: 30, "a connection error") { ($0["Last_IO_Errno"] ?? "0") != "0" }
        // Established connection reset, reconnects refused by the kernel.
        #expect(["2003", "2013", "2002", "2026"].contains(broken["Last_IO_Errno"] ?? ""), "\(broken["Last_IO_Error"] ?? "")")
        try rig.write(300)                     // the toolkit's own writes go on while the network is down
        // Let the replica retry (MASTER_CONNECT_RETRY=1) a few times.
        try rig.source.waitForStatus(30, "two attempts") { ($0.windows.last?.attempts.total ?? 0) >= 2 }
        try rig.source.toolkit(["network", "--up"])
        try rig.replica.wait(for: 30, "reconnection") { $0["Slave_IO_Running"] == "Yes" }
        try rig.replica.waitUntilIdentical(to: rig.source, table: rig.table)

        let window = try rig.lastWindow()
        #expect(window.fault.type == .reject)
        let detection = try #require(window.detection)
        #expect(detection.after < 5)
        #expect(window.attempts.total >= 2, "the replica retried during the outage")
        #expect(try #require(window.reconnectedAfter) < 10)
        #expect(window.replicationResumedAfter != nil)
        let resume = try #require(window.resume.first)
        #expect(resume.verdict == .maintained || resume.verdict == .reread, "\(resume)")
        #expect(try rig.source.agentStatus().gatewayListening)
    }

    @Test("timeout: nothing moves, the replica gives up on its own, then recovers")
    func timeout() throws {
        try rig.replica.waitUntilIdentical(to: rig.source, table: rig.table)
        try rig.source.toolkit(["network", "--down", "--type", "timeout"])
        try rig.write(100)
        // slave_net_timeout is 4 s: the replica notices the silence and starts reconnecting.
        try rig.replica.wait(for: 40, "the replica to notice the silence") { $0["Slave_IO_Running"] == "Connecting" }
        // Its new connect is held by the gateway; give it a moment to arrive before the restore.
        Thread.sleep(forTimeInterval: 1)
        try rig.source.toolkit(["network", "--up"])
        try rig.replica.wait(for: 60, "reconnection") { $0["Slave_IO_Running"] == "Yes" }
        try rig.replica.waitUntilIdentical(to: rig.source, table: rig.table)
        let window = try rig.lastWindow()
        #expect(window.fault.type == .timeout)
        #expect(window.detection != nil, "the replica's giving up is the detection")
        let journal = try rig.source.toolkit(["events", "--last", "30"]).stdout
        #expect(window.reconnectedAfter != nil, "\(journal)")
    }

    @Test("service: the server stops, the replica reports it, and all is well after --up")
    func service() throws {
        try rig.source.toolkit(["network", "--down", "--type", "service"])
        #expect(throws: MariaDBError.self) { try rig.source.direct() }
        try rig.replica.wait(for: 30, "a connection error") { ($0["Last_IO_Errno"] ?? "0") != "0" }
        try rig.source.toolkit(["network", "--up"])
        try rig.write(50)
        try rig.replica.wait(for: 60, "reconnection") { $0["Slave_IO_Running"] == "Yes" }
        try rig.replica.waitUntilIdentical(to: rig.source, table: rig.table)
        let window = try rig.lastWindow()
        #expect(window.fault.type == .service)
        // The stopping server closed the replica's connection: its doing, not the replica's detection.
        #expect(window.serverClosed != nil, "\(window)")
        #expect(window.detection.map { [JournalEventKind.connAccepted, .connRefused, .connReset, .authFailed].contains($0.event) } ?? true, "\(window)")
    }

    @Test("a timed outage comes back by itself, even when the CLI that started it is killed")
    func timedOutageSurvivesKilledCLI() throws {
        let process = try Background(Run.toolkitPath, ["network", "--down", "--type", "reject", "--duration", "3"],
                                     environment: rig.source.environment)
        try rig.source.waitForStatus(10, "the timed reject") { !$0.faults.isEmpty }
        #expect(process.isRunning, "the CLI counts down")
        process.signal(SIGKILL)
        _ = process.waitFor(seconds: 5)
        #expect(try rig.source.agentStatus().faults.map(\.fault.type) == [.reject])
        // The schedule drops the fault as its clear begins; the listener reopens when the clear is done.
        let status = try rig.source.waitForStatus(10, "the outage to expire and the listener to reopen") {
            $0.faults.isEmpty && $0.gatewayListening
        }
        #expect(status.gatewayListening)
        #expect(try rig.lastWindow().endReason == .expired)
        try rig.replica.wait(for: 30, "reconnection") { $0["Slave_IO_Running"] == "Yes" }
    }

    @Test("flap: reject toggles on and off; the replica survives every cycle with identical data")
    func flap() throws {
        let before = try rig.source.agentStatus().windows.count
        try rig.source.toolkit(["network", "--flap", "--type", "reject", "--interval", "2", "--duration", "8", "--detach"])
        for _ in 0..<4 {
            try rig.write(40)
            Thread.sleep(forTimeInterval: 2)
        }
        let status = try rig.source.waitForStatus(10, "the flap to end") { $0.faults.isEmpty }
        #expect(status.windows.count - before == 2, "on at 0 and 4 s, off at 2 and 6 s")
        try rig.replica.wait(for: 30, "reconnection") { $0["Slave_IO_Running"] == "Yes" }
        try rig.replica.waitUntilIdentical(to: rig.source, table: rig.table)
    }

    @Test("latency: the replica stays connected and lags, then catches up")
    func latency() throws {
        try rig.source.toolkit(["network", "--slow", "--latency", "300"])
        let clock = ContinuousClock()
        let start = clock.now
        try rig.write(20)
        try rig.replica.waitUntilIdentical(to: rig.source, table: rig.table)
        let took = clock.now - start
        let status = try rig.replica.status()
        #expect(status["Slave_IO_Running"] == "Yes")
        #expect(took >= .milliseconds(300), "events reach the replica the whole latency late")
        try rig.source.toolkit(["network", "--slow", "--off"])
        #expect(try rig.source.agentStatus().faults.isEmpty)
    }

    @Test("mysqlbinlog --stop-never is cut by reset, and its resume request is journaled")
    func binlogStreamerIsReset() throws {
        let options = try ClientOptionFile(password: "hevopassword")
        defer { withExtendedLifetime(options) {} }
        let streamer = try Background("/usr/bin/mysqlbinlog", [
            options.argument, "--read-from-remote-server", "--stop-never",
            "--host=127.0.0.1", "--port=\(rig.source.port)", "--user=hevo", "--stop-never-slave-server-id=77",
            "--result-file=/dev/null", "mysql-bin.000001"])
        // Streaming once the gateway forwarded it a real event.
        try rig.source.waitForStatus(10, "mysqlbinlog's first event") { _ in
            let journal = (try? rig.source.toolkit(["events", "--json", "--last", "0"]).stdout) ?? ""
            return journal.split(separator: "\n").contains { line in
                (try? JSONDecoder().decode(JournalEvent.self, from: Data(line.utf8))).map {
                    $0.kind == .binlogFirstEvent && $0.serverID == 77
                } ?? false
            }
        }
        #expect(streamer.isRunning, "\(streamer.text)")
        try rig.source.toolkit(["network", "--down", "--type", "reset", "--only", "replication"])
        #expect(streamer.waitFor(seconds: 10) != nil, "mysqlbinlog does not retry: the reset ends it")
        let events = try rig.source.toolkit(["events", "--json", "--last", "0"]).stdout
            .split(separator: "\n").compactMap { try? JSONDecoder().decode(JournalEvent.self, from: Data($0.utf8)) }
        let dump = events.last { $0.kind == .binlogDump && $0.serverID == 77 }
        #expect(dump?.file == "mysql-bin.000001")
        #expect(events.contains { $0.kind == .connReset && $0.conn == dump?.conn })
        // The replica (also a replication connection) was reset too, and came back.
        try rig.replica.wait(for: 30, "reconnection") { $0["Slave_IO_Running"] == "Yes" }
    }

    @Test("a compressed session passes through untouched and is journaled as not observable")
    func compressedSessionPassesThrough() throws {
        var env = ProcessInfo.processInfo.environment
        env["MYSQL_PWD"] = "hevopassword"
        let run = try Run.program("/usr/bin/mariadb", ["--compress", "-h", "127.0.0.1", "-P", String(rig.source.port),
                                                       "-u", "hevo", "testdb", "-N", "-e", "SELECT COUNT(*) FROM users"],
                                  environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        #expect((Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 5)
        let journal = try rig.source.toolkit(["events", "--last", "20"]).stdout
        #expect(journal.contains("connection not observable: compressed"))
    }

    @Test("--up from any state leaves no rule, fault or stopped listener behind")
    func upIsIdempotent() throws {
        try rig.source.toolkit(["network", "--up"])
        try rig.source.toolkit(["network", "--up"])
        let status = try rig.source.agentStatus()
        #expect(status.faults.isEmpty)
        #expect(status.gatewayListening)
        if geteuid() == 0 {
            let rules = try Run.program("/usr/sbin/iptables", ["-w", "-S"])
            #expect(!rules.stdout.contains("TOOLKIT-\(rig.source.port)"))
        }
    }
}

@Suite("network: bad input and a missing agent", .tags(.integration, .endToEnd))
struct NetworkCommandLineTests {
    @Test("a restarted agent numbers its fault windows after those already in the journal")
    func windowsContinueAcrossAgentRestarts() throws {
        let source = try AgentFixture(name: "windows")
        defer { source.tearDown() }
        try source.toolkit(["network", "--down", "--type", "reset"])
        let before = try #require(try source.agentStatus().windows.last)
        try source.toolkit(["down"])
        try source.toolkit(["up", "--port", String(source.port), "--backend", "gateway"])
        try source.toolkit(["network", "--down", "--type", "timeout", "--duration", "1", "--detach"])
        let windows = try source.agentStatus().windows
        #expect(windows.map(\.window) == [before.window, before.window + 1])
        #expect(windows.last?.fault.type == .timeout)
        try source.toolkit(["network", "--up"])
    }

    @Test("bad input is refused with one line naming the flag, exit 2", arguments: [
        ["network", "--down", "--type", "explode"],
        ["network", "--down", "--duration", "0"],
        ["network", "--down", "--duration", "-4"],
        ["network", "--flap", "--interval", "0"],
        ["network", "--slow", "--latency", "-1"],
        ["network", "--down", "--only", "everything"],
        ["network", "--down", "--type", "timeout", "--crash"],
        ["network", "--off"],
    ])
    func badInput(arguments: [String]) throws {
        let run = try Run.toolkit(arguments, environment: ProcessInfo.processInfo.environment)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(run.stderr.contains("--"), "\(run.stderr)")
    }

    @Test func withoutAnAgentItSaysHowToStartOne() throws {
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("no-agent-\(getpid())").path
        let run = try Run.toolkit(["network", "--status"], environment: env)
        #expect(run.status == 1)
        #expect(run.stderr.contains("toolkit up"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }
}
