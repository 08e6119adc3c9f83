import Faults
import Foundation
import Testing

/// An agent restarted after a crash restores its schedule from the record its predecessor kept:
/// the two agents' clocks have nothing in common but the wall clock.
@Suite("ScheduleRecord: restoring a schedule after the agent died")
struct ScheduleRecordTests {
    /// Wall-clock seconds at the first agent's `.at(0)`.
    let wallAtStart = 1_800_000_000.0

    @Test func timedFaultResumesUntilItsRecordedDeadline() throws {
        var first = Schedule(firstWindowID: 4)
        _ = first.handle(.down(reject, duration: .seconds(60)), now: .at(0))
        let record = first.record(now: .at(10), wallNow: wallAtStart + 10)
        #expect(record.faults.first?.expiry == wallAtStart + 60)
        #expect(record.inForce(at: wallAtStart + 59) == [reject])
        #expect(record.inForce(at: wallAtStart + 60).isEmpty)

        // Through JSON, as the file holds it.
        let decoded = try JSONDecoder().decode(ScheduleRecord.self, from: JSONEncoder().encode(record))
        #expect(decoded == record)

        // A new agent whose clock reads .at(500) when the wall clock says start + 20.
        var (schedule, resumed, actions) = Schedule.restoring(decoded, now: .at(500), wallNow: wallAtStart + 20)
        #expect(actions.isEmpty)
        #expect(resumed == [ResumedFault(spec: reject, windowID: 4)])
        #expect(schedule.nextDeadline == .at(540), "40 s left of the 60")
        #expect(schedule.deadline(ofWindow: 4) == .at(540))
        #expect(schedule.status(now: .at(500)).first?.remainingSeconds == 40)
        #expect(schedule.tick(now: .at(540)) == [.clear(reject, windowID: 4, reason: .expired)])
        // Window ids go on after the record's.
        #expect(schedule.handle(.down(timeout, duration: nil), now: .at(541)) == [.apply(timeout, windowID: 5)])
    }

    @Test func faultPastItsDeadlineEndsAsExpired() {
        var first = Schedule(firstWindowID: 2)
        _ = first.handle(.down(reject, duration: .seconds(6)), now: .at(0))
        let record = first.record(now: .at(1), wallNow: wallAtStart + 1)
        var (schedule, resumed, actions) = Schedule.restoring(record, now: .at(0), wallNow: wallAtStart + 30)
        #expect(resumed.isEmpty)
        #expect(actions == [.clear(reject, windowID: 2, reason: .expired)])
        #expect(schedule.isIdle)
        #expect(schedule.handle(.down(reject, duration: nil), now: .at(1)) == [.apply(reject, windowID: 3)])
    }

    @Test func untimedFaultResumesUntilUp() {
        var first = Schedule()
        let latency = FaultSpec.latency(ms: 300)
        _ = first.handle(.down(timeout, duration: nil), now: .at(0))
        _ = first.handle(.slow(latencyMs: 300, jitterMs: nil), now: .at(0))
        let record = first.record(now: .at(3), wallNow: wallAtStart + 3)
        var (schedule, resumed, actions) = Schedule.restoring(record, now: .at(0), wallNow: wallAtStart + 86_400)
        #expect(actions.isEmpty)
        #expect(resumed == [ResumedFault(spec: timeout, windowID: 1), ResumedFault(spec: latency, windowID: 2)])
        #expect(schedule.nextDeadline == nil)
        #expect(schedule.shaping == [latency])
        #expect(schedule.handle(.up, now: .at(1)) == [
            .clear(timeout, windowID: 1, reason: .up), .clear(latency, windowID: 2, reason: .up),
        ])
    }

    @Test func flapGoesOnInThePhaseItIsInNow() {
        var first = Schedule()
        _ = first.handle(.flap(reject, interval: .seconds(10), duration: .seconds(60)), now: .at(0))
        let record = first.record(now: .at(2), wallNow: wallAtStart + 2)

        // Dead from 2 s to 15 s: the first on phase ended at 10 s; the agent is back in its off phase.
        var (schedule, resumed, actions) = Schedule.restoring(record, now: .at(100), wallNow: wallAtStart + 15)
        #expect(resumed.isEmpty)
        #expect(actions == [.clear(reject, windowID: 1, reason: .flapToggle)])
        #expect(schedule.nextDeadline == .at(105))
        #expect(schedule.tick(now: .at(105)) == [.apply(reject, windowID: 2)])

        // Dead from 2 s to 5 s: still in the first on phase, which ends at 10 s.
        let (again, stillOn, none) = Schedule.restoring(record, now: .at(0), wallNow: wallAtStart + 5)
        #expect(none.isEmpty)
        #expect(stillOn == [ResumedFault(spec: reject, windowID: 1)])
        #expect(again.deadline(ofWindow: 1) == .at(5))

        // Dead from 2 s to 25 s: the second on phase began at 20 s; it is put in place now.
        let (_, none2, second) = Schedule.restoring(record, now: .at(0), wallNow: wallAtStart + 25)
        #expect(none2.isEmpty)
        #expect(second == [.clear(reject, windowID: 1, reason: .flapToggle), .apply(reject, windowID: 2)])

        // Dead past the flap's end: the first window closes; the phases that came and went
        // without an agent were never enforced and are not reported as windows.
        var (ended, gone, missed) = Schedule.restoring(record, now: .at(0), wallNow: wallAtStart + 70)
        #expect(gone.isEmpty)
        #expect(missed == [.clear(reject, windowID: 1, reason: .flapToggle)])
        #expect(ended.isIdle)
        #expect(ended.handle(.down(reject, duration: nil), now: .at(1)) == [.apply(reject, windowID: 4)])
    }

    @Test func emptyScheduleRecordsNothing() {
        let record = Schedule(firstWindowID: 9).record(now: .at(0), wallNow: wallAtStart)
        #expect(record == ScheduleRecord(nextWindowID: 9, faults: []))
        let (schedule, resumed, actions) = Schedule.restoring(record, now: .at(0), wallNow: wallAtStart)
        #expect(schedule.isIdle && resumed.isEmpty && actions.isEmpty)
    }
}
