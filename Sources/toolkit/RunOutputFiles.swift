import Foundation
import TestCases

/// The outputs of a run that render its `RunReport`: `ID.md`, `junit.xml`, `result.json`,
/// `report.html` (and `events.jsonl`, the journal's slice, which `run` writes itself). One writer
/// for `run` and `report`.
enum RunOutputFiles {
    static func names(_ testCase: TestCase) -> [String] {
        ["\(testCase.id).md", "junit.xml", "result.json", "report.html", "events.jsonl"]
    }

    static func write(_ run: RunReport, testCase: TestCase, to directory: URL) throws {
        try CaseMarkdown.document(testCase, run: run).write(to: directory.appendingPathComponent("\(testCase.id).md"), atomically: true, encoding: .utf8)
        try JUnitReport.render(run).write(to: directory.appendingPathComponent("junit.xml"), atomically: true, encoding: .utf8)
        try (JSONOutput.line(run, pretty: true) + "\n").write(to: directory.appendingPathComponent("result.json"), atomically: true, encoding: .utf8)
        try TimelinePage.render(run).write(to: directory.appendingPathComponent("report.html"), atomically: true, encoding: .utf8)
    }

    static func summary(_ run: RunReport, directory: URL) -> String {
        var lines = ["\(run.caseID) \(run.title): \(run.verdict.rawValue)" + (run.reason.map { " — \($0)" } ?? "")]
        for item in run.items {
            lines.append("  \(item.verdict.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(item.text): \(item.evidence)")
        }
        lines.append("Reports in \(directory.path): \(run.artifacts.joined(separator: ", "))")
        return lines.joined(separator: "\n")
    }
}
