import Foundation
import Yams

/// A test case as a team writes it: the seed document's sections, with each step that the
/// toolkit can perform bound to an action and each checklist item bound to a measurement.
/// Stored as YAML (see `TestCase.yaml` / `TestCase(yaml:)`); `CaseMarkdown` renders the document.
public struct TestCase: Codable, Sendable, Hashable {
    public var id: String
    public var title: String
    public var metadata: CaseMetadata
    public var description: String
    public var preconditions: [String]
    /// Values a run may override (`--duration` sets `duration`; `--set KEY=VALUE` any of them).
    public var parameters: [String: Double]
    public var steps: [CaseStep]
    /// The runbook: shell lines shown under "Toolkit Commands" (comments and blank lines kept).
    public var commands: String
    /// "Expected Result" lines; a line starting with two spaces is nested under the one before.
    public var expected: [String]
    public var checklist: [ChecklistItem]
    /// Shell lines shown under "Cleanup".
    public var cleanup: String

    public init(id: String, title: String, metadata: CaseMetadata, description: String, preconditions: [String],
                parameters: [String: Double], steps: [CaseStep], commands: String, expected: [String],
                checklist: [ChecklistItem], cleanup: String) {
        self.id = id
        self.title = title
        self.metadata = metadata
        self.description = description
        self.preconditions = preconditions
        self.parameters = parameters
        self.steps = steps
        self.commands = commands
        self.expected = expected
        self.checklist = checklist
        self.cleanup = cleanup
    }

    enum CodingKeys: String, CodingKey {
        case id, title, metadata, description, preconditions, parameters, steps, commands, expected, checklist, cleanup
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        title = try container.decode(String.self, forKey: .title)
        metadata = try container.decode(CaseMetadata.self, forKey: .metadata)
        description = try container.decode(String.self, forKey: .description)
        preconditions = try container.decodeIfPresent([String].self, forKey: .preconditions) ?? []
        parameters = try container.decodeIfPresent([String: Double].self, forKey: .parameters) ?? [:]
        steps = try container.decode([CaseStep].self, forKey: .steps)
        commands = try container.decodeIfPresent(String.self, forKey: .commands) ?? ""
        expected = try container.decodeIfPresent([String].self, forKey: .expected) ?? []
        checklist = try container.decode([ChecklistItem].self, forKey: .checklist)
        cleanup = try container.decodeIfPresent(String.self, forKey: .cleanup) ?? ""
    }

    /// Parses a case file. Errors name what is wrong in one line.
    public init(yaml: String) throws(CaseFileError) {
        do {
            self = try YAMLDecoder().decode(TestCase.self, from: yaml)
        } catch let error as DecodingError {
            throw CaseFileError(Self.describe(error))
        } catch {
            throw CaseFileError("\(error)".split(separator: "\n").first.map(String.init) ?? "not YAML")
        }
        try validate()
    }

    public var yaml: String {
        (try? YAMLEncoder().encode(self)) ?? ""
    }

    /// "TC-004-connection-refused-handling.yaml"
    public var fileName: String {
        let slug = title.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let collapsed = String(slug).split(separator: "-").joined(separator: "-")
        return "\(id)-\(collapsed).yaml"
    }

    /// Checks what decoding cannot: parameters a step names exist, thresholds are positive.
    public func validate() throws(CaseFileError) {
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw CaseFileError("id must be letters, digits, - and _, got '\(id)'")
        }
        for step in steps {
            for name in step.parameterNames where parameters[name] == nil {
                throw CaseFileError("step '\(step.text)' uses ${\(name)}, which is not among the case's parameters")
            }
        }
        for item in checklist {
            if let within = item.within, within <= 0 {
                throw CaseFileError("checklist item '\(item.text)': within must be positive, got \(within)")
            }
            if let pattern = item.pattern, (try? NSRegularExpression(pattern: pattern)) == nil {
                throw CaseFileError("checklist item '\(item.text)': pattern is not a regular expression: \(pattern)")
            }
        }
    }

    /// The case with its parameters overridden, e.g. `["duration": 10]`; unknown names are refused.
    public func overriding(_ values: [String: Double]) throws(CaseFileError) -> TestCase {
        var copy = self
        for (name, value) in values {
            guard parameters[name] != nil else {
                let known = parameters.keys.sorted().joined(separator: ", ")
                throw CaseFileError("\(id) has no parameter '\(name)' (it has: \(known.isEmpty ? "none" : known))")
            }
            copy.parameters[name] = value
        }
        return copy
    }

    /// A number, or `${name}` of a parameter.
    public func value(_ text: String) -> Double? {
        if text.hasPrefix("${"), text.hasSuffix("}") {
            return parameters[String(text.dropFirst(2).dropLast())]
        }
        return Double(text)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the file" : keys.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)): missing '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

public struct CaseFileError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public struct CaseMetadata: Codable, Sendable, Hashable {
    public var category: String
    public var etlTools: String
    public var severity: String
    public var created: String
    public var author: String

    public init(category: String, etlTools: String, severity: String, created: String, author: String) {
        self.category = category
        self.etlTools = etlTools
        self.severity = severity
        self.created = created
        self.author = author
    }

    enum CodingKeys: String, CodingKey {
        case category, severity, created, author
        case etlTools = "etl_tools"
    }
}

/// One numbered test step. `text` is what a person reads; at most one action says what `run` does.
public struct CaseStep: Codable, Sendable, Hashable {
    public var text: String
    /// Questions listed under the step ("How quickly is the error detected?").
    public var observe: [String]?
    /// A network fault through the agent, for `seconds` (a number or `${duration}`).
    public var fault: FaultStep?
    /// Toolkit arguments run as a scenario command, e.g. `["corrupt", "--type", "truncate"]`.
    public var toolkit: [String]?
    /// Waits until the fault is over and the network is up again.
    public var restore: Bool?
    /// `recovery`: waits (bounded) for the pipeline to reconnect and replicate again.
    /// `sync`: waits until the destination caught up with the source.
    public var wait: WaitTarget?

    public init(text: String, observe: [String]? = nil, fault: FaultStep? = nil, toolkit: [String]? = nil,
                restore: Bool? = nil, wait: WaitTarget? = nil) {
        self.text = text
        self.observe = observe
        self.fault = fault
        self.toolkit = toolkit
        self.restore = restore
        self.wait = wait
    }

    var parameterNames: [String] {
        let texts = (fault.map { [$0.seconds, $0.interval, $0.latency].compactMap { $0 } } ?? []) + (toolkit ?? [])
        return texts.flatMap { text -> [String] in
            var names: [String] = []
            var rest = Substring(text)
            while let start = rest.range(of: "${"), let end = rest[start.upperBound...].firstIndex(of: "}") {
                names.append(String(rest[start.upperBound..<end]))
                rest = rest[rest.index(after: end)...]
            }
            return names
        }
    }
}

public enum WaitTarget: String, Codable, Sendable, Hashable {
    case recovery, sync
}

/// `network --down` (or `--flap`, `--slow`) as a step: type, how long, and the flap interval or latency.
public struct FaultStep: Codable, Sendable, Hashable {
    /// reject | timeout | service | reset | latency
    public var type: String
    /// Seconds, or `${duration}`.
    public var seconds: String
    /// With flapping: seconds between toggles (or `${interval}`).
    public var interval: String?
    /// With type latency: milliseconds per round trip.
    public var latency: String?

    public init(type: String, seconds: String, interval: String? = nil, latency: String? = nil) {
        self.type = type
        self.seconds = seconds
        self.interval = interval
        self.latency = latency
    }
}

/// One line of the verification checklist and the measurement that decides it.
public struct ChecklistItem: Codable, Sendable, Hashable {
    public var text: String
    public var measure: Measure
    /// For `detection`: the client's first failed attempt must come within this many seconds.
    public var within: Double?
    /// For `error_message`: a case-insensitive regular expression the message must match.
    public var pattern: String?
    /// Judge only this fault window of the run (1 = the first); all of them when absent.
    public var window: Int?

    public init(text: String, measure: Measure, within: Double? = nil, pattern: String? = nil, window: Int? = nil) {
        self.text = text
        self.measure = measure
        self.within = within
        self.pattern = pattern
        self.window = window
    }
}

/// What a checklist item is judged on.
public enum Measure: String, Codable, Sendable, Hashable, CaseIterable {
    /// The first failed attempt after the fault started, within `within` seconds.
    case detection
    /// The error message the tool showed matches `pattern`.
    case errorMessage = "error_message"
    /// The pipeline reconnected and replicated again after the last fault window.
    case recovery
    /// Every fault window was followed by a reconnect.
    case reconnectEveryCycle = "reconnect_every_cycle"
    /// Where the client resumed: maintained, or re-read of no row events.
    case position
    /// The destination holds exactly the source's rows: none missing, extra, duplicated or changed.
    case data
    /// The client's connections survived the fault (no failed attempt, none dropped).
    case staysConnected = "stays_connected"
    /// The pipeline's replication is running at the end (no stopped thread, no error).
    case pipelineRunning = "pipeline_running"
    /// What the toolkit cannot measure (a person must look): always NOT OBSERVED, saying so.
    case manual
}
