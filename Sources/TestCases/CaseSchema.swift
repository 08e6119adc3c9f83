import Foundation

/// `CaseFormat` as a JSON Schema (draft-07, which the YAML language server and `check-jsonschema`
/// read): keys, types, choices and ranges. What a schema cannot say — parameters a step names,
/// ranges once parameters are substituted, a step command's own flag rules — `cases check` says.
public enum CaseSchema {
    public static let id = "https://mysql-test-toolkit.invalid/case.schema.json"

    /// The schema as pretty JSON with sorted keys (the same bytes every time).
    public static var json: String {
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    public static var document: [String: Any] {
        var schema = render(CaseFormat.testCase, help: nil)
        schema["$schema"] = "http://json-schema.org/draft-07/schema#"
        schema["$id"] = id
        schema["title"] = "mysql-test-toolkit test case"
        schema["description"] = "A test case file for `toolkit run FILE` (see `toolkit cases export DIR` for examples)."
        return schema
    }

    static func render(_ shape: CaseShape, help: String?) -> [String: Any] {
        var schema: [String: Any]
        switch shape {
        case .object(let fields, let rules):
            schema = ["type": "object", "additionalProperties": false,
                      "properties": Dictionary(uniqueKeysWithValues: fields.map { ($0.name, render($0.shape, help: $0.help)) })]
            let required = fields.filter(\.required).map(\.name)
            if !required.isEmpty { schema["required"] = required }
            if !rules.isEmpty { schema["allOf"] = rules.map { render($0) } }
        case .map(let names, let values, let fixed):
            schema = ["type": "object", "propertyNames": ["pattern": names], "additionalProperties": render(values, help: nil)]
            if !fixed.isEmpty {
                schema["properties"] = Dictionary(uniqueKeysWithValues: fixed.map { ($0.name, render($0.shape, help: $0.help)) })
            }
        case .array(let element, let minItems):
            schema = ["type": "array", "items": render(element, help: nil)]
            if minItems > 0 { schema["minItems"] = minItems }
        case .string(let pattern):
            schema = ["type": "string"]
            if let pattern { schema["pattern"] = pattern }
        case .choice(let values):
            schema = ["type": "string", "enum": values]
        case .number(let range, let whole, _):
            schema = ["type": whole ? "integer" : "number", "minimum": number(range.lowerBound), "maximum": number(range.upperBound)]
        case .numberOrParameter(let range, _):
            let whole: [String: Any] = ["type": "integer", "minimum": number(range.lowerBound), "maximum": number(range.upperBound)]
            let reference: [String: Any] = ["type": "string", "pattern": "^(\\$\\{[A-Za-z_][A-Za-z0-9_]*\\}|[0-9]+)$"]
            schema = ["anyOf": [whole, reference]]
        case .boolean:
            schema = ["type": "boolean"]
        case .stepCommand:
            schema = stepCommand
        }
        if let help { schema["description"] = help }
        return schema
    }

    static func render(_ rule: CaseRule) -> [String: Any] {
        switch rule {
        case .atMostOne(let keys):
            var pairs: [[String: Any]] = []
            for (index, first) in keys.enumerated() {
                for second in keys[(index + 1)...] { pairs.append(["required": [first, second]]) }
            }
            let anyPair: [String: Any] = ["anyOf": pairs]
            return ["not": anyPair]
        case .onlyWith(let key, let partner, let values):
            let condition: [String: Any] = ["required": [key]]
            let partnerValues: [String: Any] = [partner: ["enum": values]]
            let then: [String: Any] = ["properties": partnerValues]
            return ["if": condition, "then": then]
        case .requiredUnless(let key, let partner, let values):
            let other: [String: Any] = ["not": ["enum": values]]
            let condition: [String: Any] = ["properties": [partner: other], "required": [partner]]
            let then: [String: Any] = ["required": [key]]
            return ["if": condition, "then": then]
        }
    }

    /// A scenario command first, then only its own flags and their values; never a forbidden
    /// flag or a path.
    static var stepCommand: [String: Any] {
        let forbidden = "^(" + StepCommands.forbidden.joined(separator: "|") + ")(=.*)?$"
        var rules: [[String: Any]] = [
            ["not": ["contains": ["type": "string", "pattern": forbidden] as [String: Any]] as [String: Any]],
            ["not": ["contains": ["type": "string", "pattern": "/|\\.\\."] as [String: Any]] as [String: Any]],
        ]
        for command in StepCommands.all {
            let flags = command.options.map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: "|")
            let words: [[String: Any]] = [
                ["type": "number"],
                ["type": "string", "enum": [command.name] + command.flags],
                ["type": "string", "pattern": "^(?!--)"],
                ["type": "string", "pattern": "^(\(flags))="],
            ]
            let first: [String: Any] = ["const": command.name]
            let condition: [String: Any] = ["items": [first]]
            let then: [String: Any] = ["items": ["anyOf": words] as [String: Any]]
            rules.append(["if": condition, "then": then])
        }
        let commandName: [String: Any] = ["type": "string", "enum": StepCommands.all.map(\.name)]
        let rest: [String: Any] = ["type": ["string", "number"]]
        return ["type": "array", "minItems": 1, "items": [commandName], "additionalItems": rest, "allOf": rules]
    }

    static func number(_ value: Double) -> Any {
        value.rounded() == value && abs(value) < 1e15 ? Int(value) as Any : value as Any
    }
}
