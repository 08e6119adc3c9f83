/// How long a supervisor waits before starting its child again: at once (a moment) for the first
/// few restarts, then twice as long after each start that fails or dies soon, up to `longest`; a
/// child that ran `settled` or longer starts the count afresh. It never gives up: a child that
/// cannot start now (a full disk) is started again once it can, `longest` later at most.
public struct RestartBackoff: Sendable, Hashable {
    public let first: Duration
    public let longest: Duration
    /// Restarts in a row that come after `first`, before the wait starts doubling.
    public let quickRestarts: Int
    public let settled: Duration
    /// Restarts since the child last ran `settled`.
    public private(set) var consecutive = 0

    public init(first: Duration = .milliseconds(100), longest: Duration = .seconds(5), quickRestarts: Int = 5,
                settled: Duration = .seconds(60)) {
        self.first = first
        self.longest = longest
        self.quickRestarts = quickRestarts
        self.settled = settled
    }

    /// The child ended after running `ran`: how long to wait before starting it again.
    public mutating func delay(afterRunning ran: Duration) -> Duration {
        if ran >= settled { consecutive = 0 }
        consecutive += 1
        var delay = first
        for _ in 0..<max(0, consecutive - quickRestarts) {
            delay = delay * 2
            if delay >= longest { return longest }
        }
        return min(delay, longest)
    }
}
