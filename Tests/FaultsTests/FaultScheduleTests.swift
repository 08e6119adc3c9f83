import Faults
import Testing

@Suite("FaultSchedule")
struct FaultScheduleTests {
    @Test func timedDownExpiresExactlyAtItsDeadline() {
        var clock = TestClock()
        var schedule = Schedule()
        #expect(schedule.handle(.down(reject, duration: .seconds(60)), now: clock.now) == [.apply(reject, windowID: 1)])
        #expect(schedule.nextDeadline == .at(60))

        clock.advance(by: .seconds(60) - .nanoseconds(1))
        #expect(schedule.tick(now: clock.now) == [])
        #expect(schedule.status(now: clock.now).first?.windowID == 1)

        clock.advance(by: .nanoseconds(1))
        #expect(schedule.tick(now: clock.now) == [.clear(reject, windowID: 1, reason: .expired)])
        #expect(schedule.nextDeadline == nil)
        #expect(schedule.isIdle)
        #expect(schedule.tick(now: clock.now.advanced(by: .seconds(100))) == [])
    }

    @Test func downWithoutDurationStaysUntilUp() {
        var schedule = Schedule()
        _ = schedule.handle(.down(timeout, duration: nil), now: .at(0))
        #expect(schedule.nextDeadline == nil)
        #expect(schedule.tick(now: .at(86_400)) == [])
        #expect(schedule.handle(.up, now: .at(86_400)) == [.clear(timeout, windowID: 1, reason: .up)])
    }

    enum State: String, CaseIterable {
        case idle, down, timedDown, flapOn, flapOff, shapingOnly, connectionAndShaping, afterReset
    }

    @Test(arguments: State.allCases)
    func upClearsEverythingFromEveryState(_ state: State) {
        var schedule = Schedule()
        let latency = FaultSpec.latency(ms: 2000)
        let bandwidth = FaultSpec.bandwidth(bytesPerSecond: 65_536)
        var expected: [ScheduleAction] = []
        switch state {
        case .idle:
            break
        case .down:
            _ = schedule.handle(.down(reject, duration: nil), now: .at(0))
            expected = [.clear(reject, windowID: 1, reason: .up)]
        case .timedDown:
            _ = schedule.handle(.down(timeout, duration: .seconds(60)), now: .at(0))
            expected = [.clear(timeout, windowID: 1, reason: .up)]
        case .flapOn:
            _ = schedule.handle(.flap(reject, interval: .seconds(30), duration: .seconds(300)), now: .at(0))
            expected = [.clear(reject, windowID: 1, reason: .up)]
        case .flapOff:
            _ = schedule.handle(.flap(reject, interval: .seconds(30), duration: .seconds(300)), now: .at(0))
            #expect(schedule.tick(now: .at(30)) == [.clear(reject, windowID: 1, reason: .flapToggle)])
        case .shapingOnly:
            _ = schedule.handle(.slow(latencyMs: 2000, jitterMs: nil), now: .at(0))
            expected = [.clear(latency, windowID: 1, reason: .up)]
        case .connectionAndShaping:
            _ = schedule.handle(.down(reject, duration: .seconds(60)), now: .at(0))
            _ = schedule.handle(.slow(latencyMs: 2000, jitterMs: nil), now: .at(0))
            _ = schedule.handle(.down(bandwidth, duration: .seconds(10)), now: .at(0))
            expected = [
                .clear(reject, windowID: 1, reason: .up),
                .clear(latency, windowID: 2, reason: .up),
                .clear(bandwidth, windowID: 3, reason: .up),
            ]
        case .afterReset:
            _ = schedule.handle(.down(resetSpec, duration: nil), now: .at(0))
        }
        #expect(schedule.handle(.up, now: .at(31)) == expected)
        #expect(schedule.isIdle)
        #expect(schedule.nextDeadline == nil)
        #expect(schedule.status(now: .at(31)).isEmpty)
        #expect(schedule.tick(now: .at(100_000)) == [])
        #expect(schedule.handle(.up, now: .at(31)) == [])
    }

    @Test func aConnectionFaultReplacesAnother() {
        var schedule = Schedule()
        _ = schedule.handle(.down(reject, duration: .seconds(60)), now: .at(0))
        #expect(schedule.handle(.down(timeout, duration: nil), now: .at(10)) == [
            .clear(reject, windowID: 1, reason: .replaced),
            .apply(timeout, windowID: 2),
        ])
        // The replaced fault's timer went with it.
        #expect(schedule.nextDeadline == nil)
        #expect(schedule.tick(now: .at(60)) == [])
        #expect(schedule.status(now: .at(60)).map(\.fault) == [timeout])
    }

    @Test func aConnectionFaultReplacesAFlap() {
        var schedule = Schedule()
        _ = schedule.handle(.flap(timeout, interval: .seconds(30), duration: .seconds(300)), now: .at(0))
        _ = schedule.tick(now: .at(30))
        // Flap in its off phase: nothing to clear, the flap is cancelled.
        #expect(schedule.handle(.down(reject, duration: nil), now: .at(40)) == [.apply(reject, windowID: 2)])
        #expect(schedule.nextDeadline == nil)
    }

    @Test func theSameFaultAgainKeepsItsWindowAndTakesTheNewDeadline() {
        var schedule = Schedule()
        _ = schedule.handle(.down(reject, duration: .seconds(60)), now: .at(0))
        #expect(schedule.handle(.down(reject, duration: .seconds(30)), now: .at(50)) == [])
        #expect(schedule.nextDeadline == .at(80))
        #expect(schedule.handle(.down(reject, duration: nil), now: .at(60)) == [])
        #expect(schedule.nextDeadline == nil)
        #expect(schedule.status(now: .at(60)).map(\.windowID) == [1])
    }

    @Test func resetIsAZeroLengthWindowThatReplacesTheConnectionFault() {
        var schedule = Schedule()
        #expect(schedule.handle(.down(resetSpec, duration: nil), now: .at(0)) == [
            .apply(resetSpec, windowID: 1),
            .clear(resetSpec, windowID: 1, reason: .expired),
        ])
        #expect(schedule.isIdle)

        _ = schedule.handle(.down(reject, duration: nil), now: .at(5))
        #expect(schedule.handle(.down(resetSpec, duration: nil), now: .at(6)) == [
            .clear(reject, windowID: 2, reason: .replaced),
            .apply(resetSpec, windowID: 3),
            .clear(resetSpec, windowID: 3, reason: .expired),
        ])
        #expect(schedule.isIdle)
        #expect(schedule.nextDeadline == nil)
    }

    @Test func resetLeavesShapingFaultsAlone() {
        var schedule = Schedule()
        _ = schedule.handle(.slow(latencyMs: 500, jitterMs: 50), now: .at(0))
        _ = schedule.handle(.down(resetSpec, duration: nil), now: .at(1))
        #expect(schedule.status(now: .at(2)).map(\.fault) == [.latency(ms: 500, jitterMs: 50)])
    }

    /// Runs the schedule like the agent's loop does: sleep to the next deadline, tick.
    private func runToCompletion(_ schedule: inout Schedule, from start: TestClock.Instant) -> [ScheduleAction] {
        var actions: [ScheduleAction] = []
        var steps = 0
        while let deadline = schedule.nextDeadline, steps < 1_000 {
            #expect(deadline >= start)
            actions += schedule.tick(now: deadline)
            steps += 1
        }
        return actions
    }

    @Test func flapTogglesEveryIntervalAndEndsCleared() {
        var schedule = Schedule()
        let first = schedule.handle(.flap(reject, interval: .seconds(30), duration: .seconds(300)), now: .at(0))
        #expect(first == [.apply(reject, windowID: 1)])
        let rest = runToCompletion(&schedule, from: .at(0))
        let all = first + rest

        let applied = all.compactMap { if case let .apply(_, id) = $0 { id } else { nil } }
        let cleared = all.compactMap { if case let .clear(_, id, _) = $0 { id } else { nil } }
        #expect(applied == [1, 2, 3, 4, 5])
        #expect(cleared == applied)
        // Alternates apply/clear, so each on phase is exactly one window.
        for (index, action) in all.enumerated() {
            if case .apply = action { #expect(index.isMultiple(of: 2)) } else { #expect(!index.isMultiple(of: 2)) }
        }
        #expect(schedule.isIdle)
        #expect(schedule.status(now: .at(300)).isEmpty)
    }

    @Test func flapEndingDuringAnOnPhaseClearsItAsExpired() {
        var schedule = Schedule()
        _ = schedule.handle(.flap(timeout, interval: .seconds(30), duration: .seconds(75)), now: .at(0))
        #expect(schedule.tick(now: .at(30)) == [.clear(timeout, windowID: 1, reason: .flapToggle)])
        #expect(schedule.tick(now: .at(60)) == [.apply(timeout, windowID: 2)])
        #expect(schedule.nextDeadline == .at(75))
        #expect(schedule.tick(now: .at(75)) == [.clear(timeout, windowID: 2, reason: .expired)])
        #expect(schedule.isIdle)
    }

    @Test func flapWhoseEndMeetsAToggleDoesNotReopen() {
        var schedule = Schedule()
        _ = schedule.handle(.flap(reject, interval: .seconds(30), duration: .seconds(60)), now: .at(0))
        #expect(schedule.tick(now: .at(30)) == [.clear(reject, windowID: 1, reason: .flapToggle)])
        #expect(schedule.tick(now: .at(60)) == [])
        #expect(schedule.isIdle)
    }

    @Test func aLateTickFiresMissedTogglesInOrder() {
        var schedule = Schedule()
        _ = schedule.handle(.flap(reject, interval: .seconds(10), duration: .seconds(45)), now: .at(0))
        #expect(schedule.tick(now: .at(1_000)) == [
            .clear(reject, windowID: 1, reason: .flapToggle),
            .apply(reject, windowID: 2),
            .clear(reject, windowID: 2, reason: .flapToggle),
            .apply(reject, windowID: 3),
            .clear(reject, windowID: 3, reason: .expired),
        ])
    }

    @Test func flapStatusShowsPhaseAndTimes() {
        var schedule = Schedule()
        _ = schedule.handle(.flap(reject, interval: .seconds(30), duration: .seconds(300)), now: .at(0))
        let on = schedule.status(now: .at(10))
        #expect(on == [ActiveFaultStatus(
            fault: reject, windowID: 1, elapsedSeconds: 10, remainingSeconds: 290,
            flap: FlapStatus(phase: .on, intervalSeconds: 30, nextToggleSeconds: 20, windowsOpened: 1))])
        _ = schedule.tick(now: .at(30))
        let off = schedule.status(now: .at(45))
        #expect(off.first?.windowID == nil)
        #expect(off.first?.flap?.phase == .off)
        #expect(off.first?.elapsedSeconds == 15)
        #expect(off.first?.flap?.nextToggleSeconds == 15)
    }

    @Test func shapingFaultsStackWithAConnectionFault() {
        var schedule = Schedule()
        let bandwidth = FaultSpec.bandwidth(bytesPerSecond: 1_048_576)
        #expect(schedule.handle(.down(reject, duration: nil), now: .at(0)) == [.apply(reject, windowID: 1)])
        #expect(schedule.handle(.slow(latencyMs: 2000, jitterMs: nil), now: .at(1)) == [
            .apply(.latency(ms: 2000), windowID: 2),
        ])
        #expect(schedule.handle(.down(bandwidth, duration: .seconds(30)), now: .at(2)) == [.apply(bandwidth, windowID: 3)])
        #expect(schedule.status(now: .at(3)).map(\.fault) == [reject, .latency(ms: 2000), bandwidth])

        // One latency at a time; the connection fault is untouched.
        #expect(schedule.handle(.slow(latencyMs: 5000, jitterMs: nil), now: .at(4)) == [
            .clear(.latency(ms: 2000), windowID: 2, reason: .replaced),
            .apply(.latency(ms: 5000), windowID: 4),
        ])
        // A new connection fault replaces only the connection fault.
        #expect(schedule.handle(.down(timeout, duration: nil), now: .at(5)) == [
            .clear(reject, windowID: 1, reason: .replaced),
            .apply(timeout, windowID: 5),
        ])
        // --slow --off removes only latency.
        #expect(schedule.handle(.slowOff, now: .at(6)) == [.clear(.latency(ms: 5000), windowID: 4, reason: .up)])
        #expect(schedule.handle(.slowOff, now: .at(6)) == [])
        #expect(schedule.tick(now: .at(32)) == [.clear(bandwidth, windowID: 3, reason: .expired)])
        #expect(schedule.status(now: .at(32)).map(\.fault) == [timeout])
    }

    @Test func timersOfDifferentFaultsFireInDeadlineOrder() {
        var schedule = Schedule()
        let latency = FaultSpec.latency(ms: 100)
        _ = schedule.handle(.down(reject, duration: .seconds(20)), now: .at(0))
        _ = schedule.handle(.down(latency, duration: .seconds(10)), now: .at(0))
        #expect(schedule.nextDeadline == .at(10))
        #expect(schedule.tick(now: .at(25)) == [
            .clear(latency, windowID: 2, reason: .expired),
            .clear(reject, windowID: 1, reason: .expired),
        ])
    }

    @Test func windowIDsIncreaseAndContinueAfterARestart() {
        var schedule = Schedule(firstWindowID: 42)
        var ids: [Int] = []
        for (second, spec) in [reject, timeout, resetSpec, reject].enumerated() {
            for action in schedule.handle(.down(spec, duration: nil), now: .at(second)) {
                if case let .apply(_, id) = action { ids.append(id) }
            }
        }
        #expect(ids == [42, 43, 44, 45])
    }

    @Test func timedStatusCountsDown() {
        var schedule = Schedule()
        _ = schedule.handle(.down(reject, duration: .seconds(60)), now: .at(0))
        let status = schedule.status(now: .at(15))
        #expect(status == [ActiveFaultStatus(
            fault: reject, windowID: 1, elapsedSeconds: 15, remainingSeconds: 45, flap: nil)])
    }

    @Test("a reject or timeout carries the backend that enforces it: only an unscoped one goes to iptables")
    func backendIsResolvedInTheSchedule() {
        var schedule = Schedule(defaultBackend: .iptables)
        // Shaping has one way to be enforced (the gateway) and carries no backend.
        let scopedSlow = FaultSpec.latency(ms: 1000, scope: .replication)
        #expect(schedule.handle(.down(scopedSlow, duration: nil), now: .at(0)) == [.apply(scopedSlow, windowID: 1)])

        var rejectOnIptables = reject
        rejectOnIptables.backend = .iptables
        #expect(schedule.handle(.down(reject, duration: nil), now: .at(0)) == [.apply(rejectOnIptables, windowID: 2)])
        let scopedTimeout = FaultSpec(type: .timeout, scope: .replication)
        #expect(schedule.enforcing(scopedTimeout).backend == .gateway)
        var chosen = timeout
        chosen.backend = .gateway
        #expect(schedule.enforcing(chosen).backend == .gateway)
        #expect(Schedule().enforcing(reject).backend == nil)
        // The clear carries the same spec, so the shell knows what to undo without state of its own.
        #expect(schedule.handle(.up, now: .at(1)) == [
            .clear(rejectOnIptables, windowID: 2, reason: .up), .clear(scopedSlow, windowID: 1, reason: .up),
        ])
    }

    @Test("the shaping in force is the schedule's: scoped, stacked, gone in a flap's off phase and after up")
    func shapingInForce() {
        var schedule = Schedule()
        let lag = FaultSpec.latency(ms: 1000, scope: .replication)
        let narrow = FaultSpec.bandwidth(bytesPerSecond: 65_536)
        _ = schedule.handle(.down(lag, duration: nil), now: .at(0))
        _ = schedule.handle(.flap(narrow, interval: .seconds(10), duration: .seconds(60)), now: .at(0))
        #expect(schedule.shaping == [lag, narrow])
        _ = schedule.tick(now: .at(10))
        #expect(schedule.shaping == [lag])
        _ = schedule.tick(now: .at(20))
        #expect(schedule.shaping == [lag, narrow])
        _ = schedule.handle(.slowOff, now: .at(21))
        #expect(schedule.shaping == [narrow])
        _ = schedule.handle(.up, now: .at(22))
        #expect(schedule.shaping.isEmpty)
    }
}
