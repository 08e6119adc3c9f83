import Foundation
import Source
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
                Thread.detachNewThread {
                    if finished.wait(timeout: .now() + limit.seconds) == .timedOut { once.resume(.failure(TimedOut(limit: limit))) }
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

/// A loop that blocks (libmariadb), on a thread of its own: `run(_:)` starts it and returns when
/// it has ended, `stop()` or the task's cancellation ends it, and `stop()` returns once it has.
/// The loop's body checks `isStopping` between its steps.
final class ThreadLoop: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let running = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    var isStopping: Bool { stopping.load(ordering: .relaxed) }

    /// Runs `body` once, unless the loop was stopped first or is already running.
    func run(_ body: @escaping @Sendable () -> Void) async {
        guard !isStopping, !running.exchange(true, ordering: .relaxed) else { return }
        await withTaskCancellationHandler {
            await Blocking.run { [done] in
                body()
                done.signal()
            }
        } onCancel: {
            stopping.store(true, ordering: .relaxed)
        }
    }

    /// Ends the loop and waits for it; idempotent.
    func stop() async {
        if !stopping.exchange(true, ordering: .relaxed), running.load(ordering: .relaxed) {
            await Blocking.run { [done] in done.wait() }
        }
    }
}
