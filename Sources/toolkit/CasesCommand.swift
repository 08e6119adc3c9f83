import ArgumentParser
import Foundation
import Infrastructure
import TestCases

struct CasesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "The built-in test cases: list them, show one as its Markdown document, export them to edit, check case files.",
        discussion: """
          toolkit cases [--json]          the built-in cases
          toolkit cases show TC-004       the case as a Markdown document (the seed's sections)
          toolkit cases show FILE.yaml    a case file of your own
          toolkit cases export DIR        one YAML file per case, for a team to edit and `toolkit run FILE`
          toolkit cases check FILE...     check case files as `run` does, without running anything (exit 2 on the first mistake)
          toolkit cases schema            the case format as a JSON Schema, for editors and validators
          toolkit cases schema run-result   the JSON Schema of `run`'s result.json (soak-result: `soak`'s)
        """)

    @Argument(help: "show ID|FILE, export DIR, check FILE..., or schema [case|run-result|soak-result].") var action: [String] = []
    @Flag(help: "With export: write into a directory that already has files, replacing case files of the same name.") var force = false
    @OptionGroup var output: OutputFlags

    /// The JSON Schemas `cases schema` prints: the case format, and the two result.json formats.
    static let schemas: [String: @Sendable () -> String] = [
        "case": { CaseSchema.json },
        "run-result": { String(decoding: PackageResources.run_result_schema_json, as: UTF8.self) },
        "soak-result": { String(decoding: PackageResources.soak_result_schema_json, as: UTF8.self) },
    ]

    func validate() throws {
        if force && action.first != "export" { throw ValidationError("--force goes with cases export") }
        guard let verb = action.first else { return }
        guard ["show", "export", "check", "schema"].contains(verb) else {
            throw ValidationError("cases takes show ID|FILE, export DIR, check FILE... or schema, got '\(verb)'")
        }
        switch verb {
        case "schema":
            guard action.count == 1 || (action.count == 2 && Self.schemas.keys.contains(action[1])) else {
                throw ValidationError("cases schema takes case, run-result or soak-result (default case), got '\(action.dropFirst().joined(separator: " "))'")
            }
        case "check":
            guard action.count >= 2 else { throw ValidationError("cases check takes one or more case files") }
        default:
            guard action.count == 2 else { throw ValidationError("cases \(verb) takes one argument: \(verb == "show" ? "ID or FILE" : "DIR")") }
        }
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
        case "check":
            var checked: [CheckedCase.Entry] = []
            for file in action.dropFirst() {
                let testCase = try CaseSource.load(file)
                checked.append(CheckedCase.Entry(file: file, id: testCase.id, steps: testCase.steps.count, checklist: testCase.checklist.count))
            }
            output.emit(CheckedCase(files: checked))
        case "schema":
            print(Self.schemas[action.count == 2 ? action[1] : "case"]!(), terminator: "")
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

/// A case by built-in ID or by file path, checked all through (`CaseCheck`) with the run's
/// overrides applied; any mistake is bad input (exit 2), one line naming the file and line.
enum CaseSource {
    static func load(_ reference: String, overrides: [CaseOverride] = []) throws -> TestCase {
        let text: String, file: String
        if let builtin = BuiltinCases.source(named: reference) {
            text = builtin.text
            file = builtin.id
        } else {
            let looksLikeFile = reference.contains("/") || reference.hasSuffix(".yaml") || reference.hasSuffix(".yml")
            guard looksLikeFile else {
                let known = BuiltinCases.all.map(\.id).joined(separator: ", ")
                throw ToolkitError(.usage, "no test case '\(reference)': give one of \(known), or a case file path")
            }
            text = try read(reference)
            file = reference
        }
        do {
            return try CaseCheck.load(text, file: file, overrides: overrides, commandCheck: stepCommandCheck)
        } catch {
            throw ToolkitError(.usage, error.description)
        }
    }

    /// The file's text, refused before reading when it is over the size limit.
    private static func read(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ToolkitError(.usage, "cannot read case file \(path)") }
        defer { try? handle.close() }
        // One byte more than allowed tells "too large" without reading a huge file.
        let data = (try? handle.read(upToCount: CaseCheck.maxBytes + 1)) ?? nil
        guard let data else { throw ToolkitError(.usage, "cannot read case file \(path)") }
        guard data.count <= CaseCheck.maxBytes else {
            throw ToolkitError(.usage, "\(path):1: the file: a case file is at most 1 MiB (\(CaseCheck.maxBytes) bytes), this one has more")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ToolkitError(.usage, "\(path):1: the file: UTF-8 text")
        }
        return text
    }

    /// A step's command parsed as the toolkit parses its own command line: its flag checks run,
    /// nothing else (no command is run).
    static let stepCommandCheck: CaseCheck.CommandCheck = { arguments in
        do {
            let command = try Toolkit.parseAsRoot(arguments)
            guard let name = arguments.first, StepCommands.named(name) != nil,
                  type(of: command).configuration.commandName == name else {
                return "not a scenario command"
            }
            return nil
        } catch {
            return oneLine(Toolkit.message(for: error))
        }
    }
}

struct CheckedCase: Encodable, CustomStringConvertible {
    struct Entry: Encodable {
        var file, id: String
        var steps, checklist: Int
    }
    var files: [Entry]
    var description: String {
        files.map { "\($0.file): \($0.id) ok (\($0.steps) steps, \($0.checklist) checklist items)" }.joined(separator: "\n")
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
