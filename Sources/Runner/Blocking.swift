import Foundation
import Synchronization

/// Blocking calls (the agent's socket, libmariadb, libpq, child processes) made from async code:
/// each on a thread of its own, never on the cooperative pool. A call given a limit is bounded in
/// time: past it the caller goes on with `TimedOut`, and the call is left to end on its thread
/// (a C client cannot be cancelled mid-read; its own timeouts end it).
public enum Blocking {
    public struct TimedOut: Error, CustomStringConvertible {
        public let limit: Duration
        public var description: String {
            limit < .seconds(1) ? "no answer within \(limit.components.attoseconds / 1_000_000_000_000_000) ms" : "no answer within \(limit.components.seconds) s"
        }
    }

    public static func call<T: Sendable>(limit: Duration? = nil, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        let once = Once<T>()
        return try await withCheckedThrowingContinuation { continuation in
            once.set(continuation)
            let finished = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                once.resume(Result { try work() })
                finished.signal()
            }
            // The limit is kept by a thread of its own, not a global queue that busy blocking work can starve.
            if let limit {
                let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
                Thread.detachNewThread {
                    if finished.wait(timeout: .now() + seconds) == .timedOut { once.resume(.failure(TimedOut(limit: limit))) }
                }
            }
        }
    }

    /// A call that cannot fail, without a limit.
    public static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        // Without a limit nothing but `work` resumes the continuation, and it does not throw.
        (try? await call(work))!
    }

    /// Resumes a continuation once: the call's answer or its limit, whichever comes first.
    private final class Once<T: Sendable>: Sendable {
        private let state = Mutex<(continuation: CheckedContinuation<T, Error>?, result: Result<T, Error>?)>((nil, nil))

        func set(_ continuation: CheckedContinuation<T, Error>) {
            let early = state.withLock { state -> Result<T, Error>? in
                guard let result = state.result else { state.continuation = continuation; return nil }
                return result
            }
            if let early { continuation.resume(with: early) }
        }

        func resume(_ result: Result<T, Error>) {
            let continuation = state.withLock { state -> CheckedContinuation<T, Error>? in
                guard state.result == nil else { return nil }
                state.result = result
                defer { state.continuation = nil }
                return state.continuation
            }
            continuation?.resume(with: result)
        }
    }
}
