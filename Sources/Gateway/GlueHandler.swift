import NIOCore

/// Which socket of a proxied connection a handler sits on.
enum ConnectionSide: Sendable, Hashable, CustomStringConvertible {
    case client
    case server

    var description: String {
        switch self {
        case .client: "client"
        case .server: "server"
        }
    }
}

/// Told what happens on one glued side; the `Relay` decides what the faults make of it.
protocol GlueDelegate: AnyObject {
    func glueBecameActive(_ side: ConnectionSide)
    /// Bytes read on `side`, before they go to the partner. `false` drops them (the connection
    /// is being reset). The delegate may hold or reset the pair from here.
    func glue(_ side: ConnectionSide, read bytes: ByteBuffer) -> Bool
    /// Bytes about to be written to `side`'s channel (after any hold or delay).
    func glue(_ side: ConnectionSide, willWrite bytes: ByteBuffer)
    func glueInputClosed(_ side: ConnectionSide)
    func glueBecameInactive(_ side: ConnectionSide)
    func glueCaught(_ side: ConnectionSide, error: any Error)
}

/// Joins two channels byte for byte, as in swift-nio-examples' connect-proxy `GlueHandler`:
/// reads on one side only while the partner side can take more (backpressure), passes a
/// half-close on as a half-close, and closes the partner when its own channel goes away.
///
/// On top of that it can
/// - shape what it writes (a `TrafficShaper` gives every chunk a release time),
/// - hold: read nothing and write nothing until released, keeping everything queued.
///
/// Both handlers of a pair run on the same event loop, so no locking is needed.
/// Writes go straight to the channel while nothing is queued, shaped or held; otherwise they
/// go through an `OutboundQueue` that is drained when items become due.
final class GlueHandler {
    /// Above this many queued bytes the partner stops reading.
    static let queueLimit = 4 * 1024 * 1024

    let side: ConnectionSide
    private weak var partner: GlueHandler?
    weak var delegate: (any GlueDelegate)?

    private var context: ChannelHandlerContext?
    private var isActive = false
    private var pendingRead = false
    private var isHeld = false
    private var needsFlush = false
    /// An end-of-stream has been queued or done: no more bytes are accepted.
    private var endOfStreamQueued = false
    /// A close has been queued or done: nothing more happens on this side's output.
    private var closeQueued = false
    private var outputEnded: Bool { endOfStreamQueued || closeQueued }

    private var outbound = OutboundQueue()
    private var shaper: TrafficShaper?
    private var random = SystemRandomNumberGenerator()
    private var releaseTimer: Scheduled<Void>?
    private var releaseTimerDeadline: NIODeadline?
    /// Called just before this side's socket is closed, while it can still be asked about.
    var beforeClose: (() -> Void)?
    /// Asked before a graceful close or output shutdown, with the close to carry out when it may
    /// go ahead (after the peer acknowledged what was written, say). Nil closes at once.
    var gracefulCloseGate: ((@escaping () -> Void) -> Void)?

    private init(side: ConnectionSide) {
        self.side = side
    }

    /// A client-side and a server-side handler, each the other's partner.
    static func matchedPair() -> (client: GlueHandler, server: GlueHandler) {
        let client = GlueHandler(side: .client)
        let server = GlueHandler(side: .server)
        client.partner = server
        server.partner = client
        return (client, server)
    }

    /// Bytes waiting in the queue (not yet handed to the channel).
    var queuedBytes: Int { outbound.byteCount }

    /// This side's socket, to read its options; nil once it is gone.
    var socketOptions: (any SocketOptionProvider)? {
        context?.channel as? any SocketOptionProvider
    }

    /// Tells `beforeClose`, once.
    private func willClose() {
        let callback = beforeClose
        beforeClose = nil
        callback?()
    }
}

// MARK: - Commands from the relay

extension GlueHandler {
    /// Stop reading and writing; keep everything.
    func hold() {
        isHeld = true
    }

    /// Undo `hold`: write what is due, read again if the partner can take it.
    func release() {
        guard isHeld else { return }
        isHeld = false
        drain()
        resumeReadingIfPossible()
    }

    /// New shaping for what this side writes; `nil` switches shaping off and lets everything
    /// queued go now. Chunks already queued keep their release times otherwise.
    func setShaping(_ shaping: DirectionShaping?) {
        let now = context?.eventLoop.now ?? .now()
        if let shaping {
            let last = max(shaper?.lastRelease ?? now, outbound.lastRelease ?? now)
            shaper = TrafficShaper(shaping, now: now, lastRelease: last)
        } else {
            shaper = nil
            outbound.releaseAll(now: now)
            drain()
        }
    }

    /// Close the socket with a TCP RST (SO_LINGER {1, 0}), discarding anything unwritten. The close
    /// starts at the head of the pipeline: through a TLS handler it would send a close_notify
    /// first, and a client that reads a clean TLS close sees an orderly end (Debezium's binlog
    /// client then waits a minute for its keepalive), not the reset a firewall sends.
    func resetConnection() {
        willClose()
        closeQueued = true
        outbound.removeAll()
        cancelReleaseTimer()
        guard let context else { return }
        let channel = context.channel
        let closer = SocketCloser()
        do {
            try channel.pipeline.syncOperations.addHandler(closer, position: .first)
        } catch {
            context.close(promise: nil)
            return
        }
        if let options = channel as? any SocketOptionProvider {
            let bound = NIOLoopBound(closer, eventLoop: channel.eventLoop)
            options.setSoLinger(NIOLinger(l_onoff: 1, l_linger: 0)).whenComplete { _ in bound.value.close() }
        } else {
            closer.close()
        }
    }

    /// Close the socket now, discarding anything unwritten.
    func closeNow() {
        willClose()
        closeQueued = true
        outbound.removeAll()
        cancelReleaseTimer()
        context?.close(promise: nil)
    }
}

// MARK: - Called by the partner

extension GlueHandler {
    private func partnerWrite(_ buffer: ByteBuffer) {
        guard !outputEnded else { return }
        if shaper == nil, outbound.isEmpty, !isHeld, isActive, let context {
            delegate?.glue(side, willWrite: buffer)
            context.write(NIOAny(buffer), promise: nil)
            needsFlush = true
            return
        }
        let now = context?.eventLoop.now ?? .now()
        if var shaper {
            var chunk = buffer
            for piece in shaper.schedule(byteCount: buffer.readableBytes, arrivedAt: now, using: &random) {
                outbound.append(.bytes(chunk.readSlice(length: piece.length)!), releaseAt: piece.releaseAt)
            }
            self.shaper = shaper
        } else {
            outbound.append(.bytes(buffer), releaseAt: max(now, outbound.lastRelease ?? now))
        }
        drain()
    }

    private func partnerFlush() {
        guard needsFlush, let context else { return }
        needsFlush = false
        context.flush()
    }

    /// The partner's input ended: end our output after everything queued.
    private func partnerWriteEOF() {
        guard !outputEnded else { return }
        endOfStreamQueued = true
        appendEnd(.endOfStream)
    }

    /// The partner's channel is gone: close ours after everything queued.
    private func partnerCloseFull() {
        guard !closeQueued else { return }
        closeQueued = true
        appendEnd(.close)
    }

    private func partnerBecameWritable() {
        resumeReadingIfPossible()
    }

    /// Whether the partner may read more for us to write.
    private var partnerWritable: Bool {
        guard isActive, !outputEnded, let context else { return false }
        return context.channel.isWritable && outbound.byteCount < Self.queueLimit
    }
}

// MARK: - Queue

extension GlueHandler {
    private func appendEnd(_ item: OutboundQueue.Item) {
        let now = context?.eventLoop.now ?? .now()
        let releaseAt: NIODeadline
        if var shaper {
            releaseAt = shaper.scheduleMarker(arrivedAt: now, using: &random)
            self.shaper = shaper
        } else {
            releaseAt = max(now, outbound.lastRelease ?? now)
        }
        outbound.append(item, releaseAt: releaseAt)
        drain()
    }

    /// Writes every due item, then arms a timer for the next one.
    private func drain() {
        guard isActive, !isHeld, let context else { return }
        let now = context.eventLoop.now
        var wrote = false
        while let item = outbound.popDue(now: now) {
            switch item {
            case .bytes(let buffer):
                delegate?.glue(side, willWrite: buffer)
                context.write(NIOAny(buffer), promise: nil)
                wrote = true
            case .endOfStream:
                closeAfterPendingWrites(context, mode: .output)
            case .close:
                closeAfterPendingWrites(context, mode: .all)
            }
        }
        if wrote || needsFlush {
            needsFlush = false
            context.flush()
        }
        armReleaseTimer()
        if outbound.byteCount < Self.queueLimit {
            partner?.partnerBecameWritable()
        }
    }

    /// NIO turns an output shutdown on a channel whose input is already closed into a full
    /// close that drops unwritten data, so wait for the last write before shutting.
    private func closeAfterPendingWrites(_ context: ChannelHandlerContext, mode: CloseMode) {
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        let channel = context.channel
        promise.futureResult.assumeIsolated().whenComplete { [weak self] _ in
            guard let self else { return channel.close(mode: mode, promise: nil) }
            let close = { [weak self] in
                if mode == .all { self?.willClose() }
                channel.close(mode: mode, promise: nil)
            }
            if let gate = self.gracefulCloseGate { gate(close) } else { close() }
        }
    }

    private func armReleaseTimer() {
        guard let next = outbound.nextRelease, let context else { return }
        if let armed = releaseTimerDeadline, armed <= next { return }
        releaseTimer?.cancel()
        releaseTimerDeadline = next
        releaseTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: next) { [weak self] in
            guard let self else { return }
            self.releaseTimer = nil
            self.releaseTimerDeadline = nil
            self.drain()
        }
    }

    private func cancelReleaseTimer() {
        releaseTimer?.cancel()
        releaseTimer = nil
        releaseTimerDeadline = nil
    }

    private func resumeReadingIfPossible() {
        guard pendingRead, !isHeld, let partner, partner.partnerWritable, let context else { return }
        pendingRead = false
        context.read()
    }
}

// MARK: - ChannelDuplexHandler

extension GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive {
            isActive = true
            drain()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelReleaseTimer()
        self.context = nil
        isActive = false
    }

    func channelActive(context: ChannelHandlerContext) {
        isActive = true
        drain()
        partner?.partnerBecameWritable()
        delegate?.glueBecameActive(side)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let delegate, !delegate.glue(side, read: buffer) { return }
        partner?.partnerWrite(buffer)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.partnerFlush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            // The peer is done: what it acknowledged from here on it will not read.
            willClose()
            delegate?.glueInputClosed(side)
            partner?.partnerWriteEOF()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        willClose()
        isActive = false
        closeQueued = true
        outbound.removeAll()
        cancelReleaseTimer()
        partner?.partnerCloseFull()
        delegate?.glueBecameInactive(side)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        delegate?.glueCaught(side, error: error)
        willClose()
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            partner?.partnerBecameWritable()
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if !isHeld, let partner, partner.partnerWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }
}

/// First in a pipeline: a close from here reaches the socket without passing the handlers behind
/// it (a TLS handler's close_notify).
private final class SocketCloser: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func close() { context?.close(promise: nil) }
}
