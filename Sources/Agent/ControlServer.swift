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
/// Routing is a closure so that this file knows HTTP and nothing of faults.
struct ControlServer: Sendable {
    typealias Route = @Sendable (_ method: HTTPMethod, _ path: String, _ query: [String: String], _ body: Data) async -> (Int, Data)
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    enum Listener: Sendable {
        case unix(path: String)
        case tcp(host: String, port: Int, token: String)
    }

    struct Limits: Sendable {
        var maxBodyBytes = 64 * 1024
        /// A connection that sends nothing for this long before its request is complete is closed.
        var idleTimeout: TimeAmount = .seconds(5)
        /// The whole request must arrive within this (a byte every few seconds does not keep it open).
        var requestDeadline: TimeAmount = .seconds(20)
        var maxConnections = 64
        /// After refusing a body, how much more of it we read (so the client sees our answer) before closing.
        var maxDrainBytes = 8 * 1024 * 1024
    }

    let listener: Listener
    let group: any EventLoopGroup
    var limits = Limits()
    let route: Route
    let log = AgentLog.logger("agent.control")

    init(listener: Listener, group: any EventLoopGroup, limits: Limits = Limits(), route: @escaping Route) {
        self.listener = listener
        self.group = group
        self.limits = limits
        self.route = route
    }

    /// Binds, then serves until the task is cancelled.
    func bind() async throws -> NIOAsyncChannel<Connection, Never> {
        let slots = ConnectionSlots(limit: limits.maxConnections)
        let limits = self.limits
        let allowed: Set<uid_t> = [geteuid(), 0]
        let isUnix = if case .unix = listener { true } else { false }
        let log = self.log
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 128)
        let initializer: @Sendable (Channel) -> EventLoopFuture<Connection> = { channel in
            guard slots.acquire() else {
                // Refused at once: its descriptor goes back before the next accept.
                log.warning("refused a control connection", metadata: ["error": "\(ControlRefusal.tooManyConnections)"])
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(ControlRefusal.tooManyConnections)
            }
            channel.closeFuture.whenComplete { _ in slots.release() }
            let admitted: EventLoopFuture<Void> = isUnix ? Self.checkPeer(channel, allowed: allowed) : channel.eventLoop.makeSucceededVoidFuture()
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
            func answer(_ status: Int, _ payload: Data) async throws {
                var headers = HTTPHeaders()
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
                    if case .tcp(_, _, let token) = listener, !Self.authorized(requestHead.headers, token: token) {
                        try await refuse(401, "this agent listens on TCP: send Authorization: Bearer <the token in run/agent.token>")
                    } else if let length = requestHead.headers.first(name: "Content-Length").flatMap(Int.init), length > limits.maxBodyBytes {
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
                    let (path, query) = Self.split(head.uri)
                    let bytes = body.readBytes(length: body.readableBytes) ?? []
                    let (status, payload) = await route(head.method, path, query, Data(bytes))
                    try await answer(status, payload)
                    return
                }
            }
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

    static func split(_ uri: String) -> (String, [String: String]) {
        let parts = uri.split(separator: "?", maxSplits: 1)
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                query[String(kv[0])] = kv.count > 1 ? String(kv[1]) : ""
            }
        }
        return (String(parts.first ?? "/"), query)
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
