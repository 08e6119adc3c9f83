import NIOCore
import NIOPosix
import Testing

@testable import Gateway

/// FNV-1a over a byte stream, position-sensitive.
struct StreamChecksum: Equatable {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    private(set) var count = 0

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var hash = value
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        value = hash
        count += bytes.count
    }
}

/// Sends `total` bytes as fast as the channel takes them (never past its high-water mark),
/// half-closes, and checksums everything it receives until the peer half-closes back.
final class BulkClientHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Result: Sendable {
        var sent: StreamChecksum
        var received: StreamChecksum
    }

    let total: Int
    let done: EventLoopPromise<Result>
    private var pattern: ByteBuffer
    private var sent = StreamChecksum()
    private var received = StreamChecksum()

    init(total: Int, done: EventLoopPromise<Result>) {
        self.total = total
        self.done = done
        // A prime length, so chunks never line up with read sizes.
        var generator = SeededGenerator(state: 2024)
        pattern = ByteBuffer(bytes: (0..<65521).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    func channelActive(context: ChannelHandlerContext) {
        writeWhileWritable(context: context)
        context.fireChannelActive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writeWhileWritable(context: context)
    }

    private func writeWhileWritable(context: ChannelHandlerContext) {
        guard sent.count < total else { return }
        while context.channel.isWritable && sent.count < total {
            let chunk = pattern.getSlice(at: 0, length: min(pattern.readableBytes, total - sent.count))!
            chunk.withUnsafeReadableBytes { sent.add($0) }
            context.write(wrapOutboundOut(chunk), promise: nil)
        }
        context.flush()
        if sent.count == total {
            context.close(mode: .output, promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        unwrapInboundIn(data).withUnsafeReadableBytes { received.add($0) }
    }

    /// The peer's end of stream: NIO reports it as `inputClosed`, or, when our own output is
    /// already shut, by closing the channel.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(Result(sent: sent, received: received))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)  // the counts will tell what was lost
    }
}

extension GatewaySocketTests {
    @Test("100 MiB each way with half-close, byte for byte", .tags(.slow), .timeLimit(.minutes(2)))
    func transfersAHundredMegabytesBothWays() async throws {
        try await GatewayFixture.run(.echo) { fixture in
            let total = 100 * 1024 * 1024
            let loop = fixture.group.next()
            let done = loop.makePromise(of: BulkClientHandler.Result.self)
            let clock = ContinuousClock()
            let started = clock.now
            let connect = ClientBootstrap(group: loop)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(BulkClientHandler(total: total, done: done))
                    }
                }
                .connect(host: "127.0.0.1", port: fixture.port)
            connect.whenFailure { done.fail($0) }
            let channel = try await connect.get()
            // Bounded: after 90 s the channel is closed and the counts fall short.
            let timeout = loop.scheduleTask(in: .seconds(90)) { channel.close(promise: nil) }
            let result = try await done.futureResult.get()
            timeout.cancel()
            let elapsed = clock.now - started
            try? await channel.closeFuture.get()

            #expect(result.sent.count == total)
            #expect(result.received == result.sent)
            #expect(fixture.upstream.receivedBytes == total)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("gateway transparency: \(total >> 20) MiB each way in \(elapsed), \(Int(Double(2 * total) / seconds / 1e6)) MB/s total (\(buildKind) build)")
        }
    }

    @Test("half-close: the client shuts its write side and still gets the answer")
    func halfCloseFromTheClient() async throws {
        try await GatewayFixture.run(.echo) { fixture in
            let socket = try BlockingSocket.connect(port: fixture.port)
            try socket.send("last request")
            socket.shutdownWrite()
            let (bytes, end) = socket.read(count: 100, timeout: .seconds(5))
            #expect(String(decoding: bytes, as: UTF8.self) == "last request")
            #expect(end == .endOfStream)  // the upstream half-closed back after echoing
            #expect(await eventually { fixture.gateway.connectionCount == 0 })
        }
    }

    @Test("300 concurrent connections", .tags(.slow), .timeLimit(.minutes(1)))
    func threeHundredConcurrentConnections() async throws {
        try await GatewayFixture.run { fixture in
            var sockets: [BlockingSocket] = []
            for _ in 0..<300 {
                sockets.append(try fixture.connectAndGreet())
            }
            #expect(fixture.gateway.connectionCount == 300)
            #expect(fixture.upstream.acceptedCount == 300)
            for (index, socket) in sockets.enumerated() {
                try socket.send("ping \(index);")
            }
            for (index, socket) in sockets.enumerated() {
                let expected = "ping \(index);"
                #expect(socket.readText(expected.utf8.count) == expected)
            }
            sockets.forEach { $0.close() }
            #expect(await eventually { fixture.gateway.connectionCount == 0 })
        }
    }

    @Test("the tap sees every byte in order, and how the connection closed")
    func tapSeesTheStream() async throws {
        try await GatewayFixture.run { fixture in
            let socket = try fixture.connectAndGreet()
            try socket.send("Q: one")
            #expect(socket.readText(6) == "Q: one")
            socket.close()
            #expect(await eventually { fixture.observer.closes.withLock { $0 } == [.client] })
            #expect(fixture.observer.clients.withLock { $0.first?.hasPrefix("127.0.0.1:") } == true)
        }
    }
}

#if DEBUG
private let buildKind = "debug"
#else
private let buildKind = "release"
#endif
