import Faults
import Foundation
import Synchronization
import Testing

/// A record's file on a disk that may be full: replacing fails, removing and emptying need no room.
final class FakeRecordStorage: ScheduleRecordStorage {
    struct Full: Error, CustomStringConvertible { var description: String }
    let state = Mutex<(data: Data?, full: Bool, removeFails: Bool, emptyFails: Bool)>((nil, false, false, false))

    var data: Data? { state.withLock { $0.data } }
    func set(full: Bool? = nil, removeFails: Bool? = nil, emptyFails: Bool? = nil) {
        state.withLock {
            if let full { $0.full = full }
            if let removeFails { $0.removeFails = removeFails }
            if let emptyFails { $0.emptyFails = emptyFails }
        }
    }

    func read() throws -> Data? { data }
    func replace(with data: Data) throws {
        try state.withLock {
            guard !$0.full else { throw Full(description: "No space left on device") }
            $0.data = data
        }
    }
    func remove() throws {
        try state.withLock {
            guard !$0.removeFails else { throw Full(description: "Read-only file system") }
            $0.data = nil
        }
    }
    func empty() throws {
        try state.withLock {
            guard !$0.emptyFails else { throw Full(description: "Permission denied") }
            if $0.data != nil { $0.data = Data() }
        }
    }
}

@Suite("SavedSchedule: a record is there only while it says what is still wanted")
struct SavedScheduleTests {
    let wall = 1_800_000_000.0
    let reject = FaultSpec(type: .reject)

    /// A timed reject in window 2, as the agent records it.
    func recordOfTimedReject() -> ScheduleRecord {
        var schedule = Schedule(firstWindowID: 2)
        _ = schedule.handle(.down(reject, duration: .seconds(300)), now: .at(0))
        return schedule.record(now: .at(0), wallNow: wall)
    }

    @Test func savedRecordIsLoaded() {
        let storage = FakeRecordStorage()
        let saved = SavedSchedule(storage: storage)
        #expect(saved.load().record == nil, "nothing saved yet")
        #expect(saved.save(recordOfTimedReject()) == .saved)
        #expect(saved.load().record == recordOfTimedReject())
        #expect(saved.load().record?.inForce(at: wall + 16) == [reject])
    }

    /// The issue: `up` on a full disk could not rewrite the record, and the next agent put the
    /// ended reject back for its remaining 284 s.
    @Test func anEndedFaultWhoseRecordCannotBeRewrittenIsNeverPutBack() {
        let storage = FakeRecordStorage()
        let saved = SavedSchedule(storage: storage)
        var schedule = Schedule(firstWindowID: 2)
        _ = schedule.handle(.down(reject, duration: .seconds(300)), now: .at(0))
        #expect(saved.save(schedule.record(now: .at(0), wallNow: wall)) == .saved)

        storage.set(full: true)
        let actions = schedule.handle(.up, now: .at(16))
        #expect(actions.contains { $0.ends })
        // The agent's order: void before the fault ends, then save what is left.
        #expect(saved.void() == nil)
        let outcome = saved.save(schedule.record(now: .at(16), wallNow: wall + 16))
        guard case .voided(let error) = outcome else { Issue.record("\(outcome)"); return }
        #expect(error.contains("No space left on device"))
        #expect(outcome.problem?.contains("a restarted agent puts no fault back") == true)

        // A successor after the space is freed finds nothing to put back.
        storage.set(full: false)
        #expect(saved.load().record == nil)
        let restored = Schedule.restoring(saved.load().record ?? ScheduleRecord(nextWindowID: 1, faults: []), now: .at(0), wallNow: wall + 20)
        #expect(restored.resumed.isEmpty)
    }

    @Test func aRecordThatCannotBeUpdatedIsVoidEvenWhenNothingEnded() {
        // A shorter deadline for the same fault changes no window: a record still saying 300 s
        // must not outlive the change.
        let storage = FakeRecordStorage()
        let saved = SavedSchedule(storage: storage)
        #expect(saved.save(recordOfTimedReject()) == .saved)
        storage.set(full: true)
        var shorter = recordOfTimedReject()
        shorter.faults[0].expiry = wall + 10
        #expect(saved.save(shorter) == .voided(error: "No space left on device"))
        #expect(saved.load().record == nil)
    }

    @Test func aRecordThatCannotBeRemovedIsEmptiedAndEmptyIsVoid() {
        let storage = FakeRecordStorage()
        let saved = SavedSchedule(storage: storage)
        #expect(saved.save(recordOfTimedReject()) == .saved)
        storage.set(removeFails: true)
        #expect(saved.void() == nil)
        #expect(storage.data == Data())
        #expect(saved.load().record == nil && saved.load().problem == nil)
    }

    @Test func aRecordThatCanNeitherBeWrittenNorVoidedIsStaleAndSaysSo() {
        let storage = FakeRecordStorage()
        let saved = SavedSchedule(storage: storage)
        #expect(saved.save(recordOfTimedReject()) == .saved)
        storage.set(full: true, removeFails: true, emptyFails: true)
        let outcome = saved.save(ScheduleRecord(nextWindowID: 3, faults: []))
        guard case .stale = outcome else { Issue.record("\(outcome)"); return }
        #expect(outcome.problem?.contains("may put back faults that ended") == true)
    }

    @Test func anUnreadableRecordIsVoidAndNamed() throws {
        let storage = FakeRecordStorage()
        try storage.replace(with: Data("{\"faults\":[{\"spec\":".utf8))
        let loaded = SavedSchedule(storage: storage).load()
        #expect(loaded.record == nil)
        #expect(loaded.problem?.contains("no fault is put back") == true)
    }
}
