import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy in front of the real server that can break the network on purpose.
///
/// It listens on a public address and forwards each accepted connection to the upstream
/// server. With no fault it is byte-transparent (half-close and backpressure included).
/// Faults take effect at once on every connection: `reject` and `timeout` (optionally scoped to
/// replication or query connections, by the connection tap's classification), a one-shot
/// `resetConnections`, and shaping (latency, jitter, bandwidth, each scoped the same way),
/// which combines with either.
///
/// Control calls are serialized: each one starts after the previous one finished.
public final class Gateway: Sendable {
    public let listenHost: String
    public let upstreamHost: String
    public let upstreamPort: Int
    private let requestedPort: Int
    private let group: any EventLoopGroup
    private let observer: (any GatewayObserver)?
    /// Set when the gateway terminates clients' TLS; `nil` relays TLS sessions blind.
    private let tls: TLSTermination?
    /// Where control operations are sequenced.
    private let controlLoop: any EventLoop
    private let state: Mutex<State>

    private enum Phase {
        case idle
        case running
        case stopped
    }

    private struct RelayHandle: Sendable {
        let eventLoop: any EventLoop
        let relay: NIOLoopBound<Relay>
        /// The client's "ip:port".
        let client: String
    }

    private struct State: ~Copyable {
        var phase = Phase.idle
        var listener: (any Channel)?
        /// The port actually bound, kept so that the listener reopens on the same port.
        var port: Int?
        var settings = FaultSettings()
        var relays: [UInt64: RelayHandle] = [:]
        var lastConnectionID: UInt64 = 0
        /// The tail of the chain of control operations.
        var lastOperation: EventLoopFuture<Void>
    }

    /// - Parameters:
    ///   - listenPort: the public port; 0 picks a free one (see `boundPort`), which is then
    ///     kept for reopening after `reject`.
    ///   - group: runs the listener and the connections; the gateway does not shut it down.
    public init(
        listenHost: String = "127.0.0.1",
        listenPort: Int,
        upstreamHost: String,
        upstreamPort: Int,
        group: any EventLoopGroup,
        observer: (any GatewayObserver)? = nil,
        tls: TLSTermination? = nil
    ) {
        self.listenHost = listenHost
        self.requestedPort = listenPort
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        self.group = group
        self.observer = observer
        self.tls = tls
        let controlLoop = group.next()
        self.controlLoop = controlLoop
        self.state = Mutex(State(lastOperation: controlLoop.makeSucceededVoidFuture()))
    }
}

// MARK: - Public API

extension Gateway {
    /// Opens the listener. Throws `GatewayError.addressInUse` when the port is taken.
    /// If `reject` (scope `.all`) was set before, the gateway starts without listening.
    public func start() async throws {
        try await serialized { [self] () -> EventLoopFuture<Void> in
            let (phase, closesListener) = state.withLock { ($0.phase, $0.settings.closesListener) }
            switch phase {
            case .running: return controlLoop.makeFailedFuture(GatewayError.alreadyStarted)
            case .stopped: return controlLoop.makeFailedFuture(GatewayError.stopped)
            case .idle: break
            }
            // Running before the first accept can happen.
            state.withLock { $0.phase = .running }
            guard !closesListener else { return controlLoop.makeSucceededVoidFuture() }
            return openListener(port: requestedPort).flatMapErrorThrowing { [self] error in
                state.withLock { $0.phase = .idle }
                throw error
            }
        }.get()
    }

    /// Closes the listener and every connection, and waits until they are closed.
    public func stop() async {
        try? await serialized { [self] () -> EventLoopFuture<Void> in
            let handles = state.withLock { state in
                state.phase = .stopped
                return Array(state.relays.values)
            }
            return closeListener().flatMap { [self] in
                let closed = handles.map { handle in
                    handle.eventLoop.flatSubmit {
                        handle.relay.value.shutDown()
                        return handle.relay.value.finishedFuture
                    }
                }
                return EventLoopFuture.andAllComplete(closed, on: controlLoop)
            }
        }.get()
    }

    /// Sets (or, with `nil`, clears) the connection fault. `reject` with scope `.all` closes
    /// the listener so the kernel refuses connects; clearing reopens it on the same port and
    /// lets frozen connections go on. Throws when the listener cannot be reopened.
    public func setConnectionFault(_ fault: ConnectionFault?, scope: ConnectionScope = .all) async throws {
        try await update { settings in
            settings.connectionFault = fault
            settings.scope = fault == nil ? .all : scope
        }
    }

    /// Resets (RST) the established connections in `scope` once; new ones are not affected.
    public func resetConnections(scope: ConnectionScope = .all) async {
        try? await serialized { [self] () -> EventLoopFuture<Void> in
            let handles = state.withLock { Array($0.relays.values) }
            let resets = handles.map { handle in
                handle.eventLoop.submit { handle.relay.value.reset(ifIn: scope) }
            }
            return EventLoopFuture.andAllComplete(resets, on: controlLoop)
        }.get()
    }

    /// The connection of the client at "ip:port", if it is open.
    public func connectionID(client: String) -> UInt64? {
        state.withLock { state in state.relays.first { $0.value.client == client }?.key }
    }

    /// The kernel reset the client at "ip:port" (a REJECT rule answered its packet with RST):
    /// closes the gateway's side too (the client socket with SO_LINGER 0, and the upstream), so
    /// that the connection ends as `fault(kernelReset)`. Returns its connection id, if open.
    @discardableResult
    public func clientWasReset(client: String) -> UInt64? {
        let found = state.withLock { state in state.relays.first { $0.value.client == client } }
        guard let (id, handle) = found else { return nil }
        handle.eventLoop.execute { handle.relay.value.lose(.kernelReset) }
        return id
    }

    /// Sets shaping for the connections in `scope`, and none for the others. `latency` (plus up to
    /// `jitter` more) delays every byte from the source on its way to the client, so a round trip
    /// costs that much more; `bandwidth` is bytes per second per direction per connection.
    /// All zero / `nil` switches shaping off.
    public func setShaping(
        latency: Duration = .zero, jitter: Duration = .zero, bandwidth: Int? = nil, scope: ConnectionScope = .all
    ) async {
        await setShaping([ScopedShaping(TrafficShaping(latency: latency, jitter: jitter, bytesPerSecond: bandwidth), scope: scope)])
    }

    /// Replaces all shaping: each rule shapes the connections of its scope (a connection in
    /// several scopes gets them added up). An empty list switches shaping off. A connection
    /// takes the shaping of its new scope as soon as its classification changes.
    public func setShaping(_ rules: [ScopedShaping]) async {
        let rules = rules.filter(\.shaping.isActive)
        try? await update { $0.shaping = rules }
    }

    /// Back to normal: no connection fault, no shaping, listener open on the same port.
    public func restore() async throws {
        try await update { settings in
            settings.connectionFault = nil
            settings.scope = .all
            settings.shaping = []
        }
    }

    /// Whether the listening socket is open.
    public var listening: Bool {
        state.withLock { $0.listener != nil }
    }

    /// The listen port: the one bound once started (useful with port 0), else the requested one.
    public var boundPort: Int {
        state.withLock { $0.port ?? requestedPort }
    }

    /// Connections accepted and not yet fully closed.
    public var connectionCount: Int {
        state.withLock { $0.relays.count }
    }

    public var status: GatewayStatus {
        state.withLock { state in
            GatewayStatus(
                listening: state.listener != nil,
                boundPort: state.port ?? requestedPort,
                connectionCount: state.relays.count,
                connectionFault: state.settings.connectionFault,
                scope: state.settings.scope,
                shaping: state.settings.shaping
            )
        }
    }
}

// MARK: - Settings

extension Gateway {
    /// Changes the settings, pushes them to every connection, then opens or closes the listener.
    private func update(_ change: @escaping @Sendable (inout FaultSettings) -> Void) async throws {
        try await serialized { [self] () -> EventLoopFuture<Void> in
            let (settings, handles, phase) = state.withLock { state in
                change(&state.settings)
                state.settings.generation += 1
                return (state.settings, Array(state.relays.values), state.phase)
            }
            guard phase == .running else { return controlLoop.makeSucceededVoidFuture() }
            if settings.closesListener {
                // Refuse first, so that nobody connects in between only to be reset.
                return closeListener().flatMap { [self] in push(settings, to: handles) }
            } else {
                return push(settings, to: handles).flatMap { [self] in openListenerIfClosed() }
            }
        }.get()
    }

    private func push(_ settings: FaultSettings, to handles: [RelayHandle]) -> EventLoopFuture<Void> {
        let applied = handles.map { handle in
            handle.eventLoop.submit { handle.relay.value.apply(settings) }
        }
        return EventLoopFuture.andAllComplete(applied, on: controlLoop)
    }

    /// Runs `operation` after every operation asked for before it has finished.
    private func serialized<T: Sendable>(
        _ operation: @escaping @Sendable () -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        let promise = controlLoop.makePromise(of: T.self)
        let previous = state.withLock { state in
            let previous = state.lastOperation
            state.lastOperation = promise.futureResult.map { _ in () }.recover { _ in () }
            return previous
        }
        previous.whenComplete { _ in operation().cascade(to: promise) }
        return promise.futureResult
    }
}

// MARK: - Listener

extension Gateway {
    private func openListener(port: Int) -> EventLoopFuture<Void> {
        let host = listenHost
        return ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try accept(channel) }
            }
            .bind(host: host, port: port)
            .flatMapErrorThrowing { error in
                throw GatewayError.listen(host: host, port: port, error: error)
            }
            .map { [self] listener in
                state.withLock { state in
                    state.listener = listener
                    state.port = listener.localAddress?.port ?? port
                }
            }
            .hop(to: controlLoop)
    }

    private func openListenerIfClosed() -> EventLoopFuture<Void> {
        let (isOpen, port) = state.withLock { ($0.listener != nil, $0.port ?? requestedPort) }
        return isOpen ? controlLoop.makeSucceededVoidFuture() : openListener(port: port)
    }

    /// Closing the listening socket makes the kernel refuse connects (and reset those waiting
    /// in the accept queue).
    private func closeListener() -> EventLoopFuture<Void> {
        let listener = state.withLock { state in
            defer { state.listener = nil }
            return state.listener
        }
        guard let listener else { return controlLoop.makeSucceededVoidFuture() }
        return listener.close().recover { _ in }.hop(to: controlLoop)
    }

    /// Runs in the accepted channel's initializer, on its event loop.
    private func accept(_ channel: any Channel) throws {
        let id = state.withLock { state in
            state.lastConnectionID += 1
            return state.lastConnectionID
        }
        let client = channel.remoteAddress.map(Self.describe) ?? "unknown"
        let tap = observer?.accepted(connectionID: id, client: client)
        let relay = Relay(
            id: id,
            eventLoop: channel.eventLoop,
            tap: tap,
            observer: observer,
            upstream: UpstreamAddress(host: upstreamHost, port: upstreamPort),
            tls: tls,
            onFinished: { [weak self] id in self?.connectionFinished(id) }
        )
        try channel.pipeline.syncOperations.addHandlers(relay.clientHandlers)
        let handle = RelayHandle(
            eventLoop: channel.eventLoop, relay: NIOLoopBound(relay, eventLoop: channel.eventLoop), client: client)
        let settings: FaultSettings? = state.withLock { state in
            guard state.phase == .running else { return nil }
            state.relays[id] = handle
            return state.settings
        }
        if let settings {
            relay.apply(settings)
        } else {
            relay.shutDown()
        }
    }

    private func connectionFinished(_ id: UInt64) {
        _ = state.withLock { $0.relays.removeValue(forKey: id) }
    }

    private static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        if case .v6 = address { return "[\(ip)]:\(port)" }
        return "\(ip):\(port)"
    }
}
