import Measurements
import Testing

@Suite("Retry patterns")
struct RetryPatternTests {
    func pattern(_ intervals: [Double]) -> RetryPattern {
        RetryPattern(intervals: intervals, attempts: intervals.count + 1)
    }

    @Test func noneAndSingle() {
        #expect(RetryPattern(intervals: [], attempts: 0) == .none)
        #expect(RetryPattern(intervals: [], attempts: 1) == .single)
    }

    @Test func fixedToleratesJitterWithinAQuarter() {
        #expect(pattern([5]) == .fixed)
        #expect(pattern([1.0, 1.1, 0.9, 1.2, 0.8, 1.0]) == .fixed)
        #expect(pattern([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 3.0]) == .fixed)
        #expect(pattern([1.0, 1.0, 1.0, 3.0]) != .fixed)
    }

    @Test func backoffIncludingACap() {
        #expect(pattern([1, 2, 4, 8, 16]) == .backoff)
        #expect(pattern([1, 2, 4, 8, 16, 30, 30, 30, 30]) == .backoff)
        #expect(pattern([1, 1.5, 2.25, 2.2, 3.4, 5.1]) == .backoff)
    }

    @Test func irregular() {
        #expect(pattern([1, 10, 2, 7, 0.5]) == .irregular)
        #expect(pattern([16, 8, 4, 2, 1]) == .irregular)
        // An immediate retry, then a fixed period: not a backoff.
        #expect(pattern([0.01, 5, 5, 5, 5]) == .irregular)
        #expect(pattern([0, 0, 0]) == .irregular)
    }

    @Test func medianOfEvenAndOddCounts() {
        #expect(AttemptSeries(attempts: [0.0, 1, 3, 6].map { ConnectionAttempt(after: $0, kind: .refused) })
            .medianInterval == 2)
        #expect(AttemptSeries(attempts: [0.0, 1, 3, 6, 10].map { ConnectionAttempt(after: $0, kind: .refused) })
            .medianInterval == 2.5)
    }
}
