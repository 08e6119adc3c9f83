import AgentAPI
import Faults
import Foundation
import Measurements
import Pipeline
import TestCases
import Verification

/// Everything a run reaches outside its own logic: the agent, its journal, the source, the
/// pipeline, the destination, a step's command, the ETL tool's log. Every method may block (a
/// socket, libmariadb, libpq, a child process): `CaseRunner` calls them off the cooperative pool.
public protocol RunWorld: Sendable {
    func agentStatus() throws -> AgentStatus
    func apply(_ command: FaultCommand) throws -> AgentStatus
    func restoreAll() throws -> AgentStatus
    func window(_ id: Int) throws -> WindowReport
    /// The journal's events from `start` on, read without the agent.
    func journal(from start: Double) -> [JournalEvent]
    /// The agent's final summary of a window, as its journal holds it.
    func journalSummary(window id: Int) -> WindowReport?
    /// The sessions `user` has open on the source now; nil when the source did not answer.
    func etlSessions(user: String) -> ETLSessions?
    func sourceGTIDPosition() -> String?
    /// The managed replica's own account; nil for an external pipeline or when it did not answer.
    func replicaStatus() -> ReplicaPipeline.Status?
    /// The destination against the source, compared again until it matches or `wait` passes.
    /// `deletedAtSource`: keys per table a query-based sync cannot have seen deleted (not differences).
    func checkData(wait: Duration, deletedAtSource: [String: Set<String>]?, shouldStop: @escaping @Sendable () -> Bool) -> VerifyReport
    /// A case's `toolkit:` step, bounded by `limit`.
    func runStep(_ arguments: [String], limit: Duration) -> StepOutcome
    /// The ETL tool's log (`--etl-log`), or nil.
    var etlLog: ETLLog? { get }
}

/// The ETL user's sessions on the source, as its process list shows them.
public struct ETLSessions: Sendable, Equatable {
    /// Each binlog dump thread's state, e.g. "Master has sent all binlog to slave; waiting for more updates".
    public var dumpStates: [String]
    /// Its other connections: an engine's initial snapshot reading the tables, a poller's queries.
    public var others: Int

    public init(dumpStates: [String], others: Int) {
        self.dumpStates = dumpStates
        self.others = others
    }

    /// The states of the dump threads still sending their client the binlog (the others have
    /// sent it everything the binlog holds).
    public var sending: [String] { dumpStates.filter { !$0.contains("has sent all binlog") } }
}

/// What a step's command did: a line for the log, and how it failed, if it did.
public struct StepOutcome: Sendable, Equatable {
    public var text: String
    public var failure: String?

    public init(text: String, failure: String? = nil) {
        self.text = text
        self.failure = failure
    }
}

/// The toolkit's own writes during a run.
public protocol RunLoad: Sendable {
    /// Writes until `stop()` or the task's cancellation.
    func run() async
    /// Holds the writes; returns with none in flight.
    func pause() async
    func resume()
    /// Stops the writes (waits for the one in flight); idempotent.
    func stop() async -> LoadSummary
    /// The keys the load deleted, per table (lower case).
    func deletedKeys() -> [String: Set<String>]
}

extension RunLoad {
    public func deletedKeys() -> [String: Set<String>] { [:] }
}

/// What the run samples while it goes: rows on both sides, the pipeline's errors.
public protocol RunSampling: Sendable {
    /// Samples until `stop()` or the task's cancellation.
    func run() async
    func faultStarted()
    func stop() async
    var samples: [Sample] { get }
    /// The pipeline's distinct errors after the first fault started, oldest first.
    var errors: [ObservedMessage] { get }
}

/// What the run is: the case, and who and what it judges.
public struct RunPlan: Sendable {
    public var testCase: TestCase
    /// The ETL tool's account on the source.
    public var etlUser: String
    /// The managed replica is the pipeline (else an external one, judged by the agent and `--destination`).
    public var managedReplica: Bool
    /// The table the run's own load writes.
    public var table: String
    /// `--etl-log-pattern`.
    public var etlLogPattern: String
    /// How `--etl-log` is read (`--etl-tool` chooses).
    public var etlLogReader: ETLLogReader

    public init(testCase: TestCase, etlUser: String, managedReplica: Bool, table: String = "users",
                etlLogPattern: String = RunPlan.defaultETLLogPattern, etlLogReader: ETLLogReader = .generic) {
        self.testCase = testCase
        self.etlUser = etlUser
        self.managedReplica = managedReplica
        self.table = table
        self.etlLogPattern = etlLogPattern
        self.etlLogReader = etlLogReader
    }

    public static let defaultETLLogPattern = "error|warn|fail|exception|refused|can't connect|could not connect|couldn't connect"
}

/// The run's surroundings, injected: tests give a clock that moves when told and a world of their own.
/// A person at the terminal the run was started from: asked at the case's `observe` steps and for
/// the items the run could not measure. Nil in a run with `--yes` or without a terminal.
public protocol RunPrompter: Sendable {
    /// Shows `question`; the line the person typed, or nil when they typed nothing within `within`
    /// (nil: no limit) or the terminal went away.
    func ask(_ question: String, within: Duration?) async -> String?
}

public struct RunEnvironment<C: Clock>: Sendable where C.Duration == Duration {
    public var clock: C
    /// Seconds since 1970 now, for the report and the journal.
    public var epoch: @Sendable () -> Double
    public var world: any RunWorld
    public var load: any RunLoad
    public var sampler: any RunSampling
    /// Hears every step as it is recorded (the command prints it).
    public var reporter: @Sendable (StepRecord) -> Void
    /// The signal that asked the run to stop ("SIGTERM"), nil until one came.
    public var interruption: @Sendable () -> String?
    /// The tester at the terminal, when there is one to ask.
    public var prompter: (any RunPrompter)?

    public init(clock: C, epoch: @escaping @Sendable () -> Double, world: any RunWorld, load: any RunLoad, sampler: any RunSampling,
                reporter: @escaping @Sendable (StepRecord) -> Void, interruption: @escaping @Sendable () -> String?,
                prompter: (any RunPrompter)? = nil) {
        self.prompter = prompter
        self.clock = clock
        self.epoch = epoch
        self.world = world
        self.load = load
        self.sampler = sampler
        self.reporter = reporter
        self.interruption = interruption
    }
}
