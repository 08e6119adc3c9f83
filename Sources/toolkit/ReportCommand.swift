import ArgumentParser
import Foundation
import Infrastructure
import TestCases

/// `toolkit report DIR`: completes a finished run with what a person saw and decided, and
/// attachments, judged again from `result.json`'s stored measurements with this version's rules.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Complete a finished run: what the tester saw, their verdicts, screenshots; judged again and rewritten.",
        discussion: """
        DIR is a run's report directory (its result.json). The checklist is judged again from the stored \
        measurements with this version's rules and what people entered (kept in result.json, marked with \
        their name and time); ID.md, junit.xml, result.json and report.html are rewritten, attachments are \
        copied into DIR/attachments and linked under Screenshots/Logs. Exit: the re-judged run's code \
        (0 PASS, 1 FAIL, 3 BLOCKED, 4 INCONCLUSIVE, 130 INTERRUPTED), 2 on bad input.
        """)

    @Argument(help: "The run's report directory.") var directory: String
    @Option(name: .customLong("observe"), help: "MEASURE=TEXT: what you saw, for a checklist measure (repeatable).")
    var observed: [String] = []
    @Option(name: .customLong("item"), help: "N=PASS|FAIL[:note]: your verdict on checklist item N (repeatable).")
    var itemAnswers: [String] = []
    @Option(name: .customLong("attach"), help: "A file (screenshot, log) to copy into the report and link (repeatable).")
    var attachments: [String] = []
    @Option(help: "Who entered this (default: the run's tester).") var tester: String?
    @Option(name: .customLong("case"), help: "The run's case file, when it is not a built-in case.") var caseFile: String?
    @OptionGroup var output: OutputFlags

    static let attachmentLimit = 64 << 20

    func validate() throws {
        let result = URL(fileURLWithPath: directory).appendingPathComponent("result.json")
        guard FileManager.default.isReadableFile(atPath: result.path) else {
            throw ValidationError("DIR must be a run's report directory (with its result.json), got '\(directory)'")
        }
        for file in attachments {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file),
                  attributes[.type] as? FileAttributeType == .typeRegular else {
                throw ValidationError("--attach must name a regular file, got '\(file)'")
            }
            if let size = attributes[.size] as? Int, size > Self.attachmentLimit {
                throw ValidationError("--attach \(file) is \(size >> 20) MiB; at most \(Self.attachmentLimit >> 20) MiB")
            }
        }
        if let tester, tester.isEmpty { throw ValidationError("--tester must name someone") }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: directory)
        let resultFile = folder.appendingPathComponent("result.json")
        var report: RunReport
        do {
            report = try JSONDecoder().decode(RunReport.self, from: Data(contentsOf: resultFile))
        } catch {
            throw ToolkitError.usage("\(resultFile.path) is not a run's result.json: \(Self.reason(error))")
        }
        guard report.kind == "run", report.version <= RunReport.currentVersion else {
            throw ToolkitError.usage("\(resultFile.path) is a \(report.kind) result of version \(report.version); this toolkit reads run results up to version \(RunReport.currentVersion)")
        }
        // The case as it ran: its parameters as the run had them.
        let overrides = report.parameters.map { CaseOverride(name: $0.key, value: $0.value, origin: "result.json parameters") }
        let testCase: TestCase
        do {
            testCase = try CaseSource.load(caseFile ?? report.caseID, overrides: overrides)
        } catch let error as ToolkitError {
            throw ToolkitError.usage(error.message + (caseFile == nil ? " (give the run's case file with --case FILE)" : ""))
        }
        guard testCase.id == report.caseID else {
            throw ToolkitError.usage("--case \(caseFile ?? ""): is \(testCase.id), the run was \(report.caseID)")
        }
        let now = Date().timeIntervalSince1970
        let name = tester ?? report.tester
        let answers: TesterAnswers
        do {
            answers = try TesterAnswers.parse(observe: observed, items: itemAnswers, checklist: testCase.checklist, tester: name, at: now)
        } catch {
            throw ToolkitError.usage(error.description)
        }
        if !attachments.isEmpty {
            let into = folder.appendingPathComponent("attachments")
            try FileManager.default.createDirectory(at: into, withIntermediateDirectories: true)
            for file in attachments {
                let name = URL(fileURLWithPath: file).lastPathComponent
                let target = into.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: target)
                try FileManager.default.copyItem(at: URL(fileURLWithPath: file), to: target)
                let artifact = "attachments/\(name)"
                if !report.artifacts.contains(artifact) { report.artifacts.append(artifact) }
            }
        }
        if report.tester == "[Name]", let tester { report.tester = tester }
        report.judge(testCase, adding: answers)
        try RunOutputFiles.write(report, testCase: testCase, to: folder)
        if output.json {
            print(JSONOutput.line(report, pretty: true))
        } else {
            print(RunOutputFiles.summary(report, directory: folder))
        }
        throw ExitCode(report.verdict.exitCode)
    }

    static func reason(_ error: Error) -> String {
        if case DecodingError.keyNotFound(let key, _) = error { return "no \(key.stringValue)" }
        if case DecodingError.typeMismatch(_, let context) = error { return context.debugDescription }
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        return "\(error)"
    }
}
