import AgentAPI
import Foundation
import Infrastructure
import Testing

/// The control API under requests written to break it: malformed ones by hand, hundreds generated
/// from its OpenAPI document by schemathesis (a fuzzer written by others), and a flood of
/// unauthenticated TCP connections. The agent must never die or restart, never answer 5xx to a
/// client's mistake, and never lose its owner.
@Suite("Control API: hostile requests", .tags(.integration, .slow), .serialized,
       .enabled(if: geteuid() == 0 && getpwnam("nobody") != nil, "needs root and the nobody account to flood as another account"))
struct ControlAPIHostileTests {
    @Test("Requests the agent cannot read are answered 4xx and the agent keeps running (GET /events?= killed it)")
    func malformedRequestsOnTheSocket() throws {
        let source = try AgentFixture(name: "api-malformed")
        defer { source.tearDown() }
        let socket = source.state.agentSocketFile.path
        let pid = try #require(source.agentPID)

        let long = "/" + String(repeating: "a", count: 70_000)
        let targets = ["/events?=", "/events?=&=", "/window?=1", "/events?since=%zz", "/events?since=-1",
                       "/events?since=99999999999999999999999", "/window?id=0", "/window?id=1&id=1", "/status?x", long]
        for target in targets {
            let answer = try Curl.unix(socket, target, extra: ["--path-as-is"])
            let status = try #require(answer.status, "\(target.prefix(40)): no answer \(answer.error)")
            #expect((400..<500).contains(status), "\(target.prefix(40)): \(answer)")
            let failure = try JSONDecoder().decode(AgentFailure.self, from: Data(answer.body.utf8))
            #expect(failure.status == status && !failure.message.isEmpty)
        }
        #expect(source.agentPID == pid, "the agent was restarted")
        #expect(ChildProcess.isAlive(pid))
        #expect(!(try source.state.journalText()).contains("agent restarted"))
        // It still serves, its documentation too.
        let document = try Curl.unix(socket, "/openapi.json")
        #expect(document.status == 200)
        #expect(try JSONSerialization.jsonObject(with: Data(document.body.utf8)) is [String: Any])
    }

    @Test("schemathesis: every operation but /shutdown, 200 generated requests each, plus malformed bytes by hand; the agent never dies, never 5xx")
    func schemathesisAgainstARealAgent() throws {
        let schemathesis = ToolVenvs.path("schemathesis", "bin/schemathesis")
        try #require(FileManager.default.isExecutableFile(atPath: schemathesis), "scripts/test-deps installs schemathesis into \(schemathesis)")
        // A throwaway server, fronted by the agent under test (up --upstream), whose control is on TCP.
        let server = try AgentFixture(name: "api-upstream")
        defer { server.tearDown() }
        let controlPort = PortProbe.ephemeral()
        let front = try AgentFixture(name: "api-front", upArguments: ["--upstream", "127.0.0.1:\(server.serverPort)",
                                                                      "--control", "tcp:127.0.0.1:\(controlPort)"])
        defer { front.tearDown() }
        let pid = try #require(front.agentPID)
        let token = try String(contentsOf: front.state.agentTokenFile, encoding: .utf8)
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-schemathesis-\(getpid())")
        defer { try? FileManager.default.removeItem(at: report) }

        var environment = ProcessInfo.processInfo.environment
        environment["TOOLKIT_CONTROL_TOKEN"] = token
        let run = try Run.program(Run.repository.appendingPathComponent("scripts/fuzz-control-api").path,
                                  ["--url", "http://127.0.0.1:\(controlPort)", "--examples", "200", "--report", report.path],
                                  environment: environment, timeout: 1200)
        #expect(run.status == 0, "scripts/fuzz-control-api failed:\n\(run.stdout.suffix(6000))\n\(run.stderr.suffix(3000))")
        // Each operation but /shutdown was exercised, with at least 200 generated requests.
        let counts = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: report.appendingPathComponent("counts.json"))) as? [String: Int])
        for operation in AgentOperation.allCases where operation != .shutdown {
            #expect((counts["\(operation.method) \(operation.path)"] ?? 0) >= 200, "\(operation.path): \(counts)")
        }
        #expect(counts["POST /shutdown"] == nil)
        #expect(front.agentPID == pid, "the agent was restarted")
        #expect(ChildProcess.isAlive(pid))
        let journal = try front.state.journalText()
        #expect(!journal.contains("agent restarted"))
        // The faults it started are all ended by the last `up`; the owner still drives the agent.
        try front.toolkit(["network", "--up"])
        #expect(try front.agentStatus().faults.isEmpty)
    }

    @Test("80 slow unauthenticated TCP connections from nobody do not take the owner's control away")
    func floodDoesNotStarveTheOwner() throws {
        let controlPort = PortProbe.ephemeral()
        let source = try AgentFixture(name: "api-flood", upArguments: ["--control", "tcp:127.0.0.1:\(controlPort)"])
        defer { source.tearDown() }
        let pid = try #require(source.agentPID)
        let token = try String(contentsOf: source.state.agentTokenFile, encoding: .utf8)

        // The flood: 80 connections that send nothing, each opened again as soon as it is closed, for 25 s.
        let flood = try Background("/usr/bin/setpriv", Account.nobody.arguments + ["/usr/bin/python3", "-c", Self.flood,
                                                                                    String(controlPort), "80", "25"])
        defer { flood.signal(SIGKILL); _ = flood.waitFor(seconds: 5) }
        Thread.sleep(forTimeInterval: 3) // the flood is up: its 80 connections opened and held

        // The owner's CLI: status, a fault and its end, each answered in time.
        let started = Date()
        try source.toolkit(["network", "--status"], timeout: 10)
        try source.toolkit(["network", "--down", "--type", "reject"], timeout: 10)
        #expect(try source.agentStatus().faults.map(\.fault.type) == [.reject])
        try source.toolkit(["network", "--up"], timeout: 10)
        #expect(try source.agentStatus().faults.isEmpty)
        #expect(Date().timeIntervalSince(started) < 10, "the owner waited \(Date().timeIntervalSince(started)) s")

        // On TCP too, a request with the token gets through within a few tries.
        var answered = false
        for _ in 0..<10 where !answered {
            answered = (try Curl.tcp("http://127.0.0.1:\(controlPort)/status", token: token)).status == 200
        }
        #expect(answered, "no TCP request with the token was answered during the flood")

        #expect(flood.waitFor(seconds: 40) == 0, "the flood failed: \(flood.text.suffix(500))")
        let closed = Int(flood.text.split(separator: "\n").last ?? "") ?? 0
        #expect(closed > 80, "the agent closed only \(closed) of the idle unauthenticated connections")
        #expect(source.agentPID == pid && ChildProcess.isAlive(pid))
    }

    /// Holds N connections that never send a byte, reopening each one the agent closes; prints how many it closed.
    static let flood = #"""
    import socket, sys, time, select
    port, count, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    def connect():
        s = socket.socket(); s.settimeout(2)
        try: s.connect(("127.0.0.1", port)); return s
        except OSError: s.close(); return None
    sockets = [s for s in (connect() for _ in range(count)) if s]
    closed, end = 0, time.time() + seconds
    while time.time() < end:
        readable, _, _ = select.select(sockets, [], [], 0.1) if sockets else ([], [], [])
        for s in readable:
            try: data = s.recv(64)
            except OSError: data = b""
            if not data:
                closed += 1; sockets.remove(s); s.close()
        while len(sockets) < count and time.time() < end:
            s = connect()
            if s is None: break
            sockets.append(s); time.sleep(0.01)
    print(closed)
    """#
}
