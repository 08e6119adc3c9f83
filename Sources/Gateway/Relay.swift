import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Host and port of the real server.
struct UpstreamAddress: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    var description: String { "\(host):\(port)" }
}

/// One proxied connection: the client channel, the upstream channel once connected, the
/// `GlueHandler` pair between them, and the connection's tap.
///
/// Lives on the client channel's event loop (the upstream channel is put on the same loop).
/// It turns the gateway's `FaultSettings` and the tap's classification into a
/// `ConnectionAction` and has the glue handlers execute it.
final class Relay {
    private enum UpstreamState {
        /// Not asked for yet: the connection was accepted while held.
        case idle
        case connecting
        case connected
        case failed
    }

    let id: UInt64
    private let eventLoop: any EventLoop
    private let clientGlue: GlueHandler
    private let serverGlue: GlueHandler
    private let tap: (any ConnectionTap)?
    private let observer: (any GatewayObserver)?
    private let upstream: UpstreamAddress
    private let onFinished: (UInt64) -> Void
    /// Set when the gateway terminates TLS; then the negotiators sit in front of the glue.
    private let tls: TLSTermination?
    private let clientNegotiator: ClientTLSNegotiator?
    private let upstreamNegotiator: UpstreamTLSNegotiator?
    private var serverOffersTLS = false

    private var settings = FaultSettings()
    private var upstreamState = UpstreamState.idle
    private var isHeld = false
    /// Nothing is done to the connection before the client channel is active: a close before
    /// that would never be reported back as inactive.
    private var clientActive = false
    private var clientClosed = false
    private var serverClosed = false
    private var isClosing = false
    private var isFinished = false
    /// The shaping the glue handlers apply, for this connection's current classification.
    private var shaping = TrafficShaping.none
    private var closeCause: CloseCause?
    /// When `closeCause` came.
    private var closeCausedAt: Date?
    private let finished: EventLoopPromise<Void>
    /// What the client's TCP acknowledged of the bytes written to it, for the tap.
    private let delivery: ClientDelivery

    init(
        id: UInt64,
        eventLoop: any EventLoop,
        tap: (any ConnectionTap)?,
        observer: (any GatewayObserver)?,
        upstream: UpstreamAddress,
        tls: TLSTermination? = nil,
        onFinished: @escaping (UInt64) -> Void
    ) {
        self.id = id
        self.eventLoop = eventLoop
        self.tap = tap
        self.observer = observer
        self.upstream = upstream
        self.onFinished = onFinished
        self.finished = eventLoop.makePromise()
        self.tls = tls
        (clientGlue, serverGlue) = GlueHandler.matchedPair()
        let delivery = ClientDelivery(glue: clientGlue, eventLoop: eventLoop)
        self.delivery = delivery
        clientGlue.beforeClose = { delivery.socketClosing() }
        // What the client received is read at the close: a client still reading gets what was written
        // to it first (up to a minute), one that stopped is given a second to acknowledge the last bytes.
        clientGlue.gracefulCloseGate = { close in delivery.whenAllAcknowledged(stall: .seconds(1), within: .seconds(60), close) }
        clientNegotiator = tls.map { _ in ClientTLSNegotiator() }
        upstreamNegotiator = tls.map { _ in UpstreamTLSNegotiator() }
        clientGlue.delegate = self
        serverGlue.delegate = self
        clientNegotiator?.delegate = self
        upstreamNegotiator?.delegate = self
    }

    /// The handlers to put in the accepted channel's pipeline, in order.
    var clientHandlers: [any ChannelHandler] {
        if let clientNegotiator { [SocketByteCounter(delivery), clientNegotiator, clientGlue] } else { [clientGlue] }
    }

    /// Completes once both sockets are closed and the tap has been told.
    var finishedFuture: EventLoopFuture<Void> { finished.futureResult }

    var isReplication: Bool { tap?.isReplication ?? false }
}

// MARK: - Commands from the gateway

extension Relay {
    /// Applies a settings snapshot unless a newer one was applied already.
    func apply(_ newSettings: FaultSettings) {
        eventLoop.preconditionInEventLoop()
        guard !isClosing, newSettings.generation >= settings.generation else { return }
        settings = newSettings
        enforce()
    }

    /// One-shot reset of this connection if it is in `scope`.
    func reset(ifIn scope: ConnectionScope) {
        guard clientActive, !isClosing, scope.includes(isReplication: isReplication) else { return }
        reset(.reset)
    }

    /// Closes both sides of a connection the client already lost (`kind` says how).
    func lose(_ kind: FaultKind) {
        guard !isClosing else { return }
        reset(kind)
    }

    /// Closes both sides (the gateway is stopping).
    func shutDown() {
        guard !isClosing else { return }
        record(.error("gateway stopped"))
        isClosing = true
        if clientActive { clientGlue.closeNow() }
        serverGlue.closeNow()
        finishIfDone()
    }

    /// Does what the current settings ask of this connection now, for its current
    /// classification (which changes when a client asks for a binlog dump).
    private func enforce() {
        guard clientActive, !isClosing else { return }
        let wanted = settings.shaping.shaping(isReplication: isReplication)
        if wanted != shaping {
            shaping = wanted
            // Each glue shapes what it writes: the client's glue writes the source's bytes.
            clientGlue.setShaping(wanted.towardsClient)
            serverGlue.setShaping(wanted.towardsServer)
        }
        switch settings.action(isReplication: isReplication) {
        case .reset:
            reset(.reject)
        case .hold:
            if !isHeld {
                isHeld = true
                clientGlue.hold()
                serverGlue.hold()
            }
        case .forward:
            if isHeld {
                isHeld = false
                clientGlue.release()
                serverGlue.release()
            }
            if upstreamState == .idle {
                connectUpstream()
            }
        }
    }

    private func reset(_ kind: FaultKind) {
        record(.fault(kind))
        isClosing = true
        clientGlue.resetConnection()
        serverGlue.closeNow()
        finishIfDone()
    }
}

// MARK: - Upstream

extension Relay {
    private func connectUpstream() {
        upstreamState = .connecting
        let handlers: [any ChannelHandler] = if let upstreamNegotiator { [upstreamNegotiator, serverGlue] } else { [serverGlue] }
        let handler = NIOLoopBound(handlers, eventLoop: eventLoop)
        ClientBootstrap(group: eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(handler.value)
                }
            }
            .connect(host: upstream.host, port: upstream.port)
            .assumeIsolated()
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    upstreamState = .connected
                    if isClosing || clientClosed {
                        channel.close(promise: nil)
                    }
                case .failure(let error):
                    upstreamState = .failed
                    let message = "connect to upstream \(upstream) failed: \(Self.describe(error))"
                    observer?.upstreamFailed(connectionID: id, error: message)
                    record(.error(message))
                    isClosing = true
                    clientGlue.closeNow()
                    finishIfDone()
                }
            }
    }
}

extension Relay {
    /// NIO wraps connect errors; the first underlying one says what happened.
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return "\(first.error)"
        }
        return "\(error)"
    }
}

// MARK: - Closing

extension Relay {
    private func record(_ cause: CloseCause) {
        guard closeCause == nil else { return }
        closeCause = cause
        closeCausedAt = Date()
    }

    private func finishIfDone() {
        guard !isFinished, clientClosed else { return }
        switch upstreamState {
        case .connecting: return
        case .connected: guard serverClosed else { return }
        case .idle, .failed: break
        }
        isFinished = true
        tap?.closed(by: closeCause ?? .client, at: closeCausedAt ?? Date())
        onFinished(id)
        finished.succeed(())
    }
}

// MARK: - TLS termination

extension Relay: TLSUpgradeDelegate {
    func serverGreeting(offersTLS: Bool) {
        serverOffersTLS = offersTLS
    }

    /// Terminates the client's TLS when the server offered TLS (so the gateway can talk TLS to
    /// it too, with the same sequence ids and capability flags on both sides). The tap learns
    /// it before it sees the SSLRequest.
    func clientAskedForTLS() -> NIOSSLContext? {
        guard let tls, serverOffersTLS, let upstreamNegotiator else { return nil }
        tap?.tlsTerminated()
        delivery.tlsTerminated()
        upstreamNegotiator.startTLS(afterNext: HandshakeSniffer.sslRequestPacketLength, context: tls.serverSide)
        return tls.clientSide
    }
}

// MARK: - GlueDelegate

extension Relay: GlueDelegate {
    func glueBecameActive(_ side: ConnectionSide) {
        guard side == .client else { return }
        clientActive = true
        tap?.delivering(to: delivery)
        if isClosing {
            clientGlue.closeNow()
        } else {
            enforce()
        }
    }

    /// The client's bytes are tapped as they are read, so that a change of classification is
    /// acted on before they are forwarded.
    func glue(_ side: ConnectionSide, read bytes: ByteBuffer) -> Bool {
        guard !isClosing else { return false }
        guard side == .client, let tap else { return true }
        bytes.withUnsafeReadableBytes { tap.clientToServer($0) }
        enforce()
        return !isClosing
    }

    /// The server's bytes are tapped as they are written to the client, after any hold or
    /// delay: what the tap sees is what the client was sent.
    func glue(_ side: ConnectionSide, willWrite bytes: ByteBuffer) {
        guard side == .client, let tap else { return }
        delivery.wrotePlaintext(bytes.readableBytes)
        bytes.withUnsafeReadableBytes { tap.serverToClient($0) }
    }

    func glueInputClosed(_ side: ConnectionSide) {
        record(side == .client ? .client : .server)
    }

    func glueBecameInactive(_ side: ConnectionSide) {
        switch side {
        case .client:
            record(.client)
            // The server side closes once what is queued for it is written (after a hold too).
            clientClosed = true
        case .server:
            record(.server)
            serverClosed = true
        }
        finishIfDone()
    }

    func glueCaught(_ side: ConnectionSide, error: any Error) {
        // A TLS peer that closes its socket without close_notify (as the mariadb client does
        // after COM_QUIT) closed the connection, as a plain one would have.
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            record(side == .client ? .client : .server)
            return
        }
        record(.error("\(side): \(error)"))
    }
}
