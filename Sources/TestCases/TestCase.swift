import Foundation
import Measurements
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

    enum CodingKeys: String, CodingKey, CaseIterable {
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

    /// Parses and checks a case file (see `CaseCheck`); `file` names it in the error line.
    public init(yaml: String, file: String = "case") throws(CaseFileError) {
        self = try CaseCheck.load(yaml, file: file)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(title, forKey: .title)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(description, forKey: .description)
        try container.encode(preconditions, forKey: .preconditions)
        try container.encode(parameters.mapValues(CaseNumber.init), forKey: .parameters)
        try container.encode(steps, forKey: .steps)
        try container.encode(commands, forKey: .commands)
        try container.encode(expected, forKey: .expected)
        try container.encode(checklist, forKey: .checklist)
        try container.encode(cleanup, forKey: .cleanup)
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

    /// Parameters every case has, declared or not (`--set NAME=SECONDS`): how long the run waits,
    /// and gives the pipeline, to resume after the restore and then to catch up. Engines differ by
    /// minutes here (a binlog client that comes back through a 60 s keepalive, retries after 10,
    /// 30, 90 and 270 s).
    public static let reserved: [(name: String, seconds: Double, help: String)] = [
        ("recovery_within", JournalTimeline.defaultRecoveryWithin, "Seconds after the restore the pipeline has to replicate again (a later resume FAILs recovery)."),
        ("catch_up_within", 120, "Seconds after recovery the destination has to hold the source's rows before they are compared."),
        ("read_within", 300, "Seconds before the run in which a query-based sync (one that opens no binlog dump) must have read the source's tables."),
    ]

    /// A parameter's value: the case's (or an override's), else a reserved parameter's default.
    public func parameter(_ name: String) -> Double? {
        parameters[name] ?? Self.reserved.first { $0.name == name }?.seconds
    }

    /// `recovery_within`, in seconds.
    public var recoveryWithin: Double { parameter("recovery_within") ?? JournalTimeline.defaultRecoveryWithin }
    /// `catch_up_within`, in seconds.
    public var catchUpWithin: Double { parameter("catch_up_within") ?? 120 }
    /// `read_within`, in seconds.
    public var readWithin: Double { parameter("read_within") ?? 300 }

    /// The parameters a run goes by: the case's, and the reserved ones.
    public var effectiveParameters: [String: Double] {
        var all = parameters
        for reserved in Self.reserved where all[reserved.name] == nil { all[reserved.name] = reserved.seconds }
        return all
    }

    static func isReserved(_ name: String) -> Bool { reserved.contains { $0.name == name } }

    /// The case with its parameters overridden, e.g. `["duration": 10]`; unknown names are refused.
    public func overriding(_ values: [String: Double]) throws(CaseFileError) -> TestCase {
        var copy = self
        for (name, value) in values {
            guard parameters[name] != nil || Self.isReserved(name) else {
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
            return parameter(String(text.dropFirst(2).dropLast()))
        }
        return Double(text)
    }

    /// Whole-number text for a number or `${name}`; nil when it is not a whole number that fits.
    public func whole(_ text: String) -> Int? {
        guard let value = value(text), value.isFinite, value.rounded() == value, abs(value) < 1e15 else { return nil }
        return Int(value)
    }

    /// A step's arguments with every `${name}` replaced by the parameter's whole value.
    public func expanded(_ arguments: [String]) -> [String] {
        arguments.map { argument in
            var text = argument
            for name in Self.references(in: argument) ?? [] {
                if let number = whole("${\(name)}") { text = text.replacingOccurrences(of: "${\(name)}", with: String(number)) }
            }
            return text
        }
    }

    /// `name` when `text` is exactly `${name}`.
    static func parameterReference(_ text: String) -> String? {
        guard text.hasPrefix("${"), text.hasSuffix("}"), text.count > 3 else { return nil }
        let name = String(text.dropFirst(2).dropLast())
        return name.range(of: CaseFormat.parameterName, options: .regularExpression) != nil ? name : nil
    }

    /// The names of every `${name}` in `text`; nil when a `${` is not closed.
    static func references(in text: String) -> [String]? {
        var names: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { return nil }
            names.append(String(rest[start.upperBound..<end]))
            rest = rest[rest.index(after: end)...]
        }
        return names
    }
}

public struct CaseFileError: Error, CustomStringConvertible, Sendable {
    /// One line: `FILE:LINE: field: what is allowed`.
    public var description: String
    public var line: Int?
    public var field: String?
    public init(_ description: String, line: Int? = nil, field: String? = nil) {
        self.description = description
        self.line = line
        self.field = field
    }
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

    enum CodingKeys: String, CodingKey, CaseIterable {
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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case text, observe, fault, toolkit, restore, wait
    }
}

public enum WaitTarget: String, Codable, Sendable, Hashable, CaseIterable {
    case recovery, sync
}

/// `network --down` (or `--flap`, `--slow`) as a step: type, how long, and the flap interval or latency.
public struct FaultStep: Codable, Sendable, Hashable {
    /// reject | timeout | service | reset | latency (`CaseFormat.faultTypes`)
    public var type: String
    /// Seconds, or `${duration}`; absent for a reset, which is one-shot.
    public var seconds: String?
    /// With flapping: seconds between toggles (or `${interval}`).
    public var interval: String?
    /// With type latency: milliseconds the source's bytes reach the client late.
    public var latency: String?
    /// With type service: kill the server (SIGKILL) instead of a clean shutdown.
    public var crash: Bool?

    public init(type: String, seconds: String?, interval: String? = nil, latency: String? = nil, crash: Bool? = nil) {
        self.type = type
        self.seconds = seconds
        self.interval = interval
        self.latency = latency
        self.crash = crash
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, seconds, interval, latency, crash
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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case text, measure, within, pattern, window
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(text, forKey: .text)
        try container.encode(measure, forKey: .measure)
        try container.encodeIfPresent(within.map(CaseNumber.init), forKey: .within)
        try container.encodeIfPresent(pattern, forKey: .pattern)
        try container.encodeIfPresent(window, forKey: .window)
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

/// A number written the way people write it: `60`, `2.5`, never `6e+1`.
struct CaseNumber: Encodable, YAMLEncodable {
    var value: Double
    init(_ value: Double) { self.value = value }

    var isWhole: Bool { value.isFinite && value.rounded() == value && abs(value) < 1e15 }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if isWhole { try container.encode(Int(value)) } else { try container.encode(value) }
    }

    func box() -> Node {
        isWhole ? Node(String(Int(value)), Tag(.int)) : Node("\(value)", Tag(.float))
    }
}
