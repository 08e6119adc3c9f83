/// One write of the soak's workload, as the client saw it: what it asked, when, and how it ended.
/// `indeterminate` is a write whose answer never came (the server went away mid-statement): it
/// may or may not have committed, and only the source can tell.
public struct SoakOperation: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable { case insert, update, delete }
    public enum Outcome: String, Codable, Sendable { case ok, failed, indeterminate }

    /// 1, 2, 3... in the order the workload issued them.
    public var seq: Int
    public var kind: Kind
    /// The row's key; nil for an insert whose answer never came (the source names it later, by `tag`).
    public var id: Int?
    /// An insert's email, which names its row at the source.
    public var tag: String?
    /// Epoch seconds: the statement sent, its answer (or the error) received.
    public var started: Double
    public var ended: Double
    public var outcome: Outcome
    public var error: String?

    public init(seq: Int, kind: Kind, id: Int?, tag: String? = nil, started: Double, ended: Double, outcome: Outcome, error: String? = nil) {
        self.seq = seq
        self.kind = kind
        self.id = id
        self.tag = tag
        self.started = started
        self.ended = ended
        self.outcome = outcome
        self.error = error
    }
}

/// How many writes of each kind ended each way.
public struct SoakHistoryCounts: Codable, Hashable, Sendable {
    public var ok = 0
    public var failed = 0
    public var indeterminate = 0
    /// Indeterminate writes the source shows committed.
    public var indeterminateCommitted = 0
    public var byKind: [String: Int] = [:]

    enum CodingKeys: String, CodingKey {
        case ok, failed, indeterminate, indeterminateCommitted = "indeterminate_committed", byKind = "by_kind"
    }

    public init() {}

    public init(_ history: [SoakOperation], committedInserts: Set<Int> = []) {
        for operation in history {
            switch operation.outcome {
            case .ok: ok += 1
            case .failed: failed += 1
            case .indeterminate:
                indeterminate += 1
                if operation.kind == .insert, committedInserts.contains(operation.seq) { indeterminateCommitted += 1 }
            }
            byKind[operation.kind.rawValue, default: 0] += 1
        }
    }

    public var total: Int { ok + failed + indeterminate }
}
