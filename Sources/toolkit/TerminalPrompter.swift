import Foundation
import Runner

/// The tester at the terminal `run` was started from: a question on stderr, a line from stdin,
/// waited for at most `within` and never past a signal. Reads on a thread of its own.
struct TerminalPrompter: RunPrompter {
    /// True once the run was asked to stop (Ctrl-C).
    let interrupted: @Sendable () -> Bool

    func ask(_ question: String, within: Duration?) async -> String? {
        let interrupted = self.interrupted
        return await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Self.readLine(question, within: within, interrupted: interrupted))
            }
            thread.start()
        }
    }

    private static func readLine(_ question: String, within: Duration?, interrupted: () -> Bool) -> String? {
        writeErrorInline(question)
        let deadline = within.map { ContinuousClock.now.advanced(by: $0) }
        while !interrupted() {
            if let deadline, ContinuousClock.now >= deadline {
                writeError("")
                return nil
            }
            var entry = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 100)
            if ready > 0 {
                // A terminal in canonical mode is readable once a whole line is typed.
                return Swift.readLine()
            }
            if ready < 0 && errno != EINTR { return nil }
        }
        writeError("")
        return nil
    }
}
