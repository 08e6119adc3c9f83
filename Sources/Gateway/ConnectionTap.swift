import Foundation
/// Observes the bytes of one proxied connection, so that another module can follow the MySQL
/// protocol without the gateway knowing it.
///
/// One tap per connection. Every call is made on that connection's event loop, in order.
/// The pointers are valid only during the call.
public protocol ConnectionTap: AnyObject {
    /// Bytes read from the client, just before the gateway decides what to do with them: a
    /// scoped fault that matches after this call resets or holds the connection before these
    /// bytes reach the server.
    func clientToServer(_ bytes: UnsafeRawBufferPointer)
    /// Bytes from the server, just before they are written to the client, after any hold
    /// (`timeout`) or delay (latency, bandwidth): what the client was sent, not what the
    /// server said. Bytes still held when a connection is reset are never reported.
    func serverToClient(_ bytes: UnsafeRawBufferPointer)
    /// The tap's classification of the connection, used by scoped faults. Read when the
    /// connection starts, after every `clientToServer` call, and whenever a fault changes.
    var isReplication: Bool { get }
    /// Called once, when both sockets of the connection are closed; `at` is when its cause came
    /// (the client's or the server's close), which a graceful close, waiting for the client to
    /// acknowledge what it was written, may have followed by up to a second.
    func closed(by: CloseCause, at: Date)
    /// The gateway terminates this connection's TLS: called just before the client's SSLRequest
    /// is tapped; every byte tapped after it is the decrypted session.
    func tlsTerminated()
    /// Called once, when the client's socket is connected: how to learn what the client's TCP
    /// acknowledged of the bytes `serverToClient` reported.
    func delivering(to delivery: ClientDelivery)
}

extension ConnectionTap {
    public func tlsTerminated() {}
    public func delivering(to delivery: ClientDelivery) {}
}

/// Told about every accepted connection; hands out the connection's tap.
public protocol GatewayObserver: Sendable {
    /// Called on the new connection's event loop before any byte moves. `nil` means no tap.
    func accepted(connectionID: UInt64, client: String) -> ConnectionTap?
    /// The gateway could not connect to the upstream server for this connection.
    func upstreamFailed(connectionID: UInt64, error: String)
}

/// The fault that closed a connection.
public enum FaultKind: String, Sendable, Hashable {
    /// `reject` reset the connection (RST).
    case reject
    /// A one-shot `reset` reset the connection (RST).
    case reset
    /// The kernel reset the client (iptables REJECT answered its packet with RST); the gateway
    /// closed its side to match.
    case kernelReset = "kernel reset (iptables reject)"
}

/// Who or what ended a connection: the first of these events wins.
public enum CloseCause: Sendable, Hashable, CustomStringConvertible {
    /// The client closed (or half-closed) its side first.
    case client
    /// The server closed (or half-closed) its side first.
    case server
    /// The gateway reset the connection because of a fault.
    case fault(FaultKind)
    /// An I/O error, a failed upstream connect, or the gateway stopping.
    case error(String)

    public var description: String {
        switch self {
        case .client: "client"
        case .server: "server"
        case .fault(let kind): "fault(\(kind.rawValue))"
        case .error(let message): "error(\(message))"
        }
    }
}
