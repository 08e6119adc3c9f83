import Foundation
import MariaDB
import Source
import Synchronization
import TestCases

/// The toolkit's own writes during a run: an insert every 100 ms, an update every 5th and a
/// delete every 10th tick, on its own connection straight to the server (never the gateway),
/// on a thread of its own.
public final class SteadyLoad: RunLoad, @unchecked Sendable {
    private let target: Target
    private let table: String
    private let counts = Mutex(LoadSummary(inserted: 0, updated: 0, deleted: 0, table: ""))
    private let loop = ThreadLoop()
    private let hold = WriteHold()
    private let deleted = Mutex(Set<String>())

    public init(target: Target, table: String) {
        self.target = target
        self.table = table
        counts.withLock { $0.table = table }
    }

    public func run() async { await loop.run { [self] in write() } }

    private func write() {
        var connection: MariaDBConnection?
        var tick = 0
        let run = UUID().uuidString.prefix(8)
        while !loop.isStopping {
            if hold.isPaused {
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            tick += 1
            hold.write {
                do {
                    if connection == nil { connection = try target.connect() }
                    let database = target.database
                    _ = try connection!.execute("INSERT INTO \(database).\(table) (name, email) VALUES (?, ?)",
                                                [.text("run \(run) row \(tick)"), .text("run-\(run)-\(tick)@toolkit.test")])
                    counts.withLock { $0.inserted += 1 }
                    if tick % 5 == 0 {
                        let changed = try connection!.execute(
                            "UPDATE \(database).\(table) SET status = 'inactive', name = CONCAT(name, ' updated') WHERE email LIKE ? AND status = 'active' ORDER BY id DESC LIMIT 1",
                            [.text("run-\(run)-%")])
                        counts.withLock { $0.updated += Int(changed) }
                    }
                    if tick % 10 == 0, let id = try connection!.query(
                        "SELECT id FROM \(database).\(table) WHERE email LIKE ? AND status = 'inactive' ORDER BY id LIMIT 1",
                        [.text("run-\(run)-%")]).rows.first?.first ?? nil {
                        let removed = try connection!.execute("DELETE FROM \(database).\(table) WHERE id = ?", [.text(id)])
                        counts.withLock { $0.deleted += Int(removed) }
                        if removed > 0 { deleted.withLock { _ = $0.insert(id) } }
                    }
                } catch {
                    connection?.close()
                    connection = nil
                }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        connection?.close()
    }

    /// Holds the writes (waits for the one in flight), so that a destination that keeps up can be
    /// seen equal to the source; `resume()` goes on.
    public func pause() async {
        await hold.pause()
    }

    public func resume() { hold.resume() }

    /// The ids of the rows it deleted (the table's key is `id`).
    public func deletedKeys() -> [String: Set<String>] {
        [table.lowercased(): deleted.withLock { $0 }]
    }

    /// Stops the writes (waits for the one in flight); idempotent.
    public func stop() async -> LoadSummary {
        await loop.stop()
        return counts.withLock { $0 }
    }
}

/// Holds a write loop between two writes: `pause()` returns once no write is in flight, and the
/// loop checks `isPaused` before each write.
final class WriteHold: Sendable {
    private let paused = Atomic<Bool>(false)
    /// Held while a write is in flight.
    private let writing = Mutex(())

    var isPaused: Bool { paused.load(ordering: .relaxed) }

    func write(_ body: () -> Void) { writing.withLock { _ in body() } }

    func pause() async {
        paused.store(true, ordering: .relaxed)
        await Blocking.run { [self] in writing.withLock { _ in } }
    }

    func resume() { paused.store(false, ordering: .relaxed) }
}
