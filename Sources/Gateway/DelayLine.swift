import NIOCore

/// Delays each chunk of one direction by a fixed time plus random jitter, and never lets a
/// chunk leave before the one ahead of it (jitter stretches gaps; it does not reorder).
/// Pure: time and randomness come in as arguments.
struct DelayLine: Sendable, Equatable {
    let delay: TimeAmount
    let jitter: TimeAmount
    /// When the last chunk leaves; the next one never leaves earlier.
    private(set) var lastRelease: NIODeadline

    init(delay: TimeAmount, jitter: TimeAmount, lastRelease: NIODeadline) {
        self.delay = max(delay, .zero)
        self.jitter = max(jitter, .zero)
        self.lastRelease = lastRelease
    }

    /// Release time of a chunk that arrived at `arrival`, with `jitterSample` in `0...jitter`.
    mutating func release(arrivedAt arrival: NIODeadline, jitterSample: TimeAmount) -> NIODeadline {
        let sample = min(max(jitterSample, .zero), jitter)
        lastRelease = max(arrival + delay + sample, lastRelease)
        return lastRelease
    }

    mutating func release(
        arrivedAt arrival: NIODeadline,
        using generator: inout some RandomNumberGenerator
    ) -> NIODeadline {
        let sample: TimeAmount =
            jitter > .zero ? .nanoseconds(Int64.random(in: 0...jitter.nanoseconds, using: &generator)) : .zero
        return release(arrivedAt: arrival, jitterSample: sample)
    }
}
