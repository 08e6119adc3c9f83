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
enum HandshakeResponse: Sendable, Equatable {
    /// The client asked to switch to TLS (SSLRequest, CLIENT_SSL set).
    case tlsRequest
    case login(user: String, database: String?, capabilities: CapabilityFlags)

    static func parse(_ payload: [UInt8]) throws(MalformedPacket) -> HandshakeResponse {
        var reader = ByteReader(payload)
        guard let lower = reader.readUInt16() else {
            throw MalformedPacket("truncated handshake response")
        }
        if CapabilityFlags(rawValue: UInt32(lower)).contains(.protocol41) {
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
        if capabilities.contains(.ssl) {
            return .tlsRequest
        }
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
        if capabilities.contains(.ssl) {
            return .tlsRequest
        }
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
