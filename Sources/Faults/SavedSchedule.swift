import Foundation

/// Where the agent keeps its `ScheduleRecord` for a successor: a file of its own in the real agent
/// (written to a new file and renamed over the old one), a fake that fills up in tests.
public protocol ScheduleRecordStorage: Sendable {
    /// The saved bytes; nil when there are none.
    func read() throws -> Data?
    /// Replaces the saved bytes whole (a full disk fails this and leaves the old ones).
    func replace(with data: Data) throws
    /// Removes the saved bytes: needs no free space.
    func remove() throws
    /// Cuts the saved bytes to none, where they cannot be removed: needs no free space either.
    func empty() throws
}

/// The schedule as a successor may find it, kept fail-safe: a record is there only while it says
/// what this agent still wants. Before anything it holds ends the record is voided (removed, which
/// needs no space), and a record that cannot be written is voided too, so that a fault that ended
/// never comes back from an old record — a restarted agent puts back only what was saved as still
/// wanted after the last change. The price of a full disk is the other way round: a fault still
/// wanted is not put back by a restarted agent. An empty or unreadable record is void.
public struct SavedSchedule<Storage: ScheduleRecordStorage>: Sendable {
    public let storage: Storage

    public init(storage: Storage) { self.storage = storage }

    /// How saving went.
    public enum Outcome: Sendable, Hashable {
        case saved
        /// Not written (`error`); the old record was voided, so nothing out of date is put back.
        case voided(error: String)
        /// Not written, and the old record could not be voided either: a successor may put back
        /// what it holds (`error`: both failures).
        case stale(error: String)

        /// What went wrong, for the agent's answer and log; nil when saved.
        public var problem: String? {
            switch self {
            case .saved: nil
            case .voided(let error):
                "cannot save the agent's schedule (\(error)); the saved one was removed, so a restarted agent puts no fault back"
            case .stale(let error):
                "cannot save the agent's schedule, nor remove the old one (\(error)); a restarted agent may put back faults that ended"
            }
        }
    }

    /// The record a restarted agent goes on with; nil when none was saved or it is void. `problem`
    /// names a record that is there but cannot be read.
    public func load() -> (record: ScheduleRecord?, problem: String?) {
        let data: Data?
        do { data = try storage.read() } catch { return (nil, "the saved schedule cannot be read (\(error)); no fault is put back") }
        guard let data, !data.isEmpty else { return (nil, nil) }
        do { return (try JSONDecoder().decode(ScheduleRecord.self, from: data), nil) } catch {
            return (nil, "the saved schedule cannot be read (\(error)); no fault is put back")
        }
    }

    /// Voids the saved record: done before a fault it holds ends. Returns the error when neither
    /// removing nor emptying it worked.
    @discardableResult
    public func void() -> String? {
        do { try storage.remove(); return nil } catch {
            do { try storage.empty(); return nil } catch let second {
                return "\(error); \(second)"
            }
        }
    }

    /// Saves `record`; if that fails, voids the old one.
    public func save(_ record: ScheduleRecord) -> Outcome {
        let data: Data
        do { data = try JSONEncoder().encode(record) } catch { return void().map { .stale(error: "\(error); \($0)") } ?? .voided(error: "\(error)") }
        do {
            try storage.replace(with: data)
            return .saved
        } catch {
            return void().map { .stale(error: "\(error); \($0)") } ?? .voided(error: "\(error)")
        }
    }
}

extension ScheduleAction {
    /// True for an action that ends a window.
    public var ends: Bool {
        if case .clear = self { return true }
        return false
    }
}
