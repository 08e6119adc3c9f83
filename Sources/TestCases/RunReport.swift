import Measurements
import Foundation

/// One run of a case: what was checked first, what was done when, what each checklist item
/// came to, and the evidence. `result.json` is this value; the other outputs render it.
public struct RunReport: Codable, Sendable {
    public var caseID: String
    public var title: String
    /// The run's number in the execution log it is written to (1 in a fresh report).
    public var run: Int
    public var started: Double
    public var finished: Double
    public var tester: String
    public var etlTool: String
    public var toolkitVersion: String
    public var pipeline: String
    public var parameters: [String: Double]
    public var verdict: RunVerdict
    /// Why the run is BLOCKED, INCONCLUSIVE or INTERRUPTED.
    public var reason: String?
    /// What made the run INCONCLUSIVE (a step that failed), each with its evidence.
    public var inconclusive: [InconclusiveCause]
    public var preconditions: [PreconditionResult]
    public var steps: [StepRecord]
    public var items: [ItemResult]
    public var observations: RunObservations
    public var load: LoadSummary?
    /// Rows at the source and at the destination over the run, for the timeline.
    public var samples: [Sample]
    /// File names of the run's outputs, linked from the Markdown log.
    public var artifacts: [String]
    public var notes: [String]

    public init(caseID: String, title: String, run: Int = 1, started: Double, finished: Double, tester: String,
                etlTool: String, toolkitVersion: String, pipeline: String, parameters: [String: Double],
                verdict: RunVerdict, reason: String? = nil, inconclusive: [InconclusiveCause] = [], preconditions: [PreconditionResult] = [],
                steps: [StepRecord] = [], items: [ItemResult] = [], observations: RunObservations = RunObservations(),
                load: LoadSummary? = nil, samples: [Sample] = [], artifacts: [String] = [], notes: [String] = []) {
        self.caseID = caseID
        self.title = title
        self.run = run
        self.started = started
        self.finished = finished
        self.tester = tester
        self.etlTool = etlTool
        self.toolkitVersion = toolkitVersion
        self.pipeline = pipeline
        self.parameters = parameters
        self.verdict = verdict
        self.reason = reason
        self.inconclusive = inconclusive
        self.preconditions = preconditions
        self.steps = steps
        self.items = items
        self.observations = observations
        self.load = load
        self.samples = samples
        self.artifacts = artifacts
        self.notes = notes
    }

    enum CodingKeys: String, CodingKey {
        case caseID = "case", title, run, started, finished, tester, parameters, verdict, reason, inconclusive, preconditions, steps, items
        case observations, load, samples, artifacts, notes, pipeline
        case etlTool = "etl_tool", toolkitVersion = "toolkit_version"
    }

    /// A run whose preconditions failed: every item BLOCKED with the reason.
    public static func blocked(_ testCase: TestCase, reason: String, into report: RunReport) -> RunReport {
        var copy = report
        copy.verdict = .blocked
        copy.reason = reason
        copy.items = testCase.checklist.map {
            ItemResult(text: $0.text, measure: $0.measure, verdict: .blocked, evidence: "not run: \(reason)")
        }
        return copy
    }

    /// Marks the run INCONCLUSIVE for `cause` (unless a verdict that wins over it applies), and
    /// says why in `reason`, one cause after the other.
    public mutating func markInconclusive(_ cause: InconclusiveCause) {
        inconclusive.append(cause)
        verdict = RunVerdict.worst([verdict, .inconclusive])
        if verdict == .inconclusive {
            reason = inconclusive.map(\.line).joined(separator: "; ")
        }
    }

    /// "YYYY-MM-DD" of the start, UTC.
    public var date: String { Self.day(started) }

    static func day(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func clock(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }
}

public struct PreconditionResult: Codable, Sendable, Hashable {
    public var text: String
    public var met: Bool
    public var evidence: String

    public init(text: String, met: Bool, evidence: String) {
        self.text = text
        self.met = met
        self.evidence = evidence
    }
}

/// A step as performed: when, what, and what came of it.
public struct StepRecord: Codable, Sendable, Hashable {
    public var at: Double
    public var text: String
    public var outcome: String

    public init(at: Double, text: String, outcome: String) {
        self.at = at
        self.text = text
        self.outcome = outcome
    }

    /// "text: outcome", without doubling a colon the step's text ends with.
    public var line: String {
        (text.hasSuffix(":") ? text : text + ":") + " " + outcome
    }
}

/// Why a run could not reach a verdict on the pipeline. `kind` says what went wrong (`step`: a
/// step's command failed); later causes (the agent restarted, the source went down) add kinds.
public struct InconclusiveCause: Codable, Sendable, Hashable {
    public var kind: String
    /// What it was: "step 3: toolkit corrupt --type truncate".
    public var subject: String
    /// What came of it: "exit 1: toolkit: ERROR 1045 ...".
    public var detail: String

    public init(kind: String, subject: String, detail: String) {
        self.kind = kind
        self.subject = subject
        self.detail = detail
    }

    public static func step(number: Int, command: String, detail: String) -> InconclusiveCause {
        InconclusiveCause(kind: "step", subject: "step \(number): \(command)", detail: detail)
    }

    public var line: String { "\(subject) failed (\(detail))" }
}

/// The toolkit's own load during the run.
public struct LoadSummary: Codable, Sendable, Hashable {
    public var inserted: Int
    public var updated: Int
    public var deleted: Int
    public var table: String

    public init(inserted: Int, updated: Int, deleted: Int, table: String) {
        self.inserted = inserted
        self.updated = updated
        self.deleted = deleted
        self.table = table
    }
}

public struct Sample: Codable, Sendable, Hashable {
    public var at: Double
    public var sourceRows: Int?
    public var destinationRows: Int?

    public init(at: Double, sourceRows: Int?, destinationRows: Int?) {
        self.at = at
        self.sourceRows = sourceRows
        self.destinationRows = destinationRows
    }

    enum CodingKeys: String, CodingKey {
        case at
        case sourceRows = "source_rows", destinationRows = "destination_rows"
    }
}
