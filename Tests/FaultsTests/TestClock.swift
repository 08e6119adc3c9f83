import Faults

/// A clock that only moves when a test moves it. Nothing here sleeps.
struct TestClock: Clock {
    struct Instant: InstantProtocol {
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    struct SleepRefused: Error {}

    private(set) var now = Instant(offset: .zero)
    var minimumResolution: Duration { .nanoseconds(1) }

    mutating func advance(by duration: Duration) { now = now.advanced(by: duration) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws { throw SleepRefused() }
}

extension TestClock.Instant {
    static func at(_ seconds: Int) -> Self { Self(offset: .seconds(seconds)) }
}

typealias Schedule = FaultSchedule<TestClock>

let reject = FaultSpec(type: .reject)
let timeout = FaultSpec(type: .timeout)
let resetSpec = FaultSpec(type: .reset)
