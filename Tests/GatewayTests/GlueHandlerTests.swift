import NIOCore
import NIOEmbedded
import Testing

@testable import Gateway

/// Counts `read()` requests that reach it and records close modes (EmbeddedChannel cannot
/// half-close, so an output close is recorded and swallowed here).
final class SocketStandIn: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny

    var reads = 0
    var closeModes: [CloseMode] = []

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        closeModes.append(mode)
        if mode == .output {
            promise?.succeed(())
        } else {
            context.close(mode: mode, promise: promise)
        }
    }
}

/// Two embedded channels glued together on one embedded loop.
struct GluedPair {
    let loop = EmbeddedEventLoop()
    let client: EmbeddedChannel
    let server: EmbeddedChannel
    let clientGlue: GlueHandler
    let serverGlue: GlueHandler
    let clientSocket = SocketStandIn()
    let serverSocket = SocketStandIn()

    init() throws {
        (clientGlue, serverGlue) = GlueHandler.matchedPair()
        client = EmbeddedChannel(handlers: [clientSocket, clientGlue], loop: loop)
        server = EmbeddedChannel(handlers: [serverSocket, serverGlue], loop: loop)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: 3306)
        try client.connect(to: address).wait()
        try server.connect(to: address).wait()
    }

    /// Everything written to `channel` so far, concatenated (empty barrier writes included).
    func written(to channel: EmbeddedChannel) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            bytes += buffer.readableBytesView
        }
        return bytes
    }

    func writeChunks(to channel: EmbeddedChannel) throws -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            if buffer.readableBytes > 0 { chunks.append(Array(buffer.readableBytesView)) }
        }
        return chunks
    }
}

@Suite("GlueHandler on EmbeddedChannel")
struct GlueHandlerTests {
    let message = Array("SELECT 1; -- a query long enough to split".utf8)

    @Test func forwardsByteByByteInBothDirections() throws {
        let pair = try GluedPair()
        for byte in message {
            try pair.client.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(try pair.written(to: pair.server) == message)
        for byte in message.reversed() {
            try pair.server.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(try pair.written(to: pair.client) == message.reversed())
    }

    @Test func forwardsBatchedReadsAndFlushesOnReadComplete() throws {
        let pair = try GluedPair()
        pair.client.pipeline.fireChannelRead(ByteBuffer(bytes: message[0..<10]))
        pair.client.pipeline.fireChannelRead(ByteBuffer(bytes: message[10...]))
        // Written, not flushed yet: EmbeddedChannel only shows flushed data.
        #expect(try pair.server.readOutbound(as: ByteBuffer.self) == nil)
        pair.client.pipeline.fireChannelReadComplete()
        #expect(try pair.written(to: pair.server) == message)
    }

    @Test func readsOnlyWhileThePartnerIsWritable() throws {
        let pair = try GluedPair()
        let before = pair.clientSocket.reads
        pair.client.pipeline.read()
        #expect(pair.clientSocket.reads == before + 1)

        pair.server.isWritable = false
        pair.client.pipeline.read()
        #expect(pair.clientSocket.reads == before + 1)  // withheld

        pair.server.isWritable = true
        pair.server.pipeline.fireChannelWritabilityChanged()
        #expect(pair.clientSocket.reads == before + 2)  // the withheld read goes out now
    }

    @Test func passesHalfCloseOnAfterTheDataAndKeepsTheOtherDirection() throws {
        let pair = try GluedPair()
        try pair.client.writeInbound(ByteBuffer(bytes: message))
        pair.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try pair.written(to: pair.server) == message)
        #expect(pair.serverSocket.closeModes == [.output])
        // The server can still answer.
        try pair.server.writeInbound(ByteBuffer(string: "OK"))
        #expect(try pair.written(to: pair.client) == Array("OK".utf8))
        #expect(pair.clientSocket.closeModes.isEmpty)
    }

    @Test func closesThePartnerWhenOneSideGoesAway() throws {
        let pair = try GluedPair()
        try pair.server.close().wait()
        #expect(pair.clientSocket.closeModes == [.all])
        #expect(!pair.client.isActive)
    }

    @Test func holdStopsReadingAndWritingAndReleaseResumesInOrder() throws {
        let pair = try GluedPair()
        pair.clientGlue.hold()
        pair.serverGlue.hold()
        let reads = pair.clientSocket.reads
        pair.client.pipeline.read()
        #expect(pair.clientSocket.reads == reads)

        // Bytes already read when the hold began are kept, not sent.
        try pair.client.writeInbound(ByteBuffer(string: "held-1 "))
        try pair.client.writeInbound(ByteBuffer(string: "held-2"))
        #expect(try pair.written(to: pair.server).isEmpty)
        #expect(pair.serverGlue.queuedBytes == 13)

        pair.serverGlue.release()
        pair.clientGlue.release()
        #expect(try pair.written(to: pair.server) == Array("held-1 held-2".utf8))
        #expect(pair.clientSocket.reads == reads + 1)  // the withheld read goes out
    }

    @Test func latencyDelaysEveryChunkAndKeepsTheOrder() throws {
        let pair = try GluedPair()
        pair.serverGlue.setShaping(DirectionShaping(delay: .milliseconds(50), jitter: .milliseconds(30)))
        for index in 0..<20 {
            try pair.client.writeInbound(ByteBuffer(string: "\(index),"))
            pair.loop.advanceTime(by: .milliseconds(1))
        }
        // Nothing can be due before 50 ms.
        pair.loop.advanceTime(by: .milliseconds(28))
        #expect(try pair.writeChunks(to: pair.server).isEmpty)
        pair.loop.advanceTime(by: .milliseconds(200))
        let chunks = try pair.writeChunks(to: pair.server)
        #expect(chunks.map { String(decoding: $0, as: UTF8.self) } == (0..<20).map { "\($0)," })
    }

    @Test func latencyAppliesToTheHalfCloseToo() throws {
        let pair = try GluedPair()
        pair.serverGlue.setShaping(DirectionShaping(delay: .milliseconds(50), jitter: .zero))
        try pair.client.writeInbound(ByteBuffer(string: "last words"))
        pair.client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        pair.loop.advanceTime(by: .milliseconds(49))
        #expect(pair.serverSocket.closeModes.isEmpty)
        pair.loop.advanceTime(by: .milliseconds(1))
        #expect(try pair.written(to: pair.server) == Array("last words".utf8))
        #expect(pair.serverSocket.closeModes == [.output])
    }

    @Test func bandwidthPacesTheBytes() throws {
        let pair = try GluedPair()
        pair.serverGlue.setShaping(DirectionShaping(delay: .zero, jitter: .zero, bytesPerSecond: 10_240))
        try pair.client.writeInbound(ByteBuffer(repeating: 7, count: 4096))
        // 1024-byte burst at once, then 1024 bytes every 100 ms.
        #expect(try pair.written(to: pair.server).count == 1024)
        pair.loop.advanceTime(by: .milliseconds(99))
        #expect(try pair.written(to: pair.server).isEmpty)
        pair.loop.advanceTime(by: .milliseconds(1))
        #expect(try pair.written(to: pair.server).count == 1024)
        pair.loop.advanceTime(by: .milliseconds(200))
        #expect(try pair.written(to: pair.server).count == 2048)
    }

    @Test func switchingShapingOffReleasesWhatIsQueued() throws {
        let pair = try GluedPair()
        pair.serverGlue.setShaping(DirectionShaping(delay: .seconds(30), jitter: .zero))
        try pair.client.writeInbound(ByteBuffer(string: "slow"))
        #expect(try pair.written(to: pair.server).isEmpty)
        pair.serverGlue.setShaping(nil)
        #expect(try pair.written(to: pair.server) == Array("slow".utf8))
    }

    @Test func aFullQueueStopsThePartnerFromReading() throws {
        let pair = try GluedPair()
        pair.serverGlue.setShaping(DirectionShaping(delay: .milliseconds(10), jitter: .zero))
        try pair.client.writeInbound(ByteBuffer(repeating: 1, count: GlueHandler.queueLimit))
        let reads = pair.clientSocket.reads
        pair.client.pipeline.read()
        #expect(pair.clientSocket.reads == reads)
        pair.loop.advanceTime(by: .milliseconds(10))
        #expect(pair.clientSocket.reads == reads + 1)
        #expect(try pair.written(to: pair.server).count == GlueHandler.queueLimit)
    }

    @Test func writesAreReportedOnlyWhenTheyReachTheChannel() throws {
        let pair = try GluedPair()
        let delegate = RecordingGlueDelegate()
        pair.clientGlue.delegate = delegate
        pair.serverGlue.delegate = delegate
        try pair.client.writeInbound(ByteBuffer(string: "query"))
        #expect(delegate.reads == [.client: ["query"]])
        #expect(delegate.writes == [.server: ["query"]])

        pair.clientGlue.hold()
        pair.serverGlue.hold()
        try pair.server.writeInbound(ByteBuffer(string: "held row"))
        #expect(delegate.reads[.server] == ["held row"])
        #expect(delegate.writes[.client] == nil)  // held, so not written, not reported
        pair.clientGlue.release()
        pair.serverGlue.release()
        #expect(delegate.writes[.client] == ["held row"])
    }

    @Test func aDelegateCanDropWhatWasRead() throws {
        let pair = try GluedPair()
        let delegate = RecordingGlueDelegate()
        delegate.forward = false
        pair.clientGlue.delegate = delegate
        try pair.client.writeInbound(ByteBuffer(string: "dropped"))
        #expect(try pair.written(to: pair.server).isEmpty)
    }
}

final class RecordingGlueDelegate: GlueDelegate {
    var reads: [ConnectionSide: [String]] = [:]
    var writes: [ConnectionSide: [String]] = [:]
    var forward = true

    func glueBecameActive(_ side: ConnectionSide) {}

    func glue(_ side: ConnectionSide, read bytes: ByteBuffer) -> Bool {
        reads[side, default: []].append(String(buffer: bytes))
        return forward
    }

    func glue(_ side: ConnectionSide, willWrite bytes: ByteBuffer) {
        writes[side, default: []].append(String(buffer: bytes))
    }

    func glueInputClosed(_ side: ConnectionSide) {}
    func glueBecameInactive(_ side: ConnectionSide) {}
    func glueCaught(_ side: ConnectionSide, error: any Error) {}
}
