import Foundation

/// A case as the seed document lays it out (Metadata, Description, Preconditions, Test Steps,
/// Toolkit Commands, Expected Result, Verification Checklist, Cleanup, Test Execution Log), and
/// a run's section of that log, filled in.
public enum CaseMarkdown {
    /// The whole document. Without a run, the log holds the seed's blank template; with one, the
    /// checklist is ticked with each item's evidence and the log holds the run.
    public static func document(_ testCase: TestCase, run: RunReport? = nil) -> String {
        var lines: [String] = []
        lines.append("# \(testCase.id): \(testCase.title)")
        lines.append("")
        lines.append("## Metadata")
        lines.append("| Field | Value |")
        lines.append("|-------|-------|")
        let metadata = testCase.metadata
        for (field, value) in [("ID", testCase.id), ("Category", metadata.category), ("ETL Tools", metadata.etlTools),
                               ("Severity", metadata.severity), ("Created", metadata.created), ("Author", metadata.author)] {
            lines.append("| \(field) | \(value) |")
        }
        lines.append("")
        lines.append("## Description")
        lines.append(testCase.description.trimmingCharacters(in: .whitespacesAndNewlines))
        lines.append("")
        lines.append("## Preconditions")
        let met = Dictionary(run?.preconditions.map { ($0.text, $0) } ?? [], uniquingKeysWith: { first, _ in first })
        for precondition in testCase.preconditions {
            if let result = met[precondition] {
                lines.append("- [\(result.met ? "x" : " ")] \(precondition) — \(result.evidence)")
            } else {
                lines.append("- [ ] \(precondition)")
            }
        }
        lines.append("")
        lines.append("## Test Steps")
        for (index, step) in testCase.steps.enumerated() {
            lines.append("\(index + 1). \(step.text)")
            for question in step.observe ?? [] { lines.append("   - \(question)") }
        }
        lines.append("")
        lines.append("## Toolkit Commands")
        lines.append(contentsOf: codeBlock(testCase.commands))
        lines.append("")
        lines.append("## Expected Result")
        for line in testCase.expected {
            if line.hasPrefix("  ") {
                lines.append("  - \(line.trimmingCharacters(in: .whitespaces))")
            } else {
                lines.append("- \(line)")
            }
        }
        lines.append("")
        lines.append("## Verification Checklist")
        for (index, item) in testCase.checklist.enumerated() {
            if let run, run.items.indices.contains(index) {
                let result = run.items[index]
                lines.append("- [\(result.verdict == .pass ? "x" : " ")] \(item.text) — **\(result.verdict.rawValue)**: \(result.evidence)")
            } else {
                lines.append("- [ ] \(item.text)")
            }
        }
        lines.append("")
        lines.append("## Cleanup")
        lines.append(contentsOf: codeBlock(testCase.cleanup))
        lines.append("")
        lines.append("---")
        lines.append("")
        lines.append("## Test Execution Log")
        lines.append("")
        if let run {
            lines.append(runSection(run))
        } else {
            lines.append(template)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The seed's blank run section.
    static let template = """
        ### Run 1 - YYYY-MM-DD
        | Field | Value |
        |-------|-------|
        | Tester | [Name] |
        | ETL Tool | [Tool] |
        | Toolkit Version | 1.0.0 |
        | Result | [PASS/FAIL] |

        **Steps Performed:**
        1. [Document steps]

        **Observations:**
        - Time to detect error: [X seconds]
        - Error message: [exact text]
        - Retry behavior: [description]

        **Screenshots/Logs:**
        - [Links to artifacts]

        **Notes:**
        [Additional notes]
        """

    /// "### Run N - YYYY-MM-DD" and its table, steps, observations, artifacts and notes.
    public static func runSection(_ run: RunReport) -> String {
        var lines: [String] = []
        lines.append("### Run \(run.run) - \(run.date)")
        lines.append("| Field | Value |")
        lines.append("|-------|-------|")
        lines.append("| Tester | \(cell(run.tester)) |")
        lines.append("| ETL Tool | \(cell(run.etlTool)) |")
        lines.append("| Toolkit Version | \(run.toolkitVersion) |")
        lines.append("| Result | \(run.verdict.rawValue) |")
        lines.append("")
        lines.append("**Steps Performed:**")
        if run.steps.isEmpty { lines.append("1. (none: \(run.reason ?? "the run stopped before its first step"))") }
        for (index, step) in run.steps.enumerated() {
            lines.append("\(index + 1). \(RunReport.clock(step.at)) UTC — \(step.line)")
        }
        lines.append("")
        lines.append("**Observations:**")
        lines.append("- Time to detect error: \(detectionText(run))")
        lines.append("- Error message: \(messageText(run))")
        lines.append("- Retry behavior: \(retryText(run))")
        lines.append("")
        lines.append("**Screenshots/Logs:**")
        if run.artifacts.isEmpty { lines.append("- (none written)") }
        for artifact in run.artifacts { lines.append("- [\(artifact)](\(artifact))") }
        lines.append("")
        lines.append("**Notes:**")
        var notes: [String] = []
        if let reason = run.reason { notes.append("\(run.verdict.rawValue): \(reason)") }
        for precondition in run.preconditions where !precondition.met {
            notes.append("Precondition not met: \(precondition.text) — \(precondition.evidence)")
        }
        for item in run.items where item.verdict != .pass {
            notes.append("\(item.verdict.rawValue) — \(item.text): \(item.evidence)")
        }
        if let stopped = run.observations.toolStopped {
            notes.append("The ETL tool stopped for good during the run: \"\(stopped.text)\" (\(stopped.source)).")
        }
        if let load = run.load {
            notes.append("Load on \(load.table): \(load.inserted) inserted, \(load.updated) updated, \(load.deleted) deleted.")
        }
        notes += run.notes
        lines.append(notes.isEmpty ? "Every checklist item passed." : notes.joined(separator: "\n"))
        return lines.joined(separator: "\n")
    }

    /// The number the next run appended to `markdown` gets: one past the highest "### Run N"
    /// that has a date (the blank template's "Run 1 - YYYY-MM-DD" does not count).
    public static func nextRunNumber(in markdown: String) -> Int {
        var highest = 0
        for line in markdown.split(separator: "\n") where line.hasPrefix("### Run ") {
            let rest = line.dropFirst("### Run ".count)
            guard let number = Int(rest.prefix { $0.isNumber }), !rest.contains("YYYY") else { continue }
            highest = max(highest, number)
        }
        return highest + 1
    }

    /// `markdown` with the run's section added: replacing the blank template if it is there, else at the end.
    public static func appending(_ run: RunReport, to markdown: String) -> String {
        let section = runSection(run)
        if let range = markdown.range(of: "### Run 1 - YYYY-MM-DD") {
            let tail = markdown[range.lowerBound...]
            let end = tail.range(of: "[Additional notes]").map { $0.upperBound } ?? markdown.endIndex
            return markdown.replacingCharacters(in: range.lowerBound..<end, with: section)
        }
        let base = markdown.hasSuffix("\n") ? markdown : markdown + "\n"
        return base + "\n" + section + "\n"
    }

    static func detectionText(_ run: RunReport) -> String {
        let measured = measuredDetectionText(run)
        guard let seen = run.observations.testerAnswers?.observed[Measure.detection.rawValue], let text = seen.text else { return measured }
        return measured + "; \(seen.signature): \(text)"
    }

    static func measuredDetectionText(_ run: RunReport) -> String {
        guard let window = run.observations.windows.first else { return "NOT OBSERVED (no fault window)" }
        let closed = window.serverClosed.map { "; \($0)" } ?? ""
        guard let detection = window.detection else { return "NOT OBSERVED (no failed attempt while the fault lasted\(closed))" }
        if detection.isBounded, let earliest = detection.earliest, let latest = detection.latest {
            if detection.logLine != nil {
                return String(format: "%.2f seconds", detection.after) + " (\(detection.event.rawValue), dated by the client's own log"
                    + (detection.logSource.map { ": \($0)" } ?? "") + "\(closed))"
            }
            return String(format: "between %.2f and %.2f seconds", earliest, latest) + " (\(detection.event.rawValue)"
                + (detection.bound.map { ": \($0)" } ?? "") + ")"
        }
        return String(format: "%.2f seconds", detection.after) + " (\(detection.event.rawValue)\(closed))"
    }

    static func messageText(_ run: RunReport) -> String {
        if let message = run.observations.message { return "\"\(message.text)\" (\(message.source))" }
        if let seen = run.observations.testerAnswers?.observed[Measure.errorMessage.rawValue], let text = seen.text {
            return "\"\(text)\" (seen by \(seen.signature))"
        }
        let sent = run.observations.clientWasSent.map { "; the client was sent: \($0)" } ?? ""
        if let searched = run.observations.etlLogSearched { return "NOT OBSERVED (no line of the ETL log \(searched) came after the fault started)\(sent)" }
        return "NOT OBSERVED (no ETL log read)\(sent)"
    }

    static func retryText(_ run: RunReport) -> String {
        let windows = run.observations.windows
        guard !windows.isEmpty else { return "NOT OBSERVED (no fault window)" }
        return windows.map { window in
            var text = "window \(window.window): \(window.attempts.summary)"
            if let reconnected = window.reconnectedAfter { text += String(format: "; reconnected %.2f s after the restore", reconnected) }
            return text
        }.joined(separator: "; ")
    }

    private static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }

    private static func codeBlock(_ text: String) -> [String] {
        let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
        return ["```bash"] + (body.isEmpty ? [] : [body]) + ["```"]
    }
}
