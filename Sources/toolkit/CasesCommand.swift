import ArgumentParser
import Foundation
import Infrastructure
import TestCases

struct CasesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "The built-in test cases: list them, show one as its Markdown document, export them to edit.",
        discussion: """
          toolkit cases [--json]          the built-in cases
          toolkit cases show TC-004       the case as a Markdown document (the seed's sections)
          toolkit cases show FILE.yaml    a case file of your own
          toolkit cases export DIR        one YAML file per case, for a team to edit and `toolkit run FILE`
        """)

    @Argument(help: "show ID|FILE, or export DIR.") var action: [String] = []
    @Flag(help: "With export: write into a directory that already has files, replacing case files of the same name.") var force = false
    @OptionGroup var output: OutputFlags

    func validate() throws {
        if force && action.first != "export" { throw ValidationError("--force goes with cases export") }
        guard let verb = action.first else { return }
        guard ["show", "export"].contains(verb) else {
            throw ValidationError("cases takes show ID|FILE or export DIR, got '\(verb)'")
        }
        guard action.count == 2 else { throw ValidationError("cases \(verb) takes one argument: \(verb == "show" ? "ID or FILE" : "DIR")") }
        if verb == "export" { try validateExport(action[1]) }
    }

    /// A new or empty directory, or with --force one that has files: never a file, never '' (the current directory).
    private func validateExport(_ path: String) throws {
        if let problem = OutputDirectory.problem(path) {
            throw ValidationError("cases export takes a directory to write the case files into, got '\(path)': \(problem)")
        }
        let existing = OutputDirectory.entries(path)
        if !existing.isEmpty && !force {
            throw ValidationError("cases export: \(path) is not empty (\(existing.count) entries); give --force to replace the case files in it, or name a new directory")
        }
    }

    func run() throws {
        switch action.first {
        case "show":
            let testCase = try CaseSource.load(action[1])
            if output.json { print(JSONOutput.line(testCase, pretty: true)) } else { print(CaseMarkdown.document(testCase), terminator: "") }
        case "export":
            let directory = URL(fileURLWithPath: action[1])
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var written: [String] = []
            for testCase in BuiltinCases.all {
                let file = directory.appendingPathComponent(testCase.fileName)
                try testCase.yaml.write(to: file, atomically: true, encoding: .utf8)
                written.append(file.path)
            }
            output.emit(ExportedCases(files: written))
        default:
            output.emit(CaseList(cases: BuiltinCases.all.map(CaseList.Entry.init)))
        }
    }
}

/// A case by built-in ID or by file path; an unknown one is bad input (exit 2).
enum CaseSource {
    static func load(_ reference: String) throws -> TestCase {
        if let builtin = BuiltinCases.named(reference) { return builtin }
        let looksLikeFile = reference.contains("/") || reference.hasSuffix(".yaml") || reference.hasSuffix(".yml")
        guard looksLikeFile else {
            let known = BuiltinCases.all.map(\.id).joined(separator: ", ")
            throw ToolkitError(.usage, "no test case '\(reference)': give one of \(known), or a case file path")
        }
        guard let text = try? String(contentsOfFile: reference, encoding: .utf8) else {
            throw ToolkitError(.usage, "cannot read case file \(reference)")
        }
        do {
            return try TestCase(yaml: text)
        } catch {
            throw ToolkitError(.usage, "\(reference): \(error.description)")
        }
    }
}

struct CaseList: Encodable, CustomStringConvertible {
    struct Entry: Encodable {
        var id, title, category, severity: String
        var checklist: Int
        init(_ testCase: TestCase) {
            id = testCase.id
            title = testCase.title
            category = testCase.metadata.category
            severity = testCase.metadata.severity
            checklist = testCase.checklist.count
        }
    }
    var cases: [Entry]

    func encode(to encoder: any Encoder) throws { try cases.encode(to: encoder) }

    var description: String {
        cases.map { "\($0.id.padding(toLength: 8, withPad: " ", startingAt: 0)) \($0.category.padding(toLength: 12, withPad: " ", startingAt: 0)) \($0.severity.padding(toLength: 9, withPad: " ", startingAt: 0)) \($0.title)" }
            .joined(separator: "\n") + "\n\n`toolkit cases show ID` prints one; `toolkit run ID --pipeline replica` runs it."
    }
}

struct ExportedCases: Encodable, CustomStringConvertible {
    var files: [String]
    var description: String { "Wrote \(files.count) case files:\n" + files.map { "  " + $0 }.joined(separator: "\n") }
}
