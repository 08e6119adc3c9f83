import MySQLProtocol
import Testing

@Suite("Connection phase")
struct HandshakeTests {
    @Test("greeting, login with schema, OK")
    func loginWithDatabase() {
        let result = observeAllWays(.loggedIn())
        #expect(result.observations == Conversation.loggedInObservations)
        #expect(result.user == "etl")
        #expect(result.observable)
        #expect(!result.isReplication)
        #expect(result.lastForwarded == nil)
    }

    @Test("login without schema; MariaDB version string; secure-connection auth length")
    func loginWithoutDatabase() {
        var conversation = Conversation()
        conversation.server(Wire.greeting(version: "5.5.5-10.11.6-MariaDB-0+deb12u1", connectionID: 7))
        conversation.client(
            Wire.handshakeResponse(
                user: "replicator", database: nil,
                capabilities: Wire.protocol41 | Wire.secureConnection | Wire.pluginAuth,
                authData: Array(repeating: 1, count: 20)))
        conversation.server(Wire.ok(2))
        let result = observeAllWays(conversation)
        #expect(
            result.observations == [
                .serverGreeting(version: "5.5.5-10.11.6-MariaDB-0+deb12u1", connectionID: 7),
                .handshake(user: "replicator", database: nil),
                .authSucceeded,
            ])
    }

    @Test("auth switch and more-data round trips before OK")
    func authSwitch() {
        var conversation = Conversation()
        conversation.server(Wire.greeting())
        conversation.client(Wire.handshakeResponse(user: "etl", database: "shop"))
        conversation.server(Wire.packet(2, [0xFE] + Wire.nul("mysql_native_password") + Array(repeating: 7, count: 20) + [0]))
        conversation.client(Wire.packet(3, Array(repeating: 9, count: 20)))
        conversation.server(Wire.packet(4, [0x01, 0x04]))  // caching_sha2: perform full authentication
        conversation.client(Wire.packet(5, [0x02]))  // request public key
        conversation.server(Wire.packet(6, [0x01] + Array("-----BEGIN PUBLIC KEY-----".utf8)))
        conversation.client(Wire.packet(7, Array(repeating: 3, count: 256)))
        conversation.server(Wire.ok(8))
        conversation.client(Wire.query("SELECT 1"))
        let result = observeAllWays(conversation)
        #expect(result.observations == Conversation.loggedInObservations + [.query("SELECT 1")])
    }

    @Test("authentication failure")
    func authFailure() {
        var conversation = Conversation()
        conversation.server(Wire.greeting())
        conversation.client(Wire.handshakeResponse(user: "etl", database: "shop"))
        conversation.server(
            Wire.err(2, code: 1045, sqlState: "28000", message: "Access denied for user 'etl'@'10.0.0.9' (using password: YES)"))
        let result = observeAllWays(conversation)
        #expect(
            result.observations == [
                .serverGreeting(version: "8.0.36", connectionID: 42),
                .handshake(user: "etl", database: "shop"),
                .authFailed(code: 1045, message: "Access denied for user 'etl'@'10.0.0.9' (using password: YES)"),
            ])
        #expect(result.observable)
    }

    @Test("ERR instead of a greeting (too many connections, no SQLSTATE)")
    func errorBeforeGreeting() {
        var conversation = Conversation()
        conversation.server(Wire.err(0, code: 1040, sqlState: nil, message: "Too many connections"))
        let result = observeAllWays(conversation)
        #expect(result.observations == [.serverError(code: 1040, message: "Too many connections")])
    }

    @Test("SSLRequest makes the connection unobservable")
    func tls() {
        var conversation = Conversation()
        conversation.server(Wire.greeting())
        conversation.client(Wire.sslRequest())
        conversation.client([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03] + Array(repeating: 0x77, count: 300))
        conversation.server([0x16, 0x03, 0x03, 0x00, 0x7A] + Array(repeating: 0x12, count: 500))
        let result = observeAllWays(conversation)
        #expect(result.observations == [.serverGreeting(version: "8.0.36", connectionID: 42), .unobservable(reason: "tls")])
        #expect(!result.observable)
        #expect(result.user == nil)
    }

    @Test("behind a proxy that terminates TLS, the login after the SSLRequest is observed")
    func decryptedTLSSession() {
        var conversation = Conversation()
        conversation.server(Wire.greeting())
        conversation.client(Wire.sslRequest())
        // What the proxy decrypted: the full login continues the sequence after the SSLRequest.
        conversation.client(Wire.handshakeResponse(user: "etl", database: "shop", capabilities: Wire.clientCapabilities | Wire.ssl, sequenceID: 2))
        conversation.server(Wire.ok(3))
        conversation.client(Wire.binlogDump(file: "mysql-bin.000001", position: 4, serverID: 9))
        let result = observeAllWays(conversation, sessionIsDecrypted: true)
        #expect(
            result.observations == Conversation.loggedInObservations
                + [.binlogDump(file: "mysql-bin.000001", position: 4, serverID: 9)])
        #expect(result.observable)
        #expect(result.user == "etl")
        #expect(result.isReplication)
    }

    @Test("CLIENT_SSL in a full login packet to a server without TLS is a plain session, observed")
    func sslFlagWithoutSSLRequest() {
        // PyMySQL with an `ssl` option sets CLIENT_SSL in its login even when the server offered no TLS.
        var conversation = Conversation()
        conversation.server(Wire.greeting(capabilities: Wire.serverCapabilities & ~Wire.ssl))
        conversation.client(Wire.handshakeResponse(user: "etl", database: "shop", capabilities: Wire.clientCapabilities | Wire.ssl))
        conversation.server(Wire.ok(2))
        let result = observeAllWays(conversation)
        #expect(result.observations == Conversation.loggedInObservations)
        #expect(result.observable)
        #expect(result.user == "etl")
    }

    @Test("CLIENT_SSL in a full login packet to a server that offers TLS is still a login")
    func sslFlagInFullLoginToTLSServer() {
        var conversation = Conversation()
        conversation.server(Wire.greeting())
        conversation.client(Wire.handshakeResponse(user: "etl", database: "shop", capabilities: Wire.clientCapabilities | Wire.ssl))
        conversation.server(Wire.ok(2))
        let result = observeAllWays(conversation)
        #expect(result.observations == Conversation.loggedInObservations)
        #expect(result.observable)
    }

    @Test("negotiated compression makes the connection unobservable after OK")
    func compression() {
        var conversation = Conversation()
        conversation.server(Wire.greeting())
        conversation.client(Wire.handshakeResponse(user: "etl", database: "shop", capabilities: Wire.clientCapabilities | Wire.compress))
        conversation.server(Wire.ok(2))
        // Compressed packets: 3-byte compressed length, sequence, 3-byte uncompressed length, data.
        conversation.client([0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x03, 0x53, 0x45, 0x4C])
        conversation.server(Array(repeating: 0xFF, count: 64))
        let result = observeAllWays(conversation)
        #expect(result.observations == Conversation.loggedInObservations + [.unobservable(reason: "compressed")])
        #expect(!result.observable)
    }

    @Test("compression asked for by the client but not offered by the server stays observable")
    func compressionNotOffered() {
        var conversation = Conversation.loggedIn(
            serverCapabilities: Wire.serverCapabilities & ~Wire.compress,
            clientCapabilities: Wire.clientCapabilities | Wire.compress)
        conversation.client(Wire.query("SELECT 1"))
        let result = observeAllWays(conversation)
        #expect(result.observations == Conversation.loggedInObservations + [.query("SELECT 1")])
    }

    @Test("COM_CHANGE_USER re-authenticates and updates the user")
    func changeUser() {
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.packet(0, [0x11] + Wire.nul("auditor") + [20] + Array(repeating: 4, count: 20) + Wire.nul("audit") + Wire.le16(255) + Wire.nul("caching_sha2_password")))
        conversation.server(Wire.ok(1))
        conversation.client(Wire.query("SELECT 2"))
        let result = observeAllWays(conversation)
        #expect(
            result.observations == Conversation.loggedInObservations + [
                .handshake(user: "auditor", database: "audit"), .authSucceeded, .query("SELECT 2"),
            ])
        #expect(result.user == "auditor")
    }

    @Test("a client speaking first is not MySQL")
    func clientFirst() {
        var conversation = Conversation()
        conversation.client(Wire.packet(0, Array("GET / HTTP/1.1".utf8)))
        conversation.server(Wire.greeting())
        let result = observeAllWays(conversation)
        #expect(result.observations.count == 1)
        #expect(result.observations.first.map(isMalformed) == true)
        #expect(!result.observable)
    }

    @Test("a non-MySQL server is reported malformed")
    func notAGreeting() {
        var conversation = Conversation()
        conversation.server(Wire.packet(0, Array("SSH-2.0-OpenSSH_9.2".utf8)))
        let result = observeAllWays(conversation)
        #expect(result.observations == [.unobservable(reason: "malformed: unsupported handshake protocol version 83")])
    }
}

func isMalformed(_ observation: ProtocolObservation) -> Bool {
    if case .unobservable(let reason) = observation { return reason.hasPrefix("malformed: ") }
    return false
}
