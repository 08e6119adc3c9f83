import AgentAPI
import Faults
import Testing

/// The control API's fault commands as the schedule receives them. Pure: no server.
@Suite("FaultCommand → schedule")
struct FaultCommandTests {
    @Test("a flap's chosen backend is part of its fault, so every on phase is enforced the same way")
    func flapKeepsItsBackend() throws {
        let command = FaultCommand(action: .flap, spec: FaultSpec(type: .reject), durationSeconds: 90,
                                   intervalSeconds: 30, backend: .iptables)
        var schedule = FaultSchedule<ContinuousClock>()
        let start = ContinuousClock.now
        var actions = schedule.handle(try command.scheduleCommand(), now: start)
        for second in [30, 60, 90] {
            actions += schedule.tick(now: start.advanced(by: .seconds(second)))
        }
        let applied = actions.compactMap { if case let .apply(spec, _) = $0 { spec } else { nil } }
        #expect(applied.count == 2)
        #expect(applied.allSatisfy { $0.backend == .iptables })
    }

    @Test("a backend goes only with reject or timeout")
    func backendOnlyWithKernelFaults() {
        let command = FaultCommand(action: .down, spec: FaultSpec(type: .service), backend: .iptables)
        #expect(throws: AgentFailure.self) { try command.scheduleCommand() }
    }
}

/// The one validation the CLI, the control API and the schedule share: a field that does not go
/// with the action is refused with the command line's flag, never dropped. Pure: no server.
@Suite("FaultCommand validation")
struct FaultCommandValidationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var command: FaultCommand
        var message: String
        var testDescription: String { message }
    }

    static let refused: [Case] = [
        Case(command: FaultCommand(action: .up, durationSeconds: 5),
             message: "--up goes alone: it takes no fault, --duration, --interval or --backend"),
        Case(command: FaultCommand(action: .up, spec: FaultSpec(type: .reject)),
             message: "--up goes alone: it takes no fault, --duration, --interval or --backend"),
        Case(command: FaultCommand(action: .slowOff, durationSeconds: 5),
             message: "--slow --off goes alone: it takes no fault, --duration, --interval or --backend"),
        Case(command: FaultCommand(action: .down, spec: FaultSpec(type: .reject, latencyMs: 100)),
             message: "--latency goes only with --slow"),
        Case(command: FaultCommand(action: .down, spec: FaultSpec(type: .reject, bytesPerSecond: 4096)),
             message: "--bandwidth goes only with --slow"),
        Case(command: FaultCommand(action: .down, spec: FaultSpec(type: .reject, jitterMs: 5)),
             message: "--jitter goes only with --slow --latency"),
        Case(command: FaultCommand(action: .down, spec: FaultSpec(type: .reject), intervalSeconds: 5),
             message: "--interval goes only with --flap"),
        Case(command: FaultCommand(action: .down, spec: FaultSpec(type: .reset), durationSeconds: 5),
             message: "--duration does not go with --type reset (a reset is one-shot)"),
        Case(command: FaultCommand(action: .down, spec: FaultSpec(type: .reject), durationSeconds: -5),
             message: "--duration must be an integer from 1 to 86400 (seconds), got -5"),
        Case(command: FaultCommand(action: .down, spec: FaultSpec(type: .service, scope: .replication)),
             message: "--only replication does not go with --type service (a stopped server cannot pick which connections it drops)"),
        Case(command: FaultCommand(action: .down, spec: FaultSpec(type: .service), backend: .iptables),
             message: "--backend goes only with --type reject or timeout"),
        Case(command: FaultCommand(action: .slow, spec: .latency(ms: 100), backend: .gateway),
             message: "--backend goes only with --down or --flap"),
        Case(command: FaultCommand(action: .slow, spec: .latency(ms: 100), intervalSeconds: 5),
             message: "--interval goes only with --flap"),
        Case(command: FaultCommand(action: .slow, spec: FaultSpec(type: .reject)),
             message: "--slow needs --latency MS or --bandwidth BYTES"),
        Case(command: FaultCommand(action: .flap, spec: FaultSpec(type: .reset)),
             message: "--flap does not go with --type reset (a reset is one-shot)"),
        Case(command: FaultCommand(action: .flap, spec: FaultSpec(type: .reject), durationSeconds: 10, intervalSeconds: 30),
             message: "--duration must be an integer from 30 to 86400 (seconds, at least the --interval), got 10"),
        Case(command: FaultCommand(action: .down), message: "--down needs --type"),
    ]

    @Test("the control API answers 400 with the same one line the CLI prints", arguments: refused)
    func refusedWithOneLine(_ testCase: Case) {
        do {
            _ = try testCase.command.validated()
            Issue.record("accepted: \(testCase.command)")
        } catch {
            #expect(error.message == testCase.message)
            #expect(testCase.message.hasPrefix(error.flag))
        }
        do {
            _ = try testCase.command.scheduleCommand()
            Issue.record("accepted: \(testCase.command)")
        } catch {
            #expect(error.status == 400)
            #expect(error.message == testCase.message)
        }
    }

    @Test("what fits is accepted as the schedule command it stands for")
    func accepted() throws {
        #expect(try FaultCommand(action: .up).validated() == .up)
        #expect(try FaultCommand(action: .slowOff).validated() == .slowOff)
        #expect(try FaultCommand(action: .down, spec: FaultSpec(type: .reject), durationSeconds: 60).validated()
            == .down(FaultSpec(type: .reject), duration: .seconds(60)))
        #expect(try FaultCommand(action: .flap, spec: FaultSpec(type: .timeout), backend: .iptables).validated()
            == .flap(FaultSpec(type: .timeout, backend: .iptables), interval: .seconds(30), duration: .seconds(300)))
        #expect(try FaultCommand(action: .slow, spec: .latency(ms: 100, jitterMs: 10, scope: .replication), durationSeconds: 5).validated()
            == .down(.latency(ms: 100, jitterMs: 10, scope: .replication), duration: .seconds(5)))
    }
}
