/// A fault that changes whether bytes move on a connection at all.
public enum ConnectionFault: String, Sendable, Hashable, CaseIterable {
    /// New connections are refused by the kernel (scope `.all`: the listener is closed) and
    /// established connections are reset (RST).
    case reject
    /// New connections are accepted but never answered; established ones freeze.
    case timeout
}

/// Which connections a fault applies to, by the connection tap's classification.
public enum ConnectionScope: String, Sendable, Hashable, CaseIterable {
    case all
    /// Connections whose tap says `isReplication`.
    case replication
    /// Connections whose tap does not say `isReplication` (including those without a tap and
    /// those not classified yet).
    case queries

    public func includes(isReplication: Bool) -> Bool {
        switch self {
        case .all: true
        case .replication: isReplication
        case .queries: !isReplication
        }
    }
}

/// What a connection must do under the current faults.
enum ConnectionAction: Equatable {
    /// Forward bytes both ways (connecting upstream first if it has not yet).
    case forward
    /// Move no byte either way; keep the sockets open and everything buffered.
    case hold
    /// Reset the client with a TCP RST and close the upstream side.
    case reset
}

/// Everything the gateway tells its connections: a snapshot, pushed whole on every change.
struct FaultSettings: Sendable, Equatable {
    var connectionFault: ConnectionFault?
    var scope: ConnectionScope = .all
    /// Latency and bandwidth, each for the connections of its own scope.
    var shaping: [ScopedShaping] = []
    /// Increases with every change, so a connection never applies an older snapshot over a newer one.
    var generation: UInt64 = 0

    /// With scope `.all`, `reject` closes the listening socket so the kernel refuses connects.
    var closesListener: Bool {
        connectionFault == .reject && scope == .all
    }

    func action(isReplication: Bool) -> ConnectionAction {
        guard let fault = connectionFault, scope.includes(isReplication: isReplication) else {
            return .forward
        }
        switch fault {
        case .reject: return .reset
        case .timeout: return .hold
        }
    }
}
