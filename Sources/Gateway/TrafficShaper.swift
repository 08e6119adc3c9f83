import NIOCore

/// One piece of a chunk and the instant it may be written.
struct ScheduledPiece: Sendable, Equatable {
    var length: Int
    var releaseAt: NIODeadline
}

/// The shaping of one direction: a `DelayLine` followed by an optional `TokenBucket`.
/// Chunks larger than the bucket's capacity are split so the rate stays smooth.
/// Release times never decrease, so pieces leave in the order they arrived.
struct TrafficShaper: Sendable, Equatable {
    private var delayLine: DelayLine
    private var bucket: TokenBucket?
    private(set) var lastRelease: NIODeadline

    /// `lastRelease` carries the order over from the shaper this one replaces.
    init(_ shaping: DirectionShaping, now: NIODeadline, lastRelease: NIODeadline) {
        let start = max(now, lastRelease)
        delayLine = DelayLine(delay: shaping.delay, jitter: shaping.jitter, lastRelease: start)
        bucket = shaping.bytesPerSecond.map {
            TokenBucket(bytesPerSecond: $0, capacity: TokenBucket.defaultCapacity(bytesPerSecond: $0), now: now)
        }
        self.lastRelease = start
    }

    mutating func schedule(
        byteCount: Int,
        arrivedAt arrival: NIODeadline,
        using generator: inout some RandomNumberGenerator
    ) -> [ScheduledPiece] {
        let ready = delayLine.release(arrivedAt: arrival, using: &generator)
        guard var bucket else {
            lastRelease = max(lastRelease, ready)
            return [ScheduledPiece(length: byteCount, releaseAt: lastRelease)]
        }
        var pieces: [ScheduledPiece] = []
        var remaining = byteCount
        repeat {
            let length = min(remaining, bucket.capacity)
            lastRelease = max(lastRelease, bucket.departure(of: length, readyAt: ready))
            pieces.append(ScheduledPiece(length: length, releaseAt: lastRelease))
            remaining -= length
        } while remaining > 0
        self.bucket = bucket
        return pieces
    }

    /// Release time of an end-of-stream marker: delayed like a chunk, after every chunk.
    mutating func scheduleMarker(
        arrivedAt arrival: NIODeadline,
        using generator: inout some RandomNumberGenerator
    ) -> NIODeadline {
        lastRelease = max(lastRelease, delayLine.release(arrivedAt: arrival, using: &generator))
        return lastRelease
    }
}
