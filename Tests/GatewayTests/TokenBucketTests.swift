import NIOCore
import Testing

@testable import Gateway

@Suite("TokenBucket")
struct TokenBucketTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func startsFullAndSendsABurstAtOnce() {
        var bucket = TokenBucket(bytesPerSecond: 1000, capacity: 1000, now: start)
        #expect(bucket.tokens(at: start) == 1000)
        #expect(bucket.departure(of: 1000, readyAt: start) == start)
        #expect(bucket.tokens(at: start) == 0)
    }

    @Test func waitsForTokensOnceEmpty() {
        var bucket = TokenBucket(bytesPerSecond: 1000, capacity: 1000, now: start)
        _ = bucket.departure(of: 1000, readyAt: start)
        #expect(bucket.departure(of: 500, readyAt: start) == start + .milliseconds(500))
        #expect(bucket.departure(of: 500, readyAt: start) == start + .milliseconds(1000))
        #expect(bucket.departure(of: 1, readyAt: start) == start + .milliseconds(1001))
    }

    @Test func refillsWhileIdleButNeverAboveCapacity() {
        var bucket = TokenBucket(bytesPerSecond: 1000, capacity: 1000, now: start)
        _ = bucket.departure(of: 1000, readyAt: start)
        #expect(bucket.tokens(at: start + .milliseconds(250)) == 250)
        #expect(bucket.tokens(at: start + .seconds(10)) == 1000)
        // After a long pause only one capacity's worth leaves at once.
        let later = start + .seconds(10)
        #expect(bucket.departure(of: 1000, readyAt: later) == later)
        #expect(bucket.departure(of: 100, readyAt: later) == later + .milliseconds(100))
    }

    @Test func sustainedRateMatchesBytesPerSecond() {
        let rate = 64 * 1024
        let capacity = TokenBucket.defaultCapacity(bytesPerSecond: rate)
        var bucket = TokenBucket(bytesPerSecond: rate, capacity: capacity, now: start)
        var last = start
        let pieces = 10 * rate / capacity  // ten seconds of data, offered all at once
        for _ in 0..<pieces {
            last = bucket.departure(of: capacity, readyAt: start)
        }
        // The first capacity's worth leaves at once, the rest at the rate.
        let expected = TimeAmount.nanoseconds(Int64(pieces - 1) * Int64(capacity) * 1_000_000_000 / Int64(rate))
        #expect(abs((last - start).nanoseconds - expected.nanoseconds) < 1_000_000)
    }

    @Test func defaultCapacityIsFiftyMillisecondsWithAFloor() {
        #expect(TokenBucket.defaultCapacity(bytesPerSecond: 1_000_000) == 50_000)
        #expect(TokenBucket.defaultCapacity(bytesPerSecond: 100) == 1024)
    }
}
