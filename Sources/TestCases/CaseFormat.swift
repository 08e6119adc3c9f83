import Faults

/// The structure of a case file, written once: `CaseCheck` walks a file against it (each mistake
/// one line with its line number) and `CaseSchema` renders it as a JSON Schema for editors and
/// other validators. A unit test holds it to the `Codable` types' keys.
public indirect enum CaseShape: Sendable {
    /// A mapping with these keys and no others; `rules` tie keys to each other.
    case object([CaseField], rules: [CaseRule] = [])
    /// A mapping from names (`names`, a regular expression) to values of one shape; `fixed`
    /// keys have a shape of their own.
    case map(names: String, values: CaseShape, fixed: [CaseField] = [])
    case array(CaseShape, minItems: Int = 0)
    /// Text; `pattern` (a regular expression) when it must match one.
    case string(pattern: String? = nil)
    case choice([String])
    /// A number in `range`, optionally whole.
    case number(ClosedRange<Double>, whole: Bool, unit: String)
    /// A whole number in `range`, or `${name}` of a parameter (checked in range once substituted).
    case numberOrParameter(ClosedRange<Double>, unit: String)
    case boolean
    /// A `toolkit:` step's arguments (see `StepCommands`).
    case stepCommand
}

/// One key of a mapping.
public struct CaseField: Sendable {
    public var name: String
    public var shape: CaseShape
    public var required: Bool
    public var help: String

    public init(_ name: String, _ shape: CaseShape, required: Bool = false, _ help: String) {
        self.name = name
        self.shape = shape
        self.required = required
        self.help = help
    }
}

/// How keys of one mapping go together.
public enum CaseRule: Sendable {
    /// At most one of these keys.
    case atMostOne([String])
    /// `key` is allowed only when `partner` is one of `values`.
    case onlyWith(key: String, partner: String, values: [String])
    /// `key` is required unless `partner` is one of `values`.
    case requiredUnless(key: String, partner: String, values: [String])
}

public enum CaseFormat {
    /// Fault types a step may use: what `network --down` (and `--slow --latency`) can do to the ETL client.
    public static let faultTypes = ["reject", "timeout", "service", "reset", "latency"]
    static let timedFaults = ["reject", "timeout", "service", "latency"]
    static let flappingFaults = ["reject", "timeout", "service"]
    static let parameterName = "^[A-Za-z_][A-Za-z0-9_]*$"

    static let seconds = FaultLimits.durationSeconds
    static let interval = FaultLimits.flapIntervalSeconds
    static let latency = FaultLimits.latencyMs

    static func range(_ range: ClosedRange<Int>) -> ClosedRange<Double> { Double(range.lowerBound)...Double(range.upperBound) }

    public static let fault: CaseShape = .object([
        CaseField("type", .choice(faultTypes), required: true, "What the ETL client's connections meet (see `toolkit network`)."),
        CaseField("seconds", .numberOrParameter(range(seconds), unit: "seconds"),
                  "How long the fault lasts (with interval: how long the flapping lasts); not with reset, which is one-shot."),
        CaseField("interval", .numberOrParameter(range(interval), unit: "seconds"),
                  "Flap: seconds between toggles (reject, timeout, service)."),
        CaseField("latency", .numberOrParameter(range(latency), unit: "milliseconds"),
                  "With type latency: milliseconds by which the source's bytes reach the client late, so added per round trip (default 2000)."),
        CaseField("crash", .boolean, "With type service: kill the server (SIGKILL) instead of a clean shutdown."),
    ], rules: [
        .requiredUnless(key: "seconds", partner: "type", values: ["reset"]),
        .onlyWith(key: "seconds", partner: "type", values: timedFaults),
        .onlyWith(key: "interval", partner: "type", values: flappingFaults),
        .onlyWith(key: "latency", partner: "type", values: ["latency"]),
        .onlyWith(key: "crash", partner: "type", values: ["service"]),
    ])

    public static let step: CaseShape = .object([
        CaseField("text", .string(), required: true, "What a person reads: the numbered step."),
        CaseField("observe", .array(.string()), "Questions listed under the step."),
        CaseField("fault", fault, "A network fault through the agent."),
        CaseField("toolkit", .stepCommand, "A scenario command and its flags, e.g. [corrupt, --type, truncate]."),
        CaseField("restore", .boolean, "Wait until the fault is over and the network is up again."),
        CaseField("wait", .choice(WaitTarget.allCases.map(\.rawValue)),
                  "recovery: wait (bounded) for the pipeline to replicate again; sync: until the destination caught up."),
    ], rules: [.atMostOne(["fault", "toolkit", "restore", "wait"])])

    public static let checklistItem: CaseShape = .object([
        CaseField("text", .string(), required: true, "The checklist line."),
        CaseField("measure", .choice(Measure.allCases.map(\.rawValue)), required: true, "What the item is judged on."),
        CaseField("within", .number(0.001...86_400, whole: false, unit: "seconds"),
                  "With measure detection: the first failed attempt must come within this many seconds."),
        CaseField("pattern", .string(), "With measure error_message: a case-insensitive regular expression the message must match."),
        CaseField("window", .number(1...10_000, whole: true, unit: "(1 = the first fault window)"),
                  "Judge only this fault window of the run."),
    ], rules: [
        .onlyWith(key: "within", partner: "measure", values: [Measure.detection.rawValue]),
        .onlyWith(key: "pattern", partner: "measure", values: [Measure.errorMessage.rawValue]),
    ])

    public static let metadata: CaseShape = .object([
        CaseField("category", .string(), required: true, "e.g. Network, Binlog, Recovery."),
        CaseField("etl_tools", .string(), required: true, "The tools the case is written for."),
        CaseField("severity", .string(), required: true, "e.g. High, Critical."),
        CaseField("created", .string(), required: true, "The date the case was written (quoted: '2026-02-10')."),
        CaseField("author", .string(), required: true, "Who wrote it."),
    ])

    /// The whole file.
    public static let testCase: CaseShape = .object([
        CaseField("id", .string(pattern: "^[A-Za-z0-9_-]+$"), required: true, "Letters, digits, - and _, e.g. TC-004."),
        CaseField("title", .string(), required: true, "The case's title."),
        CaseField("metadata", metadata, required: true, "The seed document's metadata table."),
        CaseField("description", .string(), required: true, "What the case verifies."),
        CaseField("preconditions", .array(.string()), "Shown as '- [ ]' lines."),
        CaseField("parameters", .map(names: parameterName, values: .number(-1e15...1e15, whole: false, unit: ""), fixed: [
            CaseField("duration", .number(range(seconds), whole: true, unit: "seconds"), "Seconds each fault phase lasts (--duration)."),
        ] + TestCase.reserved.map { CaseField($0.name, .number(range(seconds), whole: true, unit: "seconds"), $0.help + " Default \(Int($0.seconds)).") }), "Values a run may override (--duration, --set NAME=VALUE); a step names one as ${name}."),
        CaseField("steps", .array(step), required: true, "The numbered steps; at most one action each."),
        CaseField("commands", .string(), "The runbook: shell lines under 'Toolkit Commands'."),
        CaseField("expected", .array(.string()), "'Expected Result' lines; two leading spaces nest a line under the one before."),
        CaseField("checklist", .array(checklistItem), required: true, "The verification checklist, each item bound to a measurement."),
        CaseField("cleanup", .string(), "Shell lines under 'Cleanup'."),
    ])
}
