import NIOCore
import NIOEmbedded
import NIOSSL
import Testing

@testable import Gateway

@Suite("TLS negotiation: the gateway's view of the handshake")
struct TLSNegotiationTests {
    static func packet(_ sequenceID: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [UInt8(payload.count & 0xFF), UInt8(payload.count >> 8 & 0xFF), UInt8(payload.count >> 16), sequenceID] + payload
    }

    static func greeting(capabilities: UInt16) -> [UInt8] {
        packet(0, [10] + Array("10.11.6-MariaDB".utf8) + [0] + [1, 0, 0, 0] + Array(repeating: 0x41, count: 8) + [0]
               + [UInt8(capabilities & 0xFF), UInt8(capabilities >> 8)] + [0x21, 2, 0, 0xFF, 0x81])
    }

    static let sslRequest = packet(1, [0x00, 0x0A | 0x08, 0, 0] + [0, 0, 0, 1] + [0x21] + Array(repeating: 0, count: 23))
    static let login = packet(1, [0x00, 0x02 | 0x80, 0, 0] + [0, 0, 0, 1] + [0x21] + Array(repeating: 0, count: 23)
                              + Array("hevo".utf8) + [0, 0])

    @Test("greeting: CLIENT_SSL found after the version string, only once the packet is whole")
    func greeting() {
        let offering = Self.greeting(capabilities: 0xFFFF)
        let plain = Self.greeting(capabilities: 0xFFFF & ~0x0800)
        #expect(HandshakeSniffer.greetingOffersTLS(offering) == true)
        #expect(HandshakeSniffer.greetingOffersTLS(plain) == false)
        #expect(HandshakeSniffer.greetingOffersTLS(Array(offering.dropLast())) == nil)
        #expect(HandshakeSniffer.greetingOffersTLS(Self.packet(0, [0xFF, 0x10, 0x04])) == false)
    }

    @Test("SSLRequest: 32 bytes with CLIENT_SSL and protocol 4.1; a login with CLIENT_SSL is not one")
    func sslRequest() {
        #expect(HandshakeSniffer.isSSLRequest(Self.sslRequest))
        #expect(!HandshakeSniffer.isSSLRequest(Self.login))
        var loginWithSSL = Self.login
        loginWithSSL[5] |= 0x08
        #expect(!HandshakeSniffer.isSSLRequest(loginWithSSL))
    }

    final class Recorder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var bytes: [UInt8] = []
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += unwrapInboundIn(data).readableBytesView
        }
    }

    final class Decider: TLSUpgradeDelegate {
        var asked = 0
        func serverGreeting(offersTLS: Bool) {}
        func clientAskedForTLS() -> NIOSSLContext? { asked += 1; return nil }
    }

    @Test("the client's first packet goes on whole and unchanged, byte by byte or at once", arguments: [1, 7, 1000])
    func firstPacketPassesUnchanged(chunk: Int) throws {
        for first in [Self.sslRequest, Self.login] {
            let negotiator = ClientTLSNegotiator()
            let decider = Decider()
            negotiator.delegate = decider
            let recorder = Recorder()
            let channel = EmbeddedChannel(handlers: [negotiator, recorder])
            let input = first + Array(repeating: 0x16, count: 20)
            var offset = 0
            while offset < input.count {
                let end = min(input.count, offset + chunk)
                try channel.writeInbound(channel.allocator.buffer(bytes: input[offset..<end]))
                offset = end
            }
            #expect(recorder.bytes == input)
            #expect(decider.asked == (first == Self.sslRequest ? 1 : 0))
            _ = try channel.finish()
        }
    }
}
