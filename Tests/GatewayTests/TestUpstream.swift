import NIOCore
import NIOPosix
import Synchronization

/// What the test's upstream server does with a connection.
enum UpstreamBehaviour: Sendable {
    /// Echo everything; on the client's half-close, finish echoing and half-close back.
    case echo
    /// Send `greeting` at once (as a MySQL server does), then echo.
    case greetAndEcho(greeting: String)
    /// Send some garbage and close the connection.
    case garbageThenClose
    /// Reset the connection at once (RST), without sending anything.
    case resetAtOnce
}

/// A NIO server on 127.0.0.1 and an ephemeral port, standing in for MySQL.
final class TestUpstream: Sendable {
    let port: Int
    private let channel: any Channel
    private let counters: Counters

    final class Counters: Sendable {
        let accepted = Mutex(0)
        let receivedBytes = Mutex(0)
    }

    var acceptedCount: Int { counters.accepted.withLock { $0 } }
    var receivedBytes: Int { counters.receivedBytes.withLock { $0 } }

    init(_ behaviour: UpstreamBehaviour, group: any EventLoopGroup) async throws {
        let counters = Counters()
        self.counters = counters
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                counters.accepted.withLock { $0 += 1 }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        UpstreamHandler(behaviour: behaviour, counters: counters))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        port = channel.localAddress!.port!
    }

    func close() async {
        try? await channel.close()
    }
}

/// Echo with backpressure: reads only while its own channel is writable.
private final class UpstreamHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let behaviour: UpstreamBehaviour
    let counters: TestUpstream.Counters
    private var pendingRead = false

    init(behaviour: UpstreamBehaviour, counters: TestUpstream.Counters) {
        self.behaviour = behaviour
        self.counters = counters
    }

    func channelActive(context: ChannelHandlerContext) {
        switch behaviour {
        case .echo:
            break
        case .greetAndEcho(let greeting):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: greeting)), promise: nil)
        case .garbageThenClose:
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [0xFF, 0x00, 0x13, 0x37])))
                .whenComplete { _ in channel.close(promise: nil) }
        case .resetAtOnce:
            let channel = context.channel
            (channel as? any SocketOptionProvider)?.setSoLinger(NIOLinger(l_onoff: 1, l_linger: 0))
                .whenComplete { _ in channel.close(promise: nil) }
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        counters.receivedBytes.withLock { $0 += buffer.readableBytes }
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, pendingRead {
            pendingRead = false
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            // Finish echoing, then half-close back.
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { _ in
                channel.close(mode: .output, promise: nil)
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
