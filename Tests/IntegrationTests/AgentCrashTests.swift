import AgentAPI
import Faults
import Foundation
import Infrastructure
import Measurements
import Source
import Testing

/// A fault never outlives its deadline, and an agent's death does not silently change a test:
/// the supervisor starts the agent again within a moment, the new agent puts back what was in
/// force (until its recorded deadline, or `--up`) and journals the restart; with agent and
/// supervisor both dead, the kernel's `time` match ends a timed iptables fault by itself.
@Suite("an agent killed during a fault: supervised restart, faults kept to their deadlines", .tags(.integration, .slow), .serialized)
struct AgentCrashTests {
    /// The system's Python (quick to start), for a plain TCP listener and connect probe.
    static let python = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"

    /// SIGKILLs `pid` and waits (bounded) until it is gone.
    static func kill9(_ pid: pid_t) {
        kill(pid, SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        while ChildProcess.isAlive(pid) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(!ChildProcess.isAlive(pid), "pid \(pid) survived SIGKILL")
    }

    /// The supervisor `toolkit up` started, as it recorded itself in `run/`, while it runs.
    static func supervisor(_ state: StateDirectory) -> ProcessIdentity? {
        let file = state.runDirectory.appendingPathComponent("supervisor.process")
        guard let data = try? Data(contentsOf: file), let identity = try? JSONDecoder().decode(ProcessIdentity.self, from: data),
              identity.isRunning else { return nil }
        return identity
    }

    static func pid(in file: URL) -> pid_t? {
        (try? String(contentsOf: file, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Kills the agent of `state` and waits for the supervisor's new one; returns (old, new, seconds it took).
    static func killAgentAndAwaitRestart(_ state: StateDirectory) throws -> (old: pid_t, new: pid_t, seconds: Double) {
        let old = try #require(pid(in: state.agentPIDFile))
        kill9(old)
        let killed = Date()
        while Date().timeIntervalSince(killed) < 10 {
            if let new = pid(in: state.agentPIDFile), new != old, ChildProcess.isAlive(new), answers(state.agentSocketFile) {
                return (old, new, Date().timeIntervalSince(killed))
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw FixtureError("no new agent within 10 s of killing pid \(old)")
    }

    /// True when something accepts connections on the Unix socket (the agent's control API).
    static func answers(_ socketFile: URL) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketFile.path.utf8CString)
        guard path.count <= MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            path.withUnsafeBytes { raw.copyMemory(from: $0) }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    /// When the first active fault ends, as a wall-clock time, from the agent's status.
    static func deadline(_ status: AgentStatus) throws -> Double {
        Date().timeIntervalSince1970 + (try #require(status.faults.first?.remainingSeconds))
    }

    /// Polls `connects` (bounded by `until`) until it succeeds; returns when it first did, or nil.
    static func firstSuccess(until: Double, _ connects: () throws -> Bool) rethrows -> Double? {
        repeat {
            if try connects() { return Date().timeIntervalSince1970 }
            Thread.sleep(forTimeInterval: 0.1)
        } while Date().timeIntervalSince1970 < until
        return nil
    }

    /// What a killed agent's window looks like in the journal: started once, ended once as expired.
    static func expectOneWindowEndedAsExpired(_ events: [JournalEvent], window: Int) {
        #expect(events.filter { $0.kind == .faultStarted && $0.window == window }.count == 1, "no second window for a resumed fault")
        let ends = events.filter { $0.kind == .faultEnded && $0.window == window }
        #expect(ends.count == 1)
        #expect(ends.first?.detail == ClearReason.expired.rawValue)
    }

    @Test("iptables: the agent SIGKILLed during a 6 s reject is back within 2 s; the client is refused until the deadline and connects by deadline + 2 s",
          .enabled(if: NamespacePair.capable == nil, Comment(rawValue: NamespacePair.capable ?? "")))
    func iptablesRejectSurvivesAgentKill() throws {
        let source = try NamespacedSource(letter: "g", network: 217)
        defer { source.tearDown() }
        #expect(try source.clientConnect().status == 0)
        try source.toolkit(["network", "--down", "--type", "reject", "--duration", "6", "--detach"])
        let before = try source.status()
        let deadline = try Self.deadline(before)
        let window = try #require(before.faults.first?.windowID)
        #expect(try source.iptablesRules().contains("--datestop"), "the kernel knows the deadline too")

        let state = StateDirectory(root: source.home)
        let restart = try Self.killAgentAndAwaitRestart(state)
        #expect(restart.seconds < 2.5, "the supervisor restarted the agent in \(restart.seconds) s")

        let after = try source.status()
        #expect(after.pid == restart.new)
        #expect(after.faults.first?.windowID == window, "the same window goes on")
        #expect(abs(try Self.deadline(after) - deadline) < 0.5, "and keeps its deadline")
        let refused = try source.clientConnect()
        #expect(refused.status != 0 && refused.ended < deadline, "still refused before the deadline: \(refused)")

        let connected = try Self.firstSuccess(until: deadline + 4) { try source.clientConnect().status == 0 }
        let at = try #require(connected, "the client never got in")
        #expect(at <= deadline + 2, "in \(at - deadline) s after the deadline")

        let events = try source.events()
        #expect(events.contains { $0.kind == .agentRestarted && $0.detail == "the previous agent (pid \(restart.old)) was killed by signal 9" },
                "\(events.filter { $0.kind == .note }.compactMap(\.detail))")
        Self.expectOneWindowEndedAsExpired(events, window: window)
        #expect(try !source.iptablesRules().contains("TOOLKIT-"))
    }

    @Test("gateway: the agent SIGKILLed during a 6 s reject is back within 2 s; refused until the deadline, in by deadline + 2 s")
    func gatewayRejectSurvivesAgentKill() throws {
        let fixture = try AgentFixture(name: "crash-gateway")
        defer { fixture.tearDown() }
        #expect(NetworkUpRecoveryTests.etlLogin(port: fixture.port))
        try fixture.toolkit(["network", "--down", "--type", "reject", "--duration", "6", "--detach"])
        let before = try fixture.agentStatus()
        let deadline = try Self.deadline(before)
        let window = try #require(before.faults.first?.windowID)

        let restart = try Self.killAgentAndAwaitRestart(fixture.state)
        #expect(restart.seconds < 2.5, "the supervisor restarted the agent in \(restart.seconds) s")
        let after = try fixture.agentStatus()
        #expect(after.faults.first?.windowID == window)
        #expect(!after.gatewayListening, "the resumed reject keeps the listener closed")
        #expect(!NetworkUpRecoveryTests.etlLogin(port: fixture.port))
        #expect(Date().timeIntervalSince1970 < deadline, "checked before the deadline")

        let connected = Self.firstSuccess(until: deadline + 4) { NetworkUpRecoveryTests.etlLogin(port: fixture.port) }
        let at = try #require(connected, "the client never got in")
        #expect(at <= deadline + 2, "in \(at - deadline) s after the deadline")
        let events = journalEvents(try fixture.toolkit(["events", "--json", "--last", "0"]).stdout)
        #expect(events.contains { $0.kind == .agentRestarted && ($0.detail ?? "").hasPrefix("the previous agent (pid \(restart.old))") })
        Self.expectOneWindowEndedAsExpired(events, window: window)
    }

    @Test("an untimed fault survives an agent restart until --up")
    func untimedFaultLastsUntilUp() throws {
        let fixture = try AgentFixture(name: "crash-untimed")
        defer { fixture.tearDown() }
        try fixture.toolkit(["network", "--down", "--type", "reject"])
        let window = try #require(try fixture.agentStatus().faults.first?.windowID)
        _ = try Self.killAgentAndAwaitRestart(fixture.state)
        let restarted = try Self.killAgentAndAwaitRestart(fixture.state)
        #expect(restarted.seconds < 2.5)

        let status = try fixture.agentStatus()
        #expect(status.faults.first?.windowID == window)
        #expect(status.faults.first?.remainingSeconds == nil)
        #expect(!NetworkUpRecoveryTests.etlLogin(port: fixture.port))

        try fixture.toolkit(["network", "--up"])
        #expect(NetworkUpRecoveryTests.etlLogin(port: fixture.port))
        let events = journalEvents(try fixture.toolkit(["events", "--json", "--last", "0"]).stdout)
        #expect(events.filter { $0.kind == .faultStarted && $0.window == window }.count == 1)
        #expect(events.first { $0.kind == .faultEnded && $0.window == window }?.detail == ClearReason.up.rawValue)
        #expect(events.filter { $0.kind == .agentRestarted }.count == 2)
    }

    @Test("down stops the supervisor: nothing starts the agent again")
    func downStopsTheSupervisor() throws {
        let fixture = try AgentFixture(name: "crash-down")
        let supervisor = try #require(Self.supervisor(fixture.state))
        let agent = try #require(fixture.agentPID)
        fixture.tearDown()
        #expect(!ChildProcess.isAlive(supervisor.pid))
        #expect(!ChildProcess.isAlive(agent))
    }

    @Test("iptables: the same reject again moves the kernel's deadline with the agent's, and an untimed one has none",
          .enabled(if: NamespacePair.capable == nil, Comment(rawValue: NamespacePair.capable ?? "")))
    func kernelDeadlineFollowsTheSchedule() throws {
        let source = try NamespacedSource(letter: "g", network: 217)
        defer { source.tearDown() }
        func datestop() throws -> Set<String> {
            Set(try source.iptablesRules().split(separator: "\n").compactMap { line in
                line.range(of: "--datestop ").map { String(line[$0.upperBound...].prefix(19)) }
            })
        }
        try source.toolkit(["network", "--down", "--type", "reject", "--duration", "30", "--detach"])
        let window = try #require(try source.status().faults.first?.windowID)
        let first = try datestop()
        #expect(first.count == 1, "every rule of the chain carries the one deadline: \(first)")
        try source.toolkit(["network", "--down", "--type", "reject", "--duration", "300", "--detach"])
        #expect(try source.status().faults.first?.windowID == window, "the same window goes on")
        let later = try datestop()
        #expect(later.count == 1 && later != first, "\(first) then \(later)")
        try source.toolkit(["network", "--down", "--type", "reject"])
        #expect(try datestop().isEmpty, "an untimed fault lasts until --up, in the kernel too")
        #expect(try source.iptablesRules().contains("-j REJECT"))
        try source.toolkit(["network", "--up"])
        #expect(try !source.iptablesRules().contains("TOOLKIT-"))
    }

    @Test("iptables: agent and supervisor both SIGKILLed during a 6 s reject; the kernel lets the client in by deadline + 2 s",
          .enabled(if: NamespacePair.capable == nil, Comment(rawValue: NamespacePair.capable ?? "")))
    func kernelEndsTimedRejectWithNoAgent() throws {
        let source = try NamespacedSource(letter: "g", network: 217)
        defer { source.tearDown() }
        let namespaces = source.namespaces
        try source.toolkit(["network", "--down", "--type", "reject", "--duration", "6", "--detach"])
        let status = try source.status()
        let deadline = try Self.deadline(status)
        let window = try #require(status.faults.first?.windowID)
        let state = StateDirectory(root: source.home)
        if let supervisor = Self.supervisor(state) { Self.kill9(supervisor.pid) }
        Self.kill9(try #require(Self.pid(in: state.agentPIDFile)))

        // Something of the test's own listens on the public port now, so a connect that gets
        // through is told apart from one the rule refuses.
        let listener = try Background(NamespacePair.ipPath, ["netns", "exec", namespaces.server, Self.python, "-c", """
            import socket
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", \(source.port))); s.listen(16); print("listening", flush=True)
            while True:
                c, _ = s.accept(); c.close()
            """])
        defer { listener.signal(SIGKILL); _ = listener.waitFor(seconds: 5) }
        let listening = Date().addingTimeInterval(10)
        while !listener.text.contains("listening") && listener.isRunning && Date() < listening { Thread.sleep(forTimeInterval: 0.05) }
        #expect(listener.text.contains("listening"), "\(listener.text)")

        func connects() throws -> Bool {
            try namespaces.exec(namespaces.client, Self.python, ["-c", """
                import socket, sys
                try:
                    socket.create_connection(("\(namespaces.serverAddress)", \(source.port)), 2).close()
                except OSError as error:
                    print(error); sys.exit(1)
                """], timeout: 10).status == 0
        }
        #expect(try !connects(), "the rule still refuses")
        #expect(Date().timeIntervalSince1970 < deadline, "checked before the deadline")
        let connected = try Self.firstSuccess(until: deadline + 4, connects)
        let at = try #require(connected, "the kernel never let the client in")
        #expect(at <= deadline + 2, "in \(at - deadline) s after the deadline")
        #expect(at >= deadline - 0.5, "not before the deadline: \(deadline - at) s early")

        // The next agent finds the fault past its deadline: it closes the window as expired and removes the chain.
        listener.signal(SIGKILL)
        _ = listener.waitFor(seconds: 5)
        let recovered = try source.toolkit(["network", "--up"])
        #expect(recovered.stdout.contains("removed iptables chain TOOLKIT-\(source.port)"), "\(recovered.stdout)")
        #expect(try !source.iptablesRules().contains("TOOLKIT-"))
        Self.expectOneWindowEndedAsExpired(try source.events(), window: window)
        #expect(try source.clientConnect().status == 0)
    }
}
