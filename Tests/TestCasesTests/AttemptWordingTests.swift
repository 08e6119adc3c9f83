import Faults
import Measurements
import Testing
@testable import TestCases

/// What the Markdown log says about reconnect attempts.
extension ChecklistTests {
    @Test func theLogGivesEveryAttemptWithItsTime() {
        var restart = window()
        restart.attempts = AttemptSeries(attempts: [10.98, 10.988, 10.995].map { ConnectionAttempt(after: $0, kind: .refused) })
        let markdown = CaseMarkdown.appending(report(RunObservations(windows: [restart], data: match)), to: CaseMarkdown.document(tc004))
        #expect(markdown.contains("- Retry behavior: window 1: 1 attempt (3 connections) at 10.98 s; reconnected 0.50 s after the restore"))

        let single = CaseMarkdown.appending(report(RunObservations(windows: [window()], data: match)), to: CaseMarkdown.document(tc004))
        #expect(single.contains("- Retry behavior: window 1: 2 attempts at 0.20 s, 1.20 s; reconnected"))
    }
}
