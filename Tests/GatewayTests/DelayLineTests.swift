import NIOCore
import Testing

@testable import Gateway

/// A deterministic generator for jitter (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("DelayLine")
struct DelayLineTests {
    let start = NIODeadline.uptimeNanoseconds(5_000_000_000)

    @Test func delaysEachChunkByTheDelayPlusItsJitter() {
        var line = DelayLine(delay: .milliseconds(50), jitter: .milliseconds(10), lastRelease: start)
        #expect(line.release(arrivedAt: start, jitterSample: .zero) == start + .milliseconds(50))
        #expect(
            line.release(arrivedAt: start + .milliseconds(100), jitterSample: .milliseconds(7))
                == start + .milliseconds(157))
    }

    @Test func clampsJitterSamplesToTheConfiguredRange() {
        var line = DelayLine(delay: .milliseconds(50), jitter: .milliseconds(10), lastRelease: start)
        #expect(line.release(arrivedAt: start, jitterSample: .seconds(3)) == start + .milliseconds(60))
    }

    @Test func neverReleasesAChunkBeforeThePreviousOne() {
        var line = DelayLine(delay: .milliseconds(50), jitter: .milliseconds(40), lastRelease: start)
        let first = line.release(arrivedAt: start, jitterSample: .milliseconds(40))
        // Arrives 1 ms later with no jitter: it would overtake, so it waits for the first.
        let second = line.release(arrivedAt: start + .milliseconds(1), jitterSample: .zero)
        #expect(first == start + .milliseconds(90))
        #expect(second == first)
    }

    @Test func randomJitterStaysInRangeAndInOrder() {
        var generator = SeededGenerator(state: 42)
        var line = DelayLine(delay: .milliseconds(20), jitter: .milliseconds(30), lastRelease: start)
        var previous = start
        for step in 0..<1000 {
            let arrival = start + .milliseconds(Int64(step))
            let release = line.release(arrivedAt: arrival, using: &generator)
            #expect(release >= previous)
            #expect(release >= arrival + .milliseconds(20))
            #expect(release <= max(arrival + .milliseconds(50), previous))
            previous = release
        }
    }
}
