import Foundation
import MariaDB
import Soak
import Source
import Synchronization
import TestCases

/// The soak's writes, with a history: every 100 ms an insert, an update or a delete on the
/// workload table, on its own connection straight to the server (never the gateway), each one
/// recorded with its key, its times and how it ended. A write the server never answered (the
/// link broke mid-statement: a crash, a stop) is `indeterminate`; one that could not reach the
/// server, or that the server refused, `failed`. Which row and which kind come from the seed.
public final class HistoryLoad: SoakWorkload, @unchecked Sendable {
    private let target: Target
    private let table: String
    /// "soak-1a2b3c4d-": every insert's email starts with it.
    public let tagPrefix: String
    private let seed: UInt64
    private let epoch: @Sendable () -> Double
    private let operations = Mutex<[SoakOperation]>([])
    private let loop = ThreadLoop()
    private let hold = WriteHold()

    public init(target: Target, table: String, seed: UInt64, epoch: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.target = target
        self.table = table
        self.seed = seed
        self.epoch = epoch
        tagPrefix = "soak-\(String(UUID().uuidString.prefix(8)).lowercased())-"
    }

    public var history: [SoakOperation] { operations.withLock { $0 } }

    public func run() async { await loop.run { [self] in write() } }

    private func write() {
        var connection: MariaDBConnection?
        var random = SplitMix64(seed: seed ^ 0x5A0C_5A0C)
        var alive: [Int] = []
        var seq = 0
        let name = "\(target.database).\(table)"
        while !loop.isStopping {
            if hold.isPaused {
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            seq += 1
            let roll = random.next() % 100
            let kind: SoakOperation.Kind = alive.count < 5 || roll < 60 ? .insert : roll < 85 ? .update : .delete
            var id: Int? = kind == .insert ? nil : alive[Int(random.next() % UInt64(alive.count))]
            let tag = kind == .insert ? "\(tagPrefix)\(seq)@toolkit.test" : nil
            hold.write {
                let started = epoch()
                var outcome = SoakOperation.Outcome.ok
                var problem: String?
                do {
                    if connection == nil {
                        do { connection = try target.connect() } catch {
                            throw Unreached(error: "\(error)")
                        }
                    }
                    switch kind {
                    case .insert:
                        try connection!.execute("INSERT INTO \(name) (name, email) VALUES (?, ?)", [.text("soak op \(seq)"), .text(tag!)])
                        // The key, when the answer to asking it comes; else the source names it by its tag later.
                        id = (try? connection!.query("SELECT LAST_INSERT_ID()").scalar).flatMap { Int($0) }
                    case .update:
                        try connection!.execute("UPDATE \(name) SET name = ?, status = 'inactive' WHERE id = ?", [.text("soak op \(seq)"), .int(Int64(id!))])
                    case .delete:
                        try connection!.execute("DELETE FROM \(name) WHERE id = ?", [.int(Int64(id!))])
                    }
                } catch let unreached as Unreached {
                    outcome = .failed
                    problem = unreached.error
                } catch let failure as MariaDBError {
                    outcome = failure.isConnectionLost ? .indeterminate : .failed
                    problem = failure.description
                    if failure.isConnectionLost { connection?.close(); connection = nil }
                } catch {
                    outcome = .indeterminate
                    problem = "\(error)"
                    connection?.close()
                    connection = nil
                }
                let operation = SoakOperation(seq: seq, kind: kind, id: id, tag: tag, started: started, ended: epoch(), outcome: outcome, error: problem)
                operations.withLock { $0.append(operation) }
                if outcome == .ok, kind == .insert, let id { alive.append(id) }
                if outcome != .failed, kind == .delete, let id { alive.removeAll { $0 == id } }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        connection?.close()
    }

    private struct Unreached: Error { let error: String }

    public func pause() async {
        await hold.pause()
    }

    public func resume() { hold.resume() }

    public func stop() async -> LoadSummary {
        await loop.stop()
        let history = self.history.filter { $0.outcome == .ok }
        return LoadSummary(inserted: history.count { $0.kind == .insert }, updated: history.count { $0.kind == .update },
                           deleted: history.count { $0.kind == .delete }, table: table)
    }
}

/// The heartbeat: `_toolkit_heartbeat`'s one row set to now (microseconds since 1970) every
/// second, straight to the server, on a thread of its own. A destination's newest heartbeat
/// tells how far behind it is.
public final class HeartbeatWriter: SoakHeartbeat, @unchecked Sendable {
    private let target: Target
    private let loop = ThreadLoop()

    public init(target: Target) { self.target = target }

    public func run() async {
        await loop.run { [self] in
            var connection: MariaDBConnection?
            while !loop.isStopping {
                do {
                    if connection == nil { connection = try target.connect() }
                    try connection!.execute(Bootstrap.heartbeatUpdate(database: target.database), [.int(Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()))])
                } catch {
                    connection?.close()
                    connection = nil
                }
                for _ in 0..<10 where !loop.isStopping { Thread.sleep(forTimeInterval: 0.1) }
            }
            connection?.close()
        }
    }

    public func stop() async { await loop.stop() }
}

/// The destination's heartbeat read every `every` (2 s), with the destination's own reader, on
/// a thread of its own: a destination that does not answer delays its samples, never the soak.
public final class HeartbeatSampler: SoakSampling, @unchecked Sendable {
    private let world: any SoakWorld
    private let every: Double
    private let loop = ThreadLoop()
    private let state = Mutex<(samples: [LagSample], unreadable: String?)>(([], nil))

    public init(world: any SoakWorld, everySeconds: Double = 2) {
        self.world = world
        every = everySeconds
    }

    public var samples: [LagSample] { state.withLock { $0.samples } }
    public var unreadable: String? { state.withLock { $0.unreadable } }

    public func run() async {
        await loop.run { [self] in
            while !loop.isStopping {
                let at = Date().timeIntervalSince1970
                let sample: LagSample
                do {
                    let beat = try world.destinationHeartbeat()
                    if beat == nil { state.withLock { $0.unreadable = "heartbeat table not replicated" } }
                    sample = LagSample(at: at, beat: beat)
                } catch {
                    sample = LagSample(at: at, beat: nil)
                }
                state.withLock { $0.samples.append(sample) }
                let next = at + every
                while !loop.isStopping, Date().timeIntervalSince1970 < next { Thread.sleep(forTimeInterval: 0.1) }
            }
        }
    }

    public func stop() async { await loop.stop() }
}
