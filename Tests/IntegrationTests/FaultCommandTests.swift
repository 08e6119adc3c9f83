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
