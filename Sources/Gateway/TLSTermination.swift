import NIOCore
import NIOSSL

/// What the gateway needs to terminate MySQL's in-protocol TLS itself: the certificate it
/// answers a client's SSLRequest with, and the CA it trusts for its own TLS session to the server.
///
/// Without it (`--tls passthrough`) the gateway relays a TLS session blind, byte for byte.
public struct TLSTermination: Sendable {
    /// Serves the toolkit's certificate to clients.
    let clientSide: NIOSSLContext
    /// Talks TLS to the server, trusting the toolkit's CA. The server sits on a private loopback
    /// port, so the chain is checked and the host name is not.
    let serverSide: NIOSSLContext

    /// - Parameters: PEM files: the certificate (chain) and key served to clients, and the CA
    ///   that signed the server's certificate.
    public init(certificateFile: String, privateKeyFile: String, caFile: String) throws {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
        var serving = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        serving.minimumTLSVersion = .tlsv12
        serving.shutdownTimeout = Self.shutdownTimeout
        var connecting = TLSConfiguration.makeClientConfiguration()
        connecting.minimumTLSVersion = .tlsv12
        connecting.trustRoots = .file(caFile)
        connecting.certificateVerification = .noHostnameVerification
        connecting.shutdownTimeout = Self.shutdownTimeout
        clientSide = try NIOSSLContext(configuration: serving)
        serverSide = try NIOSSLContext(configuration: connecting)
    }

    /// A close sends close_notify and goes on without waiting for the peer's: a proxy must not
    /// keep a socket that a fault resets, or a client closed, open any longer than plain TCP would.
    static let shutdownTimeout = TimeAmount.zero
}

/// The start of a MySQL connection as far as the gateway must know it to terminate TLS: whether
/// the server's greeting offers TLS, and whether the client's first packet is an SSLRequest.
/// Pure: fed bytes, it answers once it has seen enough.
struct HandshakeSniffer {
    /// Capability flag CLIENT_SSL, in the lower two bytes of the greeting and of the client's packet.
    static let clientSSL: UInt16 = 1 << 11
    static let protocol41: UInt16 = 1 << 9
    /// Header (4) plus the SSLRequest payload of protocol 4.1 (32).
    static let sslRequestPacketLength = 4 + 32
    /// A first packet longer than this is not looked into (a login is far shorter).
    static let firstPacketLimit = 64 * 1024

    /// Whether the server's first packet (Handshake V10) sets CLIENT_SSL; nil while incomplete.
    static func greetingOffersTLS(_ bytes: [UInt8]) -> Bool? {
        guard let length = payloadLength(bytes) else { return nil }
        let payload = bytes.dropFirst(4).prefix(length)
        guard payload.count == length else { return nil }
        guard payload.first == 10, let nul = payload.dropFirst().firstIndex(of: 0) else { return false }
        let flags = nul + 1 + 4 + 8 + 1  // after the version: connection id, auth data part 1, filler
        guard flags + 2 <= payload.endIndex else { return false }
        let lowerFlags = UInt16(payload[flags]) | UInt16(payload[flags + 1]) << 8
        return lowerFlags & clientSSL != 0
    }

    /// The length of the client's first packet, header included, once its header is in.
    static func firstPacketLength(_ bytes: [UInt8]) -> Int? {
        payloadLength(bytes).map { $0 + 4 }
    }

    /// Whether a whole first client packet is an SSLRequest (protocol 4.1: 32 bytes, CLIENT_SSL).
    static func isSSLRequest(_ packet: [UInt8]) -> Bool {
        guard packet.count == sslRequestPacketLength else { return false }
        let flags = UInt16(packet[4]) | UInt16(packet[5]) << 8
        return flags & clientSSL != 0 && flags & protocol41 != 0
    }

    private static func payloadLength(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        return Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16
    }
}
