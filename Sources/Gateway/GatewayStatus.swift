/// What the gateway is doing now.
public struct GatewayStatus: Sendable, Hashable {
    /// Whether the listening socket is open (false before `start()`, under `reject` with scope
    /// `.all`, and after `stop()`).
    public var listening: Bool
    public var boundPort: Int
    public var connectionCount: Int
    public var connectionFault: ConnectionFault?
    public var scope: ConnectionScope
    public var shaping: [ScopedShaping]

    public init(
        listening: Bool,
        boundPort: Int,
        connectionCount: Int,
        connectionFault: ConnectionFault? = nil,
        scope: ConnectionScope = .all,
        shaping: [ScopedShaping] = []
    ) {
        self.listening = listening
        self.boundPort = boundPort
        self.connectionCount = connectionCount
        self.connectionFault = connectionFault
        self.scope = scope
        self.shaping = shaping
    }
}
