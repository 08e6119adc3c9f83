import NIOCore

/// A token bucket that answers "when may these bytes leave?" instead of dropping them.
///
/// The bucket holds up to `capacity` byte tokens and refills at `bytesPerSecond`; it starts full.
/// Rather than storing a token count it stores `fullAt`, the instant at which the bucket would
/// be full again if nothing more were sent (the virtual-time form of a token bucket), so that
/// all the arithmetic is exact integer nanoseconds. Pure: time only comes in as arguments.
struct TokenBucket: Sendable, Equatable {
    let bytesPerSecond: Int
    let capacity: Int
    private var fullAt: NIODeadline

    init(bytesPerSecond: Int, capacity: Int, now: NIODeadline) {
        precondition(bytesPerSecond > 0 && capacity > 0)
        self.bytesPerSecond = bytesPerSecond
        self.capacity = capacity
        self.fullAt = now
    }

    /// The default burst: 50 ms worth of bytes, and never less than 1 KiB.
    static func defaultCapacity(bytesPerSecond: Int) -> Int {
        max(bytesPerSecond / 20, 1024)
    }

    /// Tokens available at `now`.
    func tokens(at now: NIODeadline) -> Int {
        guard now < fullAt else { return capacity }
        return capacity - Int(refillBytes(in: fullAt - now))
    }

    /// Takes `byteCount` tokens (at most `capacity`) at the first instant not before `readyAt`
    /// at which the bucket holds them, and returns that instant.
    mutating func departure(of byteCount: Int, readyAt: NIODeadline) -> NIODeadline {
        precondition(byteCount >= 0 && byteCount <= capacity, "split chunks to at most capacity bytes")
        // tokens(t) = capacity - rate * (fullAt - t) >= byteCount  <=>  t >= fullAt - (capacity - byteCount) / rate
        let earliest = fullAt - refillTime(of: capacity - byteCount)
        let departure = max(readyAt, earliest)
        fullAt = max(fullAt, departure) + refillTime(of: byteCount)
        return departure
    }

    private func refillTime(of byteCount: Int) -> TimeAmount {
        .nanoseconds(Int64(byteCount) * 1_000_000_000 / Int64(bytesPerSecond))
    }

    private func refillBytes(in time: TimeAmount) -> Int64 {
        time.nanoseconds * Int64(bytesPerSecond) / 1_000_000_000
    }
}
