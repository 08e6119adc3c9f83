import AgentAPI
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The agent's control API: HTTP/1.1, one JSON request per connection, on a Unix socket only the
/// agent's account can reach (peer credentials checked again on accept), or on TCP when asked for,
/// then with a bearer token. Every input is bounded: body size (413), idle and total time before
/// the request is complete, and the number of connections at once, so that a flood of control
/// connections never takes the descriptors the gateway needs.
/// On TCP, a connection that has not yet shown the token holds one of a few pending places (the
/// oldest pending one gives way to a newcomer, so no one keeps them by connecting slowly) and must
/// send its request head within a short time; only then does it take one of the slots, so a flood
/// of unauthenticated connections never starves the owner's. The Unix socket is served apart.
/// Routing is a closure so that this file knows HTTP and nothing of faults.
struct ControlServer: Sendable {
    /// Method and request target (path and query) as the client sent them, the body, and who sent it.
    typealias Route = @Sendable (_ method: String, _ target: String, _ body: Data, _ peer: Peer) async -> Answer

    /// Who sent a request: a process on the control socket (its pid from the kernel), or an address over TCP.
    enum Peer: Sendable, Hashable, CustomStringConvertible {
        case process(Int32)
        case address(String)
        case unknown

        var description: String {
            switch self {
            case .process(let pid): "pid \(pid)"
            case .address(let address): address
            case .unknown: "unknown"
            }
        }
    }

    /// What the route answers: a status, a JSON body, and any headers beyond the content's.
    struct Answer: Sendable {
        var status: Int
        var body: Data
        var headers: [(String, String)] = []
    }
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    enum Listener: Sendable, CustomStringConvertible {
        case unix(path: String)
        case tcp(host: String, port: Int, token: String)

        var description: String {
            switch self {
            case .unix(let path): path
            case .tcp(let host, let port, _): "tcp:\(host):\(port)"
            }
        }
    }

    struct Limits: Sendable {
        var maxBodyBytes = 64 * 1024
        /// A connection that sends nothing for this long before its request is complete is closed.
        var idleTimeout: TimeAmount = .seconds(5)
        /// The whole request must arrive within this (a byte every few seconds does not keep it open).
        var requestDeadline: TimeAmount = .seconds(20)
        var maxConnections = 64
        /// TCP only: connections that have not sent their request head (and token) yet, in all and
        /// from one address; beyond either, the oldest such connection is closed.
        var maxPending = 16
        var maxPendingPerAddress = 8
        /// TCP only: an unauthenticated connection must send its request head within this.
        var headDeadline: TimeAmount = .seconds(2)
        /// After refusing a body, how much more of it we read (so the client sees our answer) before closing.
        var maxDrainBytes = 8 * 1024 * 1024
    }

    let listener: Listener
    let group: any EventLoopGroup
    var limits = Limits()
    let route: Route
    let log = AgentLog.logger("agent.control")
    /// Connections that may send requests: on the Unix socket every admitted one, on TCP those that showed the token.
    private let slots: ConnectionSlots
    private let pending: PendingConnections

    init(listener: Listener, group: any EventLoopGroup, limits: Limits = Limits(), route: @escaping Route) {
        self.listener = listener
        self.group = group
        self.limits = limits
        self.route = route
        slots = ConnectionSlots(limit: limits.maxConnections)
        pending = PendingConnections(limit: limits.maxPending, perAddress: limits.maxPendingPerAddress)
    }

    /// Binds, then serves until the task is cancelled.
    func bind() async throws -> NIOAsyncChannel<Connection, Never> {
        let slots = self.slots, pending = self.pending
        let limits = self.limits
        let allowed: Set<uid_t> = [geteuid(), 0]
        let isUnix = if case .unix = listener { true } else { false }
        let log = self.log
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 128)
        let initializer: @Sendable (Channel) -> EventLoopFuture<Connection> = { channel in
            let admitted: EventLoopFuture<Void>
            if isUnix {
                guard slots.acquire() else {
                    // Refused at once: its descriptor goes back before the next accept.
                    log.warning("refused a control connection", metadata: ["error": "\(ControlRefusal.tooManyConnections)"])
                    channel.close(promise: nil)
                    return channel.eventLoop.makeFailedFuture(ControlRefusal.tooManyConnections)
                }
                channel.closeFuture.whenComplete { _ in slots.release() }
                admitted = Self.checkPeer(channel, allowed: allowed)
            } else {
                pending.admit(channel)
                channel.closeFuture.whenComplete { _ in pending.remove(channel) }
                channel.eventLoop.scheduleTask(in: limits.headDeadline) {
                    if pending.contains(channel) { channel.close(promise: nil) }
                }
                admitted = channel.eventLoop.makeSucceededVoidFuture()
            }
            return admitted.flatMapThrowing {
                let deadline = channel.eventLoop.scheduleTask(in: limits.requestDeadline) { channel.close(promise: nil) }
                try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: limits.idleTimeout))
                try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                try channel.pipeline.syncOperations.addHandler(RequestTimer(deadline: deadline))
                return try Connection(wrappingChannelSynchronously: channel)
            }.flatMapErrorThrowing { error in
                log.warning("refused a control connection", metadata: ["error": "\(error)"])
                channel.close(promise: nil)
                throw error
            }
        }
        switch listener {
        case .unix(let path):
            return try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true,
                                            childChannelInitializer: initializer)
        case .tcp(let host, let port, _):
            return try await bootstrap.bind(host: host, port: port, childChannelInitializer: initializer)
        }
    }

    /// Second line behind the socket's directory: the connecting process runs as us or as root.
    private static func checkPeer(_ channel: Channel, allowed: Set<uid_t>) -> EventLoopFuture<Void> {
        guard let provider = channel as? SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ControlRefusal.peerUnknown)
        }
        let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.flatMapThrowing { peer in
            guard allowed.contains(peer.uid) else { throw ControlRefusal.peerNotAllowed(peer.uid) }
        }
    }

    func serve(_ server: NIOAsyncChannel<Connection, Never>) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask {
                        do { try await handle(connection) } catch {
                            log.notice("a control connection failed", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
        }
    }

    private func handle(_ connection: Connection) async throws {
        try await connection.executeThenClose { inbound, _ in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            /// Set once we answered before the request was complete; the rest of it is read and dropped.
            var answeredEarly = false
            var drained = 0
            func answer(_ status: Int, _ payload: Data, extra: [(String, String)] = []) async throws {
                var headers = HTTPHeaders(extra)
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: String(payload.count))
                headers.add(name: "Connection", value: "close")
                // Written and flushed before the connection closes: a close drops writes still
                // queued, which cut answers larger than the socket's buffer short.
                let channel = connection.channel
                channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: status), headers: headers)), promise: nil)
                channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: payload))), promise: nil)
                try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
            }
            func refuse(_ status: Int, _ message: String) async throws {
                try await answer(status, Self.failure(status, message))
                answeredEarly = true
            }
            let tooLarge = "the request body is larger than \(limits.maxBodyBytes) bytes"
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    if case .tcp(_, _, let token) = listener {
                        guard Self.authorized(requestHead.headers, token: token) else {
                            try await refuse(401, "this agent listens on TCP: send Authorization: Bearer <the token in run/agent.token>")
                            continue
                        }
                        let channel = connection.channel
                        pending.remove(channel)
                        guard slots.acquire() else {
                            try await refuse(503, "\(ControlRefusal.tooManyConnections)")
                            continue
                        }
                        channel.closeFuture.whenComplete { [slots] _ in slots.release() }
                    }
                    if let length = requestHead.headers.first(name: "Content-Length").flatMap(Int.init), length > limits.maxBodyBytes {
                        try await refuse(413, tooLarge)
                    }
                case .body(var chunk):
                    if answeredEarly {
                        drained += chunk.readableBytes
                        if drained > limits.maxDrainBytes { return }
                    } else if body.readableBytes + chunk.readableBytes > limits.maxBodyBytes {
                        try await refuse(413, tooLarge)
                    } else {
                        body.writeBuffer(&chunk)
                    }
                case .end:
                    guard !answeredEarly, let head else { return }
                    let bytes = body.readBytes(length: body.readableBytes) ?? []
                    let routed = await route(head.method.rawValue, head.uri, Data(bytes), await peer(of: connection.channel))
                    try await answer(routed.status, routed.body, extra: routed.headers)
                    return
                }
            }
        }
    }

    /// The sender: the peer's pid on the Unix socket (asked while the request is open, so the
    /// process is still there), its address over TCP.
    private func peer(of channel: Channel) async -> Peer {
        switch listener {
        case .tcp:
            guard let address = channel.remoteAddress, let ip = address.ipAddress, let port = address.port else { return .unknown }
            return .address("\(ip):\(port)")
        case .unix:
            guard let provider = channel as? SocketOptionProvider else { return .unknown }
            let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
            guard let peer = try? await credentials.get(), peer.pid > 0 else { return .unknown }
            return .process(peer.pid)
        }
    }

    static func authorized(_ headers: HTTPHeaders, token: String) -> Bool {
        guard let value = headers.first(name: "Authorization"), value.hasPrefix("Bearer ") else { return false }
        let offered = Array(value.dropFirst(7).utf8), expected = Array(token.utf8)
        guard offered.count == expected.count else { return false }
        // Constant time: how much of a guess was right must not show in how long the answer takes.
        return zip(offered, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func failure(_ status: Int, _ message: String) -> Data {
        // Encoding a message and a number cannot fail; an empty body still carries the status.
        (try? JSONEncoder().encode(AgentFailure(status: status, message: message))) ?? Data()
    }
}

/// Linux's `struct ucred` (pid, uid, gid), which Swift's Glibc does not export.
struct PeerCredentials: Sendable {
    var pid: Int32 = 0
    var uid: UInt32 = 0
    var gid: UInt32 = 0
}

enum ControlRefusal: Error, CustomStringConvertible {
    case tooManyConnections
    case peerUnknown
    case peerNotAllowed(uid_t)

    var description: String {
        switch self {
        case .tooManyConnections: "too many control connections at once"
        case .peerUnknown: "the connecting process's credentials cannot be read"
        case .peerNotAllowed(let uid): "the connecting process runs as uid \(uid), neither this account nor root"
        }
    }
}

/// How many control connections are open; refuses beyond the limit.
final class ConnectionSlots: Sendable {
    private let open = Mutex(0)
    let limit: Int
    init(limit: Int) { self.limit = limit }

    func acquire() -> Bool {
        open.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() { open.withLock { $0 -= 1 } }
}

/// TCP connections that have not authenticated yet, oldest first. Admitting one beyond the limits
/// closes the oldest pending connection (of the same address, when that address is over its own
/// limit): holding places by connecting and sending nothing only pushes one's own out.
final class PendingConnections: Sendable {
    private struct Entry { let id: ObjectIdentifier; let address: String; let channel: any Channel }
    private let entries = Mutex<[Entry]>([])
    let limit: Int
    let perAddress: Int

    init(limit: Int, perAddress: Int) {
        self.limit = limit
        self.perAddress = perAddress
    }

    func admit(_ channel: any Channel) {
        let address = channel.remoteAddress?.ipAddress ?? "?"
        let evicted: [any Channel] = entries.withLock { entries in
            entries.append(Entry(id: ObjectIdentifier(channel), address: address, channel: channel))
            var out: [any Channel] = []
            let sameAddress = entries.indices.filter { entries[$0].address == address }
            if sameAddress.count > perAddress { out.append(entries.remove(at: sameAddress[0]).channel) }
            if entries.count > limit { out.append(entries.removeFirst().channel) }
            return out
        }
        for channel in evicted { channel.close(promise: nil) }
    }

    func contains(_ channel: any Channel) -> Bool {
        entries.withLock { $0.contains { $0.id == ObjectIdentifier(channel) } }
    }

    func remove(_ channel: any Channel) {
        entries.withLock { $0.removeAll { $0.id == ObjectIdentifier(channel) } }
    }
}

/// Closes a connection whose request stalls (no byte for the idle timeout) or is not complete by
/// its deadline. Once the request is in, the route may take as long as it needs.
final class RequestTimer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let deadline: Scheduled<Void>
    private var complete = false

    init(deadline: Scheduled<Void>) { self.deadline = deadline }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            complete = true
            deadline.cancel()
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !complete, let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline.cancel()
        context.fireChannelInactive()
    }
}
