import NIOCore
import NIOSSL

/// Decides, per connection, whether the gateway terminates a client's TLS (the `Relay`).
protocol TLSUpgradeDelegate: AnyObject {
    /// The server's greeting went by; `offersTLS` says whether it set CLIENT_SSL.
    func serverGreeting(offersTLS: Bool)
    /// The client's first packet is an SSLRequest. Returns the context to answer it with, or
    /// `nil` to relay the TLS session blind.
    func clientAskedForTLS() -> NIOSSLContext?
}

/// In front of the client-side glue, when the gateway terminates TLS. Holds the client's first
/// packet until it is whole. An SSLRequest the gateway terminates goes on to the glue (and so to
/// the server) as it is; then a TLS server handler is put behind this one, so that everything
/// after it reaches the glue, and the tap, decrypted. Any other first packet just goes on.
final class ClientTLSNegotiator: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    weak var delegate: (any TLSUpgradeDelegate)?
    /// The bytes of the first packet so far; `nil` once it went on.
    private var firstPacket: [UInt8]? = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard var pending = firstPacket else {
            context.fireChannelRead(data)
            return
        }
        pending += unwrapInboundIn(data).readableBytesView
        guard let length = HandshakeSniffer.firstPacketLength(pending) else {
            firstPacket = pending
            return
        }
        guard length <= HandshakeSniffer.firstPacketLimit else {
            firstPacket = nil
            fire(pending[...], context: context)
            return
        }
        guard pending.count >= length else {
            firstPacket = pending
            return
        }
        firstPacket = nil
        let packet = Array(pending[..<length])
        let tls = HandshakeSniffer.isSSLRequest(packet) ? delegate?.clientAskedForTLS() : nil
        fire(packet[...], context: context)
        if let tls {
            do {
                try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls), position: .after(self))
            } catch {
                context.fireErrorCaught(error)
                return
            }
        }
        if pending.count > length {
            fire(pending[length...], context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client stopped sending before its first packet was whole: pass on what came.
        if let event = event as? ChannelEvent, case .inputClosed = event, let pending = firstPacket {
            firstPacket = nil
            if !pending.isEmpty { fire(pending[...], context: context) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func fire(_ bytes: ArraySlice<UInt8>, context: ChannelHandlerContext) {
        context.fireChannelRead(wrapInboundOut(context.channel.allocator.buffer(bytes: bytes)))
    }
}

/// In front of the server-side glue, when the gateway terminates TLS. Reports whether the server's
/// greeting offers TLS, and once told that the client's SSLRequest is on its way to the server,
/// puts a TLS client handler behind itself right after that packet was written, so that the
/// server gets the SSLRequest in plain text and everything after it over the gateway's TLS.
final class UpstreamTLSNegotiator: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    weak var delegate: (any TLSUpgradeDelegate)?
    /// The greeting's bytes so far; `nil` once reported.
    private var greeting: [UInt8]? = []
    /// Bytes written to the server so far.
    private var written = 0
    private var upgrade: (afterWritten: Int, context: NIOSSLContext)?

    /// Starts TLS to the server once `byteCount` more bytes (the SSLRequest) were written.
    func startTLS(afterNext byteCount: Int, context: NIOSSLContext) {
        upgrade = (written + byteCount, context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if var pending = greeting {
            pending += unwrapInboundIn(data).readableBytesView
            if let offers = HandshakeSniffer.greetingOffersTLS(pending) {
                greeting = nil
                delegate?.serverGreeting(offersTLS: offers)
            } else if pending.count > HandshakeSniffer.firstPacketLimit {
                greeting = nil
                delegate?.serverGreeting(offersTLS: false)
            } else {
                greeting = pending
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        written += unwrapOutboundIn(data).readableBytes
        context.write(data, promise: promise)
        guard let upgrade, written >= upgrade.afterWritten else { return }
        self.upgrade = nil
        do {
            let handler = try NIOSSLClientHandler(context: upgrade.context, serverHostname: nil)
            try context.pipeline.syncOperations.addHandler(handler, position: .after(self))
        } catch {
            context.fireErrorCaught(error)
        }
    }
}
