import Measurements
import Foundation

/// One run of a case: what was checked first, what was done when, what each checklist item
/// came to, and the evidence. `result.json` is this value; the other outputs render it.
public struct RunReport: Codable, Sendable {
    /// The format of `result.json` (`toolkit cases schema run-result` prints its JSON Schema).
    public static let currentVersion = 1
    public var version = RunReport.currentVersion
    public var kind = "run"
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
        case version, kind
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

    /// Marks the run INCONCLUSIVE for `cause`, and says why in `reason`, one cause after the
    /// other; an INTERRUPTED run stays so until `settle` weighs a failed restore.
    public mutating func markInconclusive(_ cause: InconclusiveCause) {
        guard !inconclusive.contains(cause) else { return }
        inconclusive.append(cause)
        if verdict != .interrupted {
            verdict = .inconclusive
            reason = inconclusive.map(\.line).joined(separator: "; ")
        }
    }

    /// The run's verdict once everything is known. The verdict so far is INTERRUPTED or BLOCKED
    /// when the run ended so; `checklist` is what its items came to. What wins: a failed final
    /// restore (INCONCLUSIVE: the network may still be down) > INTERRUPTED > INCONCLUSIVE >
    /// BLOCKED > FAIL > PASS.
    public mutating func settle(checklist: RunVerdict) {
        let causes = inconclusive.map(\.line).joined(separator: "; ")
        if inconclusive.contains(where: { $0.kind == .restore }) {
            reason = causes + (verdict == .interrupted ? "; " + (reason ?? "interrupted") : "")
            verdict = .inconclusive
        } else if verdict == .interrupted {
            if !inconclusive.isEmpty { reason = (reason ?? "interrupted") + "; " + causes }
        } else if !inconclusive.isEmpty {
            verdict = .inconclusive
            reason = causes
        } else if verdict != .blocked {
            verdict = checklist
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

    public static func clock(_ seconds: Double) -> String {
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

/// Why a run could not reach a verdict on the pipeline: its own tooling failed, or the scenario
/// did not happen as the case says, so whatever the pipeline did was not tested as written.
public struct InconclusiveCause: Codable, Sendable, Hashable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// A step's command failed.
        case step
        /// The supervisor restarted the agent during the run: the pipeline saw an outage the case did not ask for.
        case agentRestarted = "agent_restarted"
        /// The agent stopped answering and did not come back.
        case agentDown = "agent_down"
        /// `toolkit down` stopped the source during the run.
        case sourceDown = "source_down"
        /// A fault command the run did not send (another tester's, a script's).
        case foreignFault = "foreign_fault"
        /// The final restore failed: the network may still be down.
        case restore
        /// An error of the toolkit's own.
        case `internal`
        /// A precondition the run passed under a query-based sync's rules does not hold for the
        /// binlog reader the pipeline turned out to be (it opened a dump after the preconditions).
        case precondition
    }

    public var kind: Kind
    /// What it was: "step 3: toolkit corrupt --type truncate", "the agent restarted at 19:52:03".
    public var subject: String
    /// What came of it: "exit 1: toolkit: ERROR 1045 ...".
    public var detail: String

    public init(kind: Kind, subject: String, detail: String) {
        self.kind = kind
        self.subject = subject
        self.detail = detail
    }

    public static func step(number: Int, command: String, detail: String) -> InconclusiveCause {
        InconclusiveCause(kind: .step, subject: "step \(number): \(command)", detail: detail)
    }

    public static func restoreFailed(_ detail: String) -> InconclusiveCause {
        InconclusiveCause(kind: .restore, subject: "the final restore (network --up)", detail: detail)
    }

    public static func internalError(_ detail: String) -> InconclusiveCause {
        InconclusiveCause(kind: .internal, subject: "the toolkit", detail: detail)
    }

    /// "Destination in sync" passed with extra rows a query-based sync keeps; a binlog reader's
    /// destination holding them was not in sync before the run.
    public static func notInSyncForABinlogReader(_ detail: String) -> InconclusiveCause {
        InconclusiveCause(kind: .precondition, subject: "precondition \"Destination in sync\" not met for a binlog reader", detail: detail)
    }

    public static func agentDown(since: Double, detail: String) -> InconclusiveCause {
        InconclusiveCause(kind: .agentDown, subject: "the agent stopped answering at \(RunReport.clock(since)) UTC", detail: detail)
    }

    public var line: String {
        switch kind {
        case .step, .restore, .internal: "\(subject) failed (\(detail))"
        default: "\(subject): \(detail)"
        }
    }

    /// What the journal shows went on around the run that the case did not ask for: the agent
    /// restarted, `toolkit down` stopped the source, a fault command came from someone other
    /// than the run (a command journaled while the run held the source, not sent by it).
    public static func tooling(in events: [JournalEvent]) -> [InconclusiveCause] {
        events.compactMap { event in
            let at = "\(RunReport.clock(event.at)) UTC"
            switch event.kind {
            case .agentRestarted:
                return InconclusiveCause(kind: .agentRestarted, subject: "the agent restarted at \(at)",
                                         detail: "after \(event.detail ?? "its predecessor ended"); the pipeline saw an outage the case did not ask for")
            case .faultCommand where event.holder == false:
                return InconclusiveCause(kind: .foreignFault, subject: "a fault the run did not start",
                                         detail: "`\(event.detail ?? "?")` at \(at) from \(event.client ?? "someone else")")
            case .note where event.user == "down":
                return InconclusiveCause(kind: .sourceDown, subject: "the source was stopped at \(at)", detail: event.detail ?? "toolkit down")
            default:
                return nil
            }
        }
    }
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
