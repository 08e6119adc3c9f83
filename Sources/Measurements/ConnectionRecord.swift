import Faults

/// One gateway connection, from its `conn_accepted` to its close, as indexes into the
/// timeline's events. A connection id seen again in `conn_accepted` (an agent restarted)
/// starts a new record.
struct ConnectionRecord: Sendable {
    var conn: UInt64
    /// Index of `conn_accepted`; nil when the journal starts after the accept.
    var acceptedIndex: Int?
    var client: String?
    var user: String?
    var serverID: UInt32?
    var authOKIndex: Int?
    var authFailedIndex: Int?
    var resetIndex: Int?
    /// First of `conn_reset` / `conn_closed`.
    var closedIndex: Int?
    var firstDumpIndex: Int?

    /// A connection whose accept the journal missed was open before the journal began.
    var openedIndex: Int { acceptedIndex ?? -1 }

    var isReplication: Bool { firstDumpIndex != nil }

    /// Open at the moment of event `index` (opened before it, not closed by then).
    func isOpen(at index: Int) -> Bool {
        openedIndex < index && (closedIndex.map { $0 > index } ?? true)
    }

    /// Accepted after event `index`.
    func isAccepted(after index: Int) -> Bool {
        (acceptedIndex ?? -1) > index
    }

    func inScope(_ scope: FaultScope) -> Bool {
        switch scope {
        case .all: true
        case .replication: isReplication
        case .queries: !isReplication
        }
    }

    /// Who a replication client is: its server id, else user and IP address.
    var clientKey: String {
        ReplicationClientKey.of(serverID: serverID, user: user, client: client)
    }

    func outcome() -> AttemptOutcome {
        if authOKIndex != nil { return .authenticated }
        if authFailedIndex != nil { return .authFailed }
        if resetIndex != nil { return .reset }
        if closedIndex != nil { return .closed }
        return .open
    }
}
