/// Where a stream's positions end in the bytes written to a client, so that the bytes its TCP
/// acknowledged name the last position it *received*.
///
/// The writer notes, per event, the byte count at the event's end (counted from the
/// connection's first byte towards the client) and the position the event leaves the stream at;
/// a reader asks with the count acknowledged. Entries at or below an answer are dropped, so the
/// ledger holds what is written but not yet known to be received. `capacity` bounds it: past it,
/// the oldest entries go, and an answer below what is left is unknown.
public struct DeliveryLedger<Position: Sendable & Equatable>: Sendable {
    /// What a client received.
    public enum Received: Sendable, Equatable {
        /// Nothing written yet, or nothing of it acknowledged.
        case nothing
        /// The last position whose bytes were all acknowledged.
        case position(Position)
        /// The ledger dropped entries the acknowledged count falls among.
        case unknown
    }

    public let capacity: Int
    private var ends: [UInt64] = []
    private var positions: [Position] = []
    /// Index of the first live entry in `ends`/`positions`.
    private var head = 0
    /// The last position known to be received.
    private var received: Position?
    /// The newest entry dropped for room, when entries were dropped: an answer below its end
    /// falls among dropped entries and is unknown.
    private var lastDropped: (end: UInt64, position: Position)?

    public init(capacity: Int = 1 << 18) {
        precondition(capacity > 1)
        self.capacity = capacity
    }

    /// Entries not yet known to be received.
    public var count: Int { ends.count - head }

    /// The last position written, received or not.
    public var lastWritten: Position? { count > 0 ? positions.last : received }

    /// The oldest entry not known to be received: its end and position.
    public var firstUnreceived: (end: UInt64, position: Position)? {
        head < ends.count ? (ends[head], positions[head]) : nil
    }

    /// An event that ends after `byteCount` bytes left the stream at `position`.
    public mutating func wrote(endingAt byteCount: UInt64, position: Position) {
        if count >= capacity {
            head += capacity / 2
            lastDropped = (ends[head - 1], positions[head - 1])
            received = nil
        }
        ends.append(byteCount)
        positions.append(position)
        compactIfWorthIt()
    }

    /// The last position whose bytes lie within the first `acknowledged` bytes.
    public mutating func received(acknowledged: UInt64) -> Received {
        while head < ends.count, ends[head] <= acknowledged {
            received = positions[head]
            head += 1
        }
        compactIfWorthIt()
        if received == nil, let lastDropped {
            guard acknowledged >= lastDropped.end else { return .unknown }
            received = lastDropped.position
        }
        return received.map(Received.position) ?? .nothing
    }

    private mutating func compactIfWorthIt() {
        guard head > 1024, head * 2 > ends.count else { return }
        ends.removeFirst(head)
        positions.removeFirst(head)
        head = 0
    }
}
