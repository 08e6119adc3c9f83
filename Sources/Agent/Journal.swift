import Faults
import Foundation
import Synchronization

/// The agent's journal: every event, appended as one JSON line to `journal.jsonl`, and kept in
/// memory for the measurements. Safe to call from any thread; writes are small and unbuffered.
public final class Journal: Sendable {
    public let url: URL
    private let state: Mutex<State>
    private let codec = JournalCodec()
    /// Events kept in memory; older ones stay in the file.
    private let memoryLimit = 200_000

    private struct State {
        var handle: FileHandle?
        var events: [JournalEvent] = []
        var dropped = 0
    }

    public init(url: URL) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) {
            FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o640])
        }
        let handle = try FileHandle(forUpdating: url)
        let existing = try handle.readToEnd() ?? Data()
        // A crashed predecessor may have left half a line: start ours on a fresh line.
        if let last = existing.last, last != UInt8(ascii: "\n") { handle.write(Data("\n".utf8)) }
        let decoded = JournalCodec().decode(existing).events
        state = Mutex(State(handle: handle, events: Array(decoded.suffix(memoryLimit))))
    }

    public func append(_ event: JournalEvent) {
        let line = try? codec.encodeLine(event)
        state.withLock { state in
            if let line { state.handle?.write(line) }
            state.events.append(event)
            if state.events.count > memoryLimit + memoryLimit / 10 {
                let excess = state.events.count - memoryLimit
                state.events.removeFirst(excess)
                state.dropped += excess
            }
        }
    }

    /// Appends an event stamped now.
    public func record(_ kind: JournalEventKind, _ fill: (inout JournalEvent) -> Void = { _ in }) {
        var event = JournalEvent(at: JournalEvent.timestamp(Date()), kind: kind)
        fill(&event)
        append(event)
    }

    /// Events from index `since` (counted from the agent's first event in memory) on.
    public func events(since: Int) -> (events: [JournalEvent], next: Int) {
        state.withLock { state in
            let total = state.dropped + state.events.count
            let start = max(0, since - state.dropped)
            guard start < state.events.count else { return ([], total) }
            return (Array(state.events[start...]), total)
        }
    }

    public var allEvents: [JournalEvent] { state.withLock { $0.events } }

    public func close() {
        state.withLock { state in
            try? state.handle?.close()
            state.handle = nil
        }
    }
}
