import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// How many of the bytes a connection's tap saw going to the client (`serverToClient`) the
/// client's TCP has acknowledged: what it *received*, as opposed to what the gateway wrote into
/// its socket. Read on demand, not per chunk: one `getsockopt(TCP_INFO)` per question.
///
/// On a TLS-terminated connection the client acknowledges records, not plaintext: the gateway
/// notes, at every flush to the socket, how many bytes went to the socket and how much plaintext
/// had been written by then (NIOSSL encrypts everything written before a flush), so that
/// acknowledged socket bytes map back to plaintext conservatively.
///
/// Used on the connection's event loop only. Once the client socket is closing, the answer is
/// the last one read before it closed.
public final class ClientDelivery {
    /// What the client's TCP acknowledged, or why it cannot be known.
    public enum Acknowledged: Sendable, Hashable {
        /// Bytes acknowledged, counted like the tap's `serverToClient` bytes, from the first.
        case bytes(UInt64)
        case unknown(String)
    }

    /// Runs this connection's work, e.g. a question asked from another thread.
    public let eventLoop: any EventLoop
    private weak var glue: GlueHandler?
    private var lastAcknowledged: UInt64?
    private var watches: [(bytes: UInt64, callback: (Acknowledged) -> Void)] = []
    private var watchTimer: Scheduled<Void>?

    /// Set once the gateway terminates this connection's TLS.
    private var mapsRecords = false
    /// Bytes written towards the client (as the tap counts them: plaintext under TLS).
    private var plaintextWritten: UInt64 = 0
    /// Bytes written to the client's socket (records, and what went before TLS).
    private var socketWritten: UInt64 = 0
    /// (socket bytes, plaintext bytes) at each flush to the socket that carried new plaintext, not
    /// yet known to be acknowledged; from `checkpointHead` on.
    private var checkpoints: [(socket: UInt64, plaintext: UInt64)] = []
    private var checkpointHead = 0
    /// Plaintext known to be acknowledged so far.
    private var plaintextAcknowledged: UInt64 = 0
    private var lastCheckpointPlaintext: UInt64 = 0
    /// Beyond this many checkpoints the oldest half is forgotten: an answer among them takes the
    /// last one forgotten, which errs on the side of less received.
    static let checkpointLimit = 1 << 16

    /// How often a `whenAcknowledged` watch reads the socket.
    static let watchInterval = TimeAmount.milliseconds(10)

    init(glue: GlueHandler, eventLoop: any EventLoop) {
        self.glue = glue
        self.eventLoop = eventLoop
    }

    /// The gateway terminates this connection's TLS from here on.
    func tlsTerminated() {
        mapsRecords = true
        // What went before TLS (the greeting) is its own plaintext.
        checkpoints.append((socketWritten, plaintextWritten))
        lastCheckpointPlaintext = plaintextWritten
    }

    /// Bytes about to be written towards the client (plaintext under TLS), as the tap sees them.
    func wrotePlaintext(_ count: Int) {
        plaintextWritten += UInt64(count)
    }

    /// Bytes about to be written to the client's socket.
    func wroteToSocket(_ count: Int) {
        socketWritten += UInt64(count)
    }

    /// The socket is being flushed: everything written before holds the plaintext so far. Only a
    /// TLS-terminated connection needs the mapping (before TLS, and on a plain connection, socket
    /// bytes are the plaintext, `tlsTerminated` notes where they end): nothing is kept for the
    /// others, whose every answer is flushed here.
    func flushingSocket() {
        guard mapsRecords, plaintextWritten != lastCheckpointPlaintext else { return }
        lastCheckpointPlaintext = plaintextWritten
        if checkpoints.count - checkpointHead >= Self.checkpointLimit {
            checkpointHead += Self.checkpointLimit / 2
        }
        checkpoints.append((socketWritten, plaintextWritten))
        if checkpointHead > 1024, checkpointHead * 2 > checkpoints.count {
            checkpoints.removeFirst(checkpointHead)
            checkpointHead = 0
        }
    }

    /// The socket is about to close: keep its last count, answer the watches it satisfies, and
    /// drop the others (what is not acknowledged now never will be).
    func socketClosing() {
        checkWatches(closing: true)
    }

    /// Plaintext bytes the client's TCP acknowledged so far.
    public func acknowledged() -> Acknowledged {
        eventLoop.preconditionInEventLoop()
        if let bytes = glue?.acknowledgedBytes() { lastAcknowledged = mapsRecords ? plaintext(acknowledging: bytes) : bytes }
        guard let lastAcknowledged else { return .unknown("the client socket does not report acknowledged bytes (TCP_INFO)") }
        return .bytes(lastAcknowledged)
    }

    /// The plaintext carried by the first `socketBytes` bytes written to the socket.
    private func plaintext(acknowledging socketBytes: UInt64) -> UInt64 {
        while checkpointHead < checkpoints.count, checkpoints[checkpointHead].socket <= socketBytes {
            plaintextAcknowledged = checkpoints[checkpointHead].plaintext
            checkpointHead += 1
        }
        return plaintextAcknowledged
    }

    /// Calls `callback` on the event loop once the client acknowledged `bytes` (with the count it
    /// then acknowledged), or with `.unknown` when that cannot be read; never when the connection
    /// closes first. Reads the socket every 10 ms while a watch is open.
    public func whenAcknowledged(_ bytes: UInt64, _ callback: @escaping (Acknowledged) -> Void) {
        eventLoop.preconditionInEventLoop()
        watches.append((bytes, callback))
        checkWatches(closing: false)
    }

    /// Calls `done` once the client acknowledged everything written so far; or once it acknowledged
    /// nothing more for `stall` (it stopped reading, or its acknowledgement of the last bytes is
    /// all that is missing), or after `limit` in all; or at once when that cannot be read. A slow
    /// reader gets what the server sent before its close, and what it received is then known.
    func whenAllAcknowledged(stall: TimeAmount, within limit: TimeAmount, _ done: @escaping () -> Void) {
        let deadline = NIODeadline.now() + limit
        let written = plaintextWritten
        var last: UInt64?
        var lastProgress = NIODeadline.now()
        func check() {
            let now = NIODeadline.now()
            guard case .bytes(let acknowledged) = acknowledged(), acknowledged < written, now < deadline else {
                return done()
            }
            if last != acknowledged {
                last = acknowledged
                lastProgress = now
            } else if now - lastProgress >= stall {
                return done()
            }
            eventLoop.assumeIsolated().scheduleTask(in: Self.watchInterval) { check() }
        }
        check()
    }

    private func checkWatches(closing: Bool) {
        watchTimer?.cancel()
        watchTimer = nil
        let now = acknowledged()
        guard !watches.isEmpty else { return }
        var due = watches
        switch now {
        case .bytes(let acknowledged):
            due = watches.filter { $0.bytes <= acknowledged }
            watches.removeAll { $0.bytes <= acknowledged }
        case .unknown:
            watches = []
        }
        if closing || glue == nil { watches = [] }
        for watch in due { watch.callback(now) }
        guard !watches.isEmpty else { return }
        watchTimer = eventLoop.assumeIsolated().scheduleTask(in: Self.watchInterval) { [weak self] in
            self?.checkWatches(closing: false)
        }
    }
}

extension GlueHandler {
    /// `tcpi_bytes_acked` of this side's socket (Linux 4.1+): bytes written that the peer
    /// acknowledged. Nil without a socket or on a kernel that does not report it.
    func acknowledgedBytes() -> UInt64? {
        #if os(Linux)
        guard let channel = socketOptions else { return nil }
        var answer: UInt64?
        channel.unsafeGetSocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: CInt(TCP_INFO)))
            .assumeIsolated()
            .whenSuccess { (info: TCPInfoBytes) in answer = info.bytesAcked }
        return answer
        #else
        return nil
        #endif
    }
}

/// The leading bytes of Linux's `struct tcp_info`, as far as `tcpi_bytes_acked` and a little
/// beyond (Glibc's header stops before it). The kernel fills what it has and zeroes nothing else.
struct TCPInfoBytes: Sendable {
    /// 20 × 8 = 160 bytes; `tcpi_bytes_acked` is the u64 at offset 120.
    var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    var bytesAcked: UInt64? {
        // A kernel without the field copies less than 128 bytes and leaves it zero-initialised by NIO;
        // a connection with nothing acknowledged reads 0 too, which is then right.
        withUnsafeBytes(of: words) { $0.load(fromByteOffset: 120, as: UInt64.self) }
    }
}

/// First in a TLS-terminated client channel's pipeline: counts the bytes going to the socket,
/// tells `ClientDelivery` when they are flushed, and lets it read the socket one last time
/// before any close (NIOSSL closes the channel itself on the client's close_notify or EOF).
final class SocketByteCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let delivery: ClientDelivery

    init(_ delivery: ClientDelivery) {
        self.delivery = delivery
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        delivery.wroteToSocket(unwrapOutboundIn(data).readableBytes)
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        delivery.flushingSocket()
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode != .input { delivery.socketClosing() }
        context.close(mode: mode, promise: promise)
    }
}
