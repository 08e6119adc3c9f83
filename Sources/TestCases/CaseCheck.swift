import Foundation
import Yams

/// A value a run gives a parameter, and where it came from (`--set interval=5`, `--duration 10`).
public struct CaseOverride: Sendable, Hashable {
    public var name: String
    public var value: Double
    /// How the person wrote it, for the error line.
    public var origin: String

    public init(name: String, value: Double, origin: String) {
        self.name = name
        self.value = value
        self.origin = origin
    }
}

/// Reads a case file as hostile input and checks all of it before anything runs: its size, how
/// far its aliases expand, every key and value against `CaseFormat`, then what a schema cannot
/// say — parameters a step names, numbers in range once parameters are substituted, the commands
/// steps run. The first problem is one line, `FILE:LINE: field: what is allowed`.
public enum CaseCheck {
    /// A case file is at most 1 MiB.
    public static let maxBytes = 1 << 20
    /// Nodes once aliases are expanded: a case has a few hundred.
    public static let maxNodes = 10_000
    /// Flow collections and block sequences nested deeper than this are refused before parsing.
    public static let maxDepth = 64

    /// Checks a command a step runs, once substituted (the command's own flag checks): nil when
    /// it fits, else the one line of what is wrong. The CLI passes its parser; tests a stub.
    public typealias CommandCheck = @Sendable ([String]) -> String?

    /// The case in `text`, from `file` (a path, or a built-in's ID), with `overrides` applied.
    public static func load(_ text: String, file: String, overrides: [CaseOverride] = [],
                            commandCheck: CommandCheck? = nil) throws(CaseFileError) -> TestCase {
        var checker = Checker(file: file)
        return try checker.load(text, overrides: overrides, commandCheck: commandCheck)
    }
}

/// Where a mistake is and what is allowed there.
struct CaseProblem: Error {
    var line: Int
    var field: String
    var message: String
}

private struct Checker {
    let file: String

    init(file: String) { self.file = file }

    func fail(_ problem: CaseProblem) -> CaseFileError {
        CaseFileError("\(file):\(problem.line): \(problem.field): \(problem.message)", line: problem.line, field: problem.field)
    }

    mutating func load(_ text: String, overrides: [CaseOverride], commandCheck: CaseCheck.CommandCheck?) throws(CaseFileError) -> TestCase {
        do {
            let root = try parse(text)
            try Self.walk(root, CaseFormat.testCase, path: "")
            let testCase: TestCase
            do {
                testCase = try YAMLDecoder().decode(TestCase.self, from: text)
            } catch {
                // The walk above accepts only what decodes; this is a bug, said in one line.
                throw CaseProblem(line: 1, field: "the file", message: "\(error)".split(separator: "\n").first.map(String.init) ?? "not a case")
            }
            return try Semantics(root: root, testCase: testCase).check(overrides: overrides, commandCheck: commandCheck)
        } catch let problem as CaseProblem {
            throw fail(problem)
        } catch let error as CaseFileError {
            throw error
        } catch {
            throw CaseFileError("\(file): \(error)")
        }
    }

    // MARK: Bounded parsing

    /// The document's node tree, refused when the file is too large, nests too deep, or its
    /// aliases expand past `maxNodes` (counted with a budget: never more than that many visited).
    func parse(_ text: String) throws -> Node {
        let bytes = text.utf8.count
        guard bytes <= CaseCheck.maxBytes else {
            throw CaseProblem(line: 1, field: "the file", message: "a case file is at most 1 MiB (\(CaseCheck.maxBytes) bytes), this one has \(bytes)")
        }
        if let line = Self.tooDeep(text) {
            throw CaseProblem(line: line, field: "the file", message: "nesting at most \(CaseCheck.maxDepth) levels deep")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.syntax(error)
        }
        guard let root else {
            throw CaseProblem(line: 1, field: "the file", message: "a test case (id, title, metadata, description, steps, checklist...), got an empty file")
        }
        if let line = Self.overBudget(root) {
            throw CaseProblem(line: line, field: "the file",
                              message: "at most \(CaseCheck.maxNodes) values once aliases are expanded (aliases that repeat aliases multiply)")
        }
        return root
    }

    /// The line where flow brackets or block-sequence dashes nest deeper than `maxDepth`. The
    /// parser recurses once per level, so this is refused before it runs; counting is rough
    /// (a bracket inside quotes counts too), and no real case comes near the limit.
    static func tooDeep(_ text: String) -> Int? {
        var depth = 0, line = 1, dashes = 0
        // Still in a line's indentation and its block indicators ("- ", "? ").
        var atLineStart = true, indicator = false
        for byte in text.utf8 {
            if indicator {
                indicator = false
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") { dashes += 1 } else { atLineStart = false }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                line += 1
                atLineStart = true
                dashes = 0
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                atLineStart = false
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
                atLineStart = false
            case UInt8(ascii: "-"), UInt8(ascii: "?"):
                if atLineStart { indicator = true }
            case UInt8(ascii: " "), UInt8(ascii: "\t"):
                break
            default:
                atLineStart = false
            }
            if depth + dashes > CaseCheck.maxDepth { return line }
        }
        return nil
    }

    /// The line of the node where the expanded tree passed `maxNodes`, or nil within budget.
    static func overBudget(_ root: Node) -> Int? {
        var stack = [root]
        var visited = 1
        while let node = stack.popLast() {
            var children: [Node] = []
            switch node {
            case .scalar: continue
            case .sequence(let sequence): children = Array(sequence)
            case .mapping(let mapping): children = mapping.flatMap { [$0.key, $0.value] }
            }
            visited += children.count
            if visited > CaseCheck.maxNodes { return node.mark?.line ?? 1 }
            stack.append(contentsOf: children)
        }
        return nil
    }

    static func syntax(_ error: YamlError) -> CaseProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return CaseProblem(line: mark.line, field: "the file", message: "YAML: \(problem)")
        case .reader(let problem, _, _, _):
            return CaseProblem(line: 1, field: "the file", message: "YAML: \(problem)")
        default:
            return CaseProblem(line: 1, field: "the file", message: "YAML: \("\(error)".split(separator: "\n").first ?? "")")
        }
    }

    // MARK: Structure

    static func line(_ node: Node) -> Int { node.mark?.line ?? 1 }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    static func shown(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): return scalar.string.isEmpty ? "nothing" : "'\(scalar.string.prefix(60))'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }

    static func walk(_ node: Node, _ shape: CaseShape, path: String) throws(CaseProblem) {
        let field = path.isEmpty ? "the file" : path
        switch shape {
        case .object(let fields, let rules):
            guard case .mapping(let mapping) = node else {
                throw CaseProblem(line: line(node), field: field, message: "a mapping with \(fields.map(\.name).joined(separator: ", ")), got \(shown(node))")
            }
            var seen: [String: Int] = [:]
            for (key, value) in mapping {
                let name = try keyName(key, path: path)
                let at = join(path, name)
                if let first = seen[name] { throw CaseProblem(line: line(key), field: at, message: "given twice (first on line \(first))") }
                seen[name] = line(key)
                guard let spec = fields.first(where: { $0.name == name }) else {
                    throw CaseProblem(line: line(key), field: at, message: "unknown key; \(path.isEmpty ? "a case" : "here") has \(fields.map(\.name).joined(separator: ", "))")
                }
                try walk(value, spec.shape, path: at)
            }
            for spec in fields where spec.required && seen[spec.name] == nil {
                throw CaseProblem(line: line(node), field: join(path, spec.name), message: "required: \(spec.help)")
            }
            for rule in rules {
                try check(rule, mapping, node: node, path: path)
            }
        case .map(let names, let values, let fixed):
            guard case .mapping(let mapping) = node else {
                throw CaseProblem(line: line(node), field: field, message: "a mapping of names to numbers, e.g. {duration: 60}, got \(shown(node))")
            }
            var seen: [String: Int] = [:]
            for (key, value) in mapping {
                let name = try keyName(key, path: path)
                let at = join(path, name)
                if let first = seen[name] { throw CaseProblem(line: line(key), field: at, message: "given twice (first on line \(first))") }
                seen[name] = line(key)
                guard name.range(of: names, options: .regularExpression) != nil else {
                    throw CaseProblem(line: line(key), field: at, message: "a name of letters, digits and _ (not starting with a digit)")
                }
                try walk(value, fixed.first { $0.name == name }?.shape ?? values, path: at)
            }
        case .array(let element, let minItems):
            guard case .sequence(let sequence) = node else {
                throw CaseProblem(line: line(node), field: field, message: "a list, got \(shown(node))")
            }
            guard sequence.count >= minItems else {
                throw CaseProblem(line: line(node), field: field, message: "a list of at least \(minItems)")
            }
            for (index, item) in sequence.enumerated() {
                try walk(item, element, path: "\(field)[\(index + 1)]")
            }
        case .string(let pattern):
            let text = try Self.text(node, field: field)
            if let pattern, text.range(of: pattern, options: .regularExpression) == nil {
                throw CaseProblem(line: line(node), field: field, message: "letters, digits, - and _, got '\(text)'")
            }
        case .choice(let values):
            guard case .scalar(let scalar) = node, values.contains(scalar.string), scalar.style != .literal, scalar.style != .folded else {
                throw CaseProblem(line: line(node), field: field, message: "one of \(values.joined(separator: ", ")), got \(shown(node))")
            }
        case .number(let range, let whole, let unit):
            guard case .scalar(let scalar) = node, scalar.style == .plain, let value = YAMLScalar.number(scalar.string) else {
                throw CaseProblem(line: line(node), field: field, message: "\(NumberRule(range: range, whole: whole, unit: unit)), got \(shown(node))")
            }
            if let problem = NumberRule(range: range, whole: whole, unit: unit).problem(value, text: scalar.string) {
                throw CaseProblem(line: line(node), field: field, message: problem)
            }
        case .numberOrParameter(let range, let unit):
            let rule = NumberRule(range: range, whole: true, unit: unit)
            guard case .scalar(let scalar) = node, scalar.style != .literal, scalar.style != .folded else {
                throw CaseProblem(line: line(node), field: field, message: "\(rule), or ${parameter}, got \(shown(node))")
            }
            if TestCase.parameterReference(scalar.string) != nil { return }
            guard let value = YAMLScalar.number(scalar.string) else {
                throw CaseProblem(line: line(node), field: field, message: "\(rule), or ${parameter}, got \(shown(node))")
            }
            if let problem = rule.problem(value, text: scalar.string) {
                throw CaseProblem(line: line(node), field: field, message: problem)
            }
        case .boolean:
            guard case .scalar(let scalar) = node, scalar.style == .plain, YAMLScalar.bool(scalar.string) != nil else {
                throw CaseProblem(line: line(node), field: field, message: "true or false, got \(shown(node))")
            }
        case .stepCommand:
            guard case .sequence(let sequence) = node else {
                throw CaseProblem(line: line(node), field: field, message: "a list: a scenario command and its flags, e.g. [corrupt, --type, truncate], got \(shown(node))")
            }
            var arguments: [String] = []
            for (index, item) in sequence.enumerated() {
                guard case .scalar(let scalar) = item, !YAMLScalar.isNull(scalar) else {
                    throw CaseProblem(line: line(item), field: "\(field)[\(index + 1)]", message: "a word or a number, got \(shown(item))")
                }
                arguments.append(scalar.string)
            }
            if let problem = StepCommands.problem(arguments) {
                let at = problem.index < sequence.count ? sequence[problem.index] : node
                throw CaseProblem(line: line(at), field: "\(field)[\(problem.index + 1)]", message: problem.message)
            }
        }
    }

    static func keyName(_ key: Node, path: String) throws(CaseProblem) -> String {
        guard case .scalar(let scalar) = key else {
            throw CaseProblem(line: line(key), field: path.isEmpty ? "the file" : path, message: "keys are plain names, got \(shown(key))")
        }
        if scalar.string == "<<", scalar.style == .plain {
            throw CaseProblem(line: line(key), field: join(path, "<<"), message: "merge keys are not part of the format: write the keys out, or alias the whole value")
        }
        return scalar.string
    }

    static func text(_ node: Node, field: String) throws(CaseProblem) -> String {
        guard case .scalar(let scalar) = node else {
            throw CaseProblem(line: line(node), field: field, message: "text, got \(shown(node))")
        }
        if scalar.style == .plain {
            if YAMLScalar.isNull(scalar) { throw CaseProblem(line: line(node), field: field, message: "text, got nothing") }
            if YAMLScalar.bool(scalar.string) != nil || YAMLScalar.number(scalar.string) != nil {
                throw CaseProblem(line: line(node), field: field, message: "text (quote it: '\(scalar.string)'), got a \(YAMLScalar.bool(scalar.string) != nil ? "boolean" : "number")")
            }
        }
        return scalar.string
    }

    static func check(_ rule: CaseRule, _ mapping: Node.Mapping, node: Node, path: String) throws(CaseProblem) {
        func value(_ key: String) -> Node? { mapping.first { $0.key.string == key }?.value }
        func keyLine(_ key: String) -> Int { mapping.first { $0.key.string == key }.map { line($0.key) } ?? line(node) }
        switch rule {
        case .atMostOne(let keys):
            // In the file's order, so that the line is the second action's.
            let present = mapping.compactMap { pair in pair.key.string.flatMap { keys.contains($0) ? $0 : nil } }
            if present.count > 1 {
                throw CaseProblem(line: keyLine(present[1]), field: path,
                                  message: "one action at most (\(keys.joined(separator: ", "))), got \(present.joined(separator: " and "))")
            }
        case .onlyWith(let key, let partner, let values):
            if value(key) != nil, let given = value(partner)?.string, !values.contains(given) {
                throw CaseProblem(line: keyLine(key), field: join(path, key),
                                  message: "goes only with \(partner) \(values.joined(separator: ", ")), got \(partner) \(given)")
            }
        case .requiredUnless(let key, let partner, let values):
            if value(key) == nil, let given = value(partner)?.string, !values.contains(given) {
                throw CaseProblem(line: line(node), field: join(path, key), message: "required with \(partner) \(given)")
            }
        }
    }
}

/// Scalars read as the YAML 1.2 core schema reads them (what editors and JSON Schema validators
/// see): numbers, booleans and null only unquoted.
enum YAMLScalar {
    static func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": true
        case "false", "False", "FALSE": false
        default: nil
        }
    }

    /// `60`, `-5`, `2.5`, `1e300`, `.inf`, `.nan`, `0x10`, `0o17`; nil for anything else.
    static func number(_ text: String) -> Double? {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .infinity
        case "-.inf", "-.Inf", "-.INF": return -.infinity
        case ".nan", ".NaN", ".NAN": return .nan
        default: break
        }
        if text.hasPrefix("0x"), let value = Int(text.dropFirst(2), radix: 16) { return Double(value) }
        if text.hasPrefix("0o"), let value = Int(text.dropFirst(2), radix: 8) { return Double(value) }
        guard text.range(of: #"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"#, options: .regularExpression) != nil else { return nil }
        return Double(text)
    }
}

/// A number's allowed range, said the way the error line says it.
struct NumberRule: CustomStringConvertible {
    var range: ClosedRange<Double>
    var whole: Bool
    var unit: String

    var description: String {
        let kind = whole ? "a whole number" : "a number"
        let unitText = unit.isEmpty ? "" : unit.hasPrefix("(") ? "" : " of \(unit)"
        let note = unit.hasPrefix("(") ? " \(unit)" : ""
        return "\(kind)\(unitText) from \(Self.text(range.lowerBound)) to \(Self.text(range.upperBound))\(note)"
    }

    func problem(_ value: Double, text: String) -> String? {
        guard value.isFinite, range.contains(value), !whole || value.rounded() == value else { return "\(self), got \(text)" }
        return nil
    }

    static func text(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e16 ? String(Int(value)) : "\(value)"
    }
}

/// What the structure cannot say: parameters and overrides, numbers once substituted, regular
/// expressions, and the commands steps run.
private struct Semantics {
    let root: Node
    let testCase: TestCase

    static func line(_ node: Node?) -> Int { node?.mark?.line ?? 1 }

    func node(_ keys: [Any]) -> Node? {
        var current: Node? = root
        for key in keys {
            if let name = key as? String { current = current?.mapping?[name] }
            if let index = key as? Int { current = current?.sequence.flatMap { $0.indices.contains(index) ? $0[index] : nil } }
        }
        return current
    }

    func check(overrides: [CaseOverride], commandCheck: CaseCheck.CommandCheck?) throws(CaseProblem) -> TestCase {
        var effective = testCase
        // Where each parameter's value came from: the file's line, or the flag that set it.
        var origins: [String: String] = [:]
        for override in overrides {
            guard testCase.parameters[override.name] != nil || TestCase.isReserved(override.name) else {
                let known = (testCase.parameters.keys.sorted() + TestCase.reserved.map(\.name)).joined(separator: ", ")
                throw CaseProblem(line: Self.line(node(["parameters"])), field: override.origin,
                                  message: "\(testCase.id) has no parameter '\(override.name)' (it has: \(known.isEmpty ? "none" : known))")
            }
            let rule = override.name == "duration" || TestCase.isReserved(override.name)
                ? NumberRule(range: CaseFormat.range(CaseFormat.seconds), whole: true, unit: "seconds")
                : NumberRule(range: -1e15...1e15, whole: false, unit: "")
            if let problem = rule.problem(override.value, text: Self.text(override.value)) {
                throw CaseProblem(line: Self.line(node(["parameters", override.name])), field: override.origin, message: "\(override.name) must be \(problem)")
            }
            effective.parameters[override.name] = override.value
            origins[override.name] = "from \(override.origin)"
        }

        for (index, step) in testCase.steps.enumerated() {
            let field = "steps[\(index + 1)]"
            if let fault = step.fault {
                var seconds: Double?
                for (key, text, rule) in [
                    ("seconds", fault.seconds, NumberRule(range: CaseFormat.range(CaseFormat.seconds), whole: true, unit: "seconds")),
                    ("interval", fault.interval, NumberRule(range: CaseFormat.range(CaseFormat.interval), whole: true, unit: "seconds")),
                    ("latency", fault.latency, NumberRule(range: CaseFormat.range(CaseFormat.latency), whole: true, unit: "milliseconds")),
                ] {
                    guard let text else { continue }
                    let at = node(["steps", index, "fault", key])
                    let value = try resolve(text, in: effective, origins: origins, line: Self.line(at), field: "\(field).fault.\(key)")
                    if let problem = rule.problem(value.number, text: Self.text(value.number)) {
                        throw CaseProblem(line: Self.line(at), field: "\(field).fault.\(key)", message: problem + value.note)
                    }
                    if key == "seconds" { seconds = value.number }
                    if key == "interval", let seconds, seconds < value.number {
                        throw CaseProblem(line: Self.line(node(["steps", index, "fault", "seconds"])), field: "\(field).fault.seconds",
                                          message: "at least the interval (\(Self.text(value.number)) s) when flapping, got \(Self.text(seconds))")
                    }
                }
            }
            if let arguments = step.toolkit {
                var expanded: [String] = []
                var notes: [String] = []
                for (position, argument) in arguments.enumerated() {
                    let at = node(["steps", index, "toolkit", position])
                    let names = TestCase.references(in: argument)
                    guard names != nil else {
                        throw CaseProblem(line: Self.line(at), field: "\(field).toolkit[\(position + 1)]", message: "${ without its closing }, got '\(argument)'")
                    }
                    var text = argument
                    for name in names ?? [] {
                        let value = try resolve("${\(name)}", in: effective, origins: origins, line: Self.line(at), field: "\(field).toolkit[\(position + 1)]")
                        guard value.number.isFinite, value.number.rounded() == value.number, abs(value.number) < 1e15 else {
                            throw CaseProblem(line: Self.line(at), field: "\(field).toolkit[\(position + 1)]",
                                              message: "a whole number for ${\(name)}, got \(Self.text(value.number))\(value.note)")
                        }
                        text = text.replacingOccurrences(of: "${\(name)}", with: String(Int(value.number)))
                        notes.append(value.note)
                    }
                    expanded.append(text)
                }
                if let commandCheck, let message = commandCheck(expanded) {
                    throw CaseProblem(line: Self.line(node(["steps", index, "toolkit"])), field: "\(field).toolkit",
                                      message: "toolkit \(expanded.joined(separator: " ")): \(message)" + (notes.first { !$0.isEmpty } ?? ""))
                }
            }
        }
        for (index, item) in testCase.checklist.enumerated() {
            if let pattern = item.pattern, (try? NSRegularExpression(pattern: pattern)) == nil {
                throw CaseProblem(line: Self.line(node(["checklist", index, "pattern"])), field: "checklist[\(index + 1)].pattern",
                                  message: "a regular expression, got '\(pattern)'")
            }
        }
        return effective
    }

    struct Resolved {
        var number: Double
        /// " (${duration} from --set duration=0)", or "" for a number written in place.
        var note: String
    }

    /// A number written in place, or a parameter's value (overridden or not).
    func resolve(_ text: String, in testCase: TestCase, origins: [String: String], line: Int, field: String) throws(CaseProblem) -> Resolved {
        if let name = TestCase.parameterReference(text) {
            guard let value = testCase.parameters[name] else {
                let known = testCase.parameters.keys.sorted().joined(separator: ", ")
                throw CaseProblem(line: line, field: field,
                                  message: "${\(name)} is not among the case's parameters (it has: \(known.isEmpty ? "none" : known))")
            }
            let origin = origins[name] ?? "parameters line \(Self.line(node(["parameters", name])))"
            return Resolved(number: value, note: " (${\(name)}, \(origin))")
        }
        guard let value = YAMLScalar.number(text) else {
            throw CaseProblem(line: line, field: field, message: "a whole number or ${parameter}, got '\(text)'")
        }
        return Resolved(number: value, note: "")
    }

    static func text(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e16 ? String(Int(value)) : "\(value)"
    }
}
