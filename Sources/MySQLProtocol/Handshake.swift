/// The server's Handshake V10 packet (the first packet of a connection).
struct ServerGreeting: Sendable, Equatable {
    var version: String
    var connectionID: UInt32
    var capabilities: CapabilityFlags

    /// Parses the payload of the server's first packet (which must start with 0x0a).
    static func parse(_ payload: [UInt8]) throws(MalformedPacket) -> ServerGreeting {
        var reader = ByteReader(payload)
        guard let protocolVersion = reader.readByte() else {
            throw MalformedPacket("empty server greeting")
        }
        guard protocolVersion == 10 else {
            throw MalformedPacket("unsupported handshake protocol version \(protocolVersion)")
        }
        guard let version = reader.readNulTerminated(),
            let connectionID = reader.readUInt32(),
            reader.skip(8 + 1),  // auth-plugin-data-part-1, filler
            let lowerCapabilities = reader.readUInt16()
        else {
            throw MalformedPacket("truncated server greeting")
        }
        var capabilities = UInt32(lowerCapabilities)
        if reader.skip(1 + 2), let upperCapabilities = reader.readUInt16() {  // charset, status
            capabilities |= UInt32(upperCapabilities) << 16
        }
        return ServerGreeting(
            version: String(lenientUTF8: version),
            connectionID: connectionID,
            capabilities: CapabilityFlags(rawValue: capabilities)
        )
    }
}

/// The client's answer to the greeting: HandshakeResponse41 / 320, or an SSLRequest.
///
/// A session switches to TLS only when the client sends the short SSLRequest packet (32 bytes
/// in protocol 4.1, 5 in 3.20) to a server that offered TLS. CLIENT_SSL alone proves nothing:
/// some clients (PyMySQL with an `ssl` option, for one) set it in a full login packet to a
/// server that offered no TLS, and the session stays plain text.
enum HandshakeResponse: Sendable, Equatable {
    /// The client asked to switch to TLS (SSLRequest, CLIENT_SSL set).
    case tlsRequest
    case login(user: String, database: String?, capabilities: CapabilityFlags)

    /// Payload sizes of an SSLRequest: capabilities, max packet size, character set and filler
    /// in protocol 4.1; capabilities and max packet size in 3.20.
    static let sslRequestLength41 = 32
    static let sslRequestLength320 = 5

    static func parse(_ payload: [UInt8], serverOffersTLS: Bool) throws(MalformedPacket) -> HandshakeResponse {
        var reader = ByteReader(payload)
        guard let lower = reader.readUInt16() else {
            throw MalformedPacket("truncated handshake response")
        }
        let protocol41 = CapabilityFlags(rawValue: UInt32(lower)).contains(.protocol41)
        let sslRequestLength = protocol41 ? sslRequestLength41 : sslRequestLength320
        if CapabilityFlags(rawValue: UInt32(lower)).contains(.ssl) && payload.count == sslRequestLength {
            guard serverOffersTLS else {
                throw MalformedPacket("SSL request to a server that offered no TLS")
            }
            return .tlsRequest
        }
        if protocol41 {
            return try parse41(payload)
        }
        return try parse320(payload, capabilities: CapabilityFlags(rawValue: UInt32(lower)))
    }

    private static func parse41(_ payload: [UInt8]) throws(MalformedPacket) -> HandshakeResponse {
        var reader = ByteReader(payload)
        guard let rawCapabilities = reader.readUInt32() else {
            throw MalformedPacket("truncated handshake response")
        }
        let capabilities = CapabilityFlags(rawValue: rawCapabilities)
        // max packet size 4, character set 1, filler 23
        guard reader.skip(4 + 1 + 23), let user = reader.readNulTerminated() else {
            throw MalformedPacket("truncated handshake response")
        }
        guard skipAuthResponse(&reader, capabilities: capabilities) else {
            throw MalformedPacket("truncated auth response in handshake response")
        }
        let database = capabilities.contains(.connectWithDB) ? readDatabase(&reader) : nil
        return .login(user: String(lenientUTF8: user), database: database, capabilities: capabilities)
    }

    private static func parse320(
        _ payload: [UInt8], capabilities: CapabilityFlags
    ) throws(MalformedPacket) -> HandshakeResponse {
        var reader = ByteReader(payload, from: 2 + 3)  // capabilities 2, max packet size 3
        guard let user = reader.readNulTerminated() else {
            throw MalformedPacket("truncated handshake response")
        }
        var database: String?
        if capabilities.contains(.connectWithDB), reader.readNulTerminated() != nil {
            database = readDatabase(&reader)
        }
        return .login(user: String(lenientUTF8: user), database: database, capabilities: capabilities)
    }

    /// Skips the auth-response field in the encoding the capabilities select.
    static func skipAuthResponse(_ reader: inout ByteReader, capabilities: CapabilityFlags) -> Bool {
        if capabilities.contains(.pluginAuthLengthEncodedClientData) {
            guard let length = reader.readLengthEncodedInteger() else { return false }
            return reader.skip(length)
        }
        if capabilities.contains(.secureConnection) {
            guard let length = reader.readByte() else { return false }
            return reader.skip(Int(length))
        }
        return reader.readNulTerminated() != nil
    }

    /// A NUL-terminated schema name (lenient: unterminated runs to the end); empty → nil.
    static func readDatabase(_ reader: inout ByteReader) -> String? {
        let bytes = reader.readNulTerminated() ?? reader.readRest()
        return bytes.isEmpty ? nil : String(lenientUTF8: bytes)
    }
}
