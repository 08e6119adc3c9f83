/// A passive, streaming observer of one MySQL/MariaDB client–server connection as a
/// proxy sees it.
///
/// Feed it every chunk of bytes exactly as it passes, in each direction, in any
/// chunking; it never modifies them and returns what it learned. It keeps only a few
/// header and body bytes per packet (at most 64 KiB) and skips everything else by
/// counting, so result sets and binlog streams of any size pass at memory speed.
///
/// On anything it cannot follow (TLS, protocol compression, bytes that are not the
/// MySQL protocol) it reports ``ProtocolObservation/unobservable(reason:)`` once and
/// ignores the rest of the connection. Garbage never traps.
public struct MySQLConnectionObserver: Sendable {
    private enum Phase: Sendable, Equatable {
        case awaitingGreeting
        case awaitingHandshakeResponse
        case authenticating
        case command
        case binlogStream
        /// The server ended the connection (ERR during connect or authentication).
        case closed
        case unobservable
    }

    private enum Direction {
        case clientToServer
        case serverToClient
    }

    /// Bytes kept of an ERR packet (MySQL messages are at most 512 bytes).
    private static let errorPacketCapture = 4096
    /// Bytes kept of the greeting and the handshake response (user and schema come first).
    private static let handshakeCapture = 8192

    private var phase = Phase.awaitingGreeting
    private var clientFramer = PacketFramer()
    private var serverFramer = PacketFramer()
    private var clientPacket = PacketCapture()
    private var serverPacket = PacketCapture()

    private var serverCapabilities: CapabilityFlags = []
    private var clientCapabilities: CapabilityFlags = []
    private var compressionAfterAuth = false
    private var queryAttributes = false
    private var semiSyncRequested = false
    /// The next server packet is the first of a COM_QUERY response (may ask for LOCAL INFILE).
    private var awaitingQueryResponse = false
    /// The client is sending a LOCAL INFILE file; it ends with an empty packet.
    private var uploadingLocalInfile = false
    private var binlog = BinlogStream()

    /// True once the client issued COM_BINLOG_DUMP or COM_BINLOG_DUMP_GTID.
    public private(set) var isReplication = false
    /// The user name from the handshake response (or the last COM_CHANGE_USER).
    public private(set) var user: String?

    /// Where the binlog events the server sent on this connection got to: the file of
    /// the last rotate and the end position (`log_pos`) of the last real event, or the
    /// target of the last rotate if that came later. Heartbeats and artificial events
    /// (`log_pos` 0) do not move it. `gtid` is the last GTID event sent.
    public var lastForwarded: BinlogCoordinates? { binlog.lastForwarded }

    /// For the last `serverToClient` call, where in its bytes each binlog event ended that moved
    /// `lastForwarded`, and where that left it: the bytes a client must have received to stand there.
    public private(set) var forwardedInChunk: [(endOffset: Int, coordinates: BinlogCoordinates)] = []

    /// Whether every COM_QUERY is reported as `.query(text)`. A proxy that only needs the
    /// replication facts turns it off and saves building a String per query.
    public var reportsQueryText = true

    /// False once the connection turned out to be TLS, compressed or malformed.
    public var observable: Bool { phase != .unobservable }

    /// Set by a proxy that terminates TLS itself: after the client's SSLRequest the observer
    /// is fed the decrypted session, so it goes on with the login that follows instead of
    /// reporting the connection as not observable.
    public var sessionIsDecrypted = false

    /// False once nothing more can be learned (unobservable, or closed by the server).
    private var isParsing: Bool {
        switch phase {
        case .unobservable, .closed: false
        default: true
        }
    }

    public init() {}

    /// Observes bytes travelling from the client to the server.
    public mutating func clientToServer(_ bytes: UnsafeRawBufferPointer) -> [ProtocolObservation] {
        observe(bytes, .clientToServer)
    }

    /// Observes bytes travelling from the server to the client.
    public mutating func serverToClient(_ bytes: UnsafeRawBufferPointer) -> [ProtocolObservation] {
        if !forwardedInChunk.isEmpty { forwardedInChunk.removeAll(keepingCapacity: true) }
        return observe(bytes, .serverToClient)
    }

    /// Convenience for callers holding an array.
    public mutating func clientToServer(_ bytes: [UInt8]) -> [ProtocolObservation] {
        bytes.withUnsafeBytes { clientToServer($0) }
    }

    /// Convenience for callers holding an array.
    public mutating func serverToClient(_ bytes: [UInt8]) -> [ProtocolObservation] {
        bytes.withUnsafeBytes { serverToClient($0) }
    }

    // MARK: - Framing loop

    private mutating func observe(_ bytes: UnsafeRawBufferPointer, _ direction: Direction) -> [ProtocolObservation] {
        var observations: [ProtocolObservation] = []
        var offset = 0
        while isParsing {
            let step: PacketFramer.Step
            switch direction {
            case .clientToServer: step = clientFramer.next(in: bytes, at: &offset)
            case .serverToClient: step = serverFramer.next(in: bytes, at: &offset)
            }
            switch step {
            case .needInput:
                return observations
            case .packetStart(let sequenceID):
                begin(direction, sequenceID: sequenceID)
            case .payload(let range):
                absorb(direction, UnsafeRawBufferPointer(rebasing: bytes[range]))
            case .packetEnd(let length):
                do throws(MalformedPacket) {
                    switch direction {
                    case .clientToServer: try finishClientPacket(length: length, into: &observations)
                    case .serverToClient:
                        let before = binlog.lastForwarded
                        try finishServerPacket(length: length, into: &observations)
                        if let after = binlog.lastForwarded, after != before {
                            forwardedInChunk.append((offset, after))
                        }
                    }
                } catch {
                    stop("malformed: \(error.reason)", into: &observations)
                }
            }
        }
        return observations
    }

    private mutating func begin(_ direction: Direction, sequenceID: UInt8) {
        switch direction {
        case .clientToServer:
            clientPacket.begin(sequenceID: sequenceID)
            let (target, isFinal) = clientCaptureTarget()
            clientPacket.setTarget(target, isFinal: isFinal)
        case .serverToClient:
            serverPacket.begin(sequenceID: sequenceID)
            let (target, isFinal) = serverCaptureTarget()
            serverPacket.setTarget(target, isFinal: isFinal)
        }
    }

    private mutating func absorb(_ direction: Direction, _ chunk: UnsafeRawBufferPointer) {
        var rest = chunk
        while !rest.isEmpty {
            let taken: Int
            switch direction {
            case .clientToServer:
                taken = clientPacket.absorb(rest)
                guard clientPacket.needsDecision else { return }
                let (target, isFinal) = clientCaptureTarget()
                clientPacket.setTarget(target, isFinal: isFinal)
            case .serverToClient:
                taken = serverPacket.absorb(rest)
                guard serverPacket.needsDecision else { return }
                let (target, isFinal) = serverCaptureTarget()
                serverPacket.setTarget(target, isFinal: isFinal)
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
        }
    }

    private mutating func stop(_ reason: String, into observations: inout [ProtocolObservation]) {
        observations.append(.unobservable(reason: reason))
        phase = .unobservable
    }

    // MARK: - What to capture

    private func clientCaptureTarget() -> (Int, Bool) {
        let captured = clientPacket.bytes
        switch phase {
        case .awaitingHandshakeResponse:
            return (Self.handshakeCapture, true)
        case .command:
            guard !uploadingLocalInfile, clientPacket.sequenceID == 0 else { return (0, true) }
            guard let command = captured.first else { return (1, false) }
            switch command {
            case CommandCode.query, CommandCode.binlogDump, CommandCode.binlogDumpGTID, CommandCode.changeUser:
                return (PacketCapture.limit, true)
            case CommandCode.registerSlave:
                return (1 + 4, true)
            default:
                return (1, true)
            }
        case .awaitingGreeting, .authenticating, .binlogStream, .closed, .unobservable:
            return (0, true)
        }
    }

    private func serverCaptureTarget() -> (Int, Bool) {
        let captured = serverPacket.bytes
        switch phase {
        case .awaitingGreeting, .awaitingHandshakeResponse:
            return (Self.handshakeCapture, true)
        case .authenticating, .command:
            guard let first = captured.first else { return (1, false) }
            return first == 0xFF ? (Self.errorPacketCapture, true) : (1, true)
        case .binlogStream:
            if let first = captured.first, first != 0x00 {
                return first == 0xFF ? (Self.errorPacketCapture, true) : (captured.count, true)
            }
            return binlog.captureTarget(for: captured)
        case .closed, .unobservable:
            return (0, true)
        }
    }

    // MARK: - Client packets

    private mutating func finishClientPacket(
        length: Int, into observations: inout [ProtocolObservation]
    ) throws(MalformedPacket) {
        let payload = clientPacket.bytes
        switch phase {
        case .awaitingGreeting:
            throw MalformedPacket("client sent data before the server greeting")
        case .awaitingHandshakeResponse:
            switch try HandshakeResponse.parse(payload, serverOffersTLS: serverCapabilities.contains(.ssl)) {
            case .tlsRequest:
                if !sessionIsDecrypted { stop("tls", into: &observations) }
            case .login(let user, let database, let capabilities):
                clientCapabilities = capabilities
                let negotiated = capabilities.intersection(serverCapabilities)
                compressionAfterAuth = !negotiated.isDisjoint(with: .anyCompression)
                queryAttributes = negotiated.contains(.queryAttributes)
                self.user = user
                observations.append(.handshake(user: user, database: database))
                phase = .authenticating
            }
        case .command:
            if uploadingLocalInfile {
                if length == 0 { uploadingLocalInfile = false }
                return
            }
            guard clientPacket.sequenceID == 0, let command = payload.first else { return }
            try finishCommand(command, payload: payload, length: length, into: &observations)
        case .authenticating, .binlogStream, .closed, .unobservable:
            return  // auth data, semi-sync acknowledgements: not interpreted
        }
    }

    private mutating func finishCommand(
        _ command: UInt8, payload: [UInt8], length: Int, into observations: inout [ProtocolObservation]
    ) throws(MalformedPacket) {
        switch command {
        case CommandCode.query:
            awaitingQueryResponse = true
            guard let text = QueryCommand.statementText(payload, queryAttributes: queryAttributes) else {
                return
            }
            if reportsQueryText {
                observations.append(.query(String(lenientUTF8: text, limit: QueryCommand.observedTextLimit)))
            }
            if let state = SlaveConnectState.parse(text) {
                observations.append(.slaveConnectState(state))
            }
            if QueryCommand.requestsSemiSync(text) {
                semiSyncRequested = true
            }
        case CommandCode.binlogDump:
            let request = try BinlogDumpRequest.parse(payload)
            observations.append(.binlogDump(file: request.file, position: request.position, serverID: request.serverID))
            startBinlogStream(file: request.file)
        case CommandCode.binlogDumpGTID:
            let request = try BinlogDumpGTIDRequest.parse(payload, captureWasTruncated: length > payload.count)
            observations.append(
                .binlogDumpGTID(
                    file: request.file, position: request.position, serverID: request.serverID,
                    gtidSet: request.gtidSet))
            startBinlogStream(file: request.file)
        case CommandCode.registerSlave:
            let request = try RegisterSlaveRequest.parse(payload)
            observations.append(.registerSlave(serverID: request.serverID))
        case CommandCode.changeUser:
            let request = try ChangeUserRequest.parse(payload, clientCapabilities: clientCapabilities)
            user = request.user
            observations.append(.handshake(user: request.user, database: request.database))
            phase = .authenticating
        default:
            return
        }
    }

    private mutating func startBinlogStream(file: String) {
        isReplication = true
        awaitingQueryResponse = false
        binlog.begin(file: file, semiSyncRequested: semiSyncRequested)
        phase = .binlogStream
    }

    // MARK: - Server packets

    private mutating func finishServerPacket(
        length: Int, into observations: inout [ProtocolObservation]
    ) throws(MalformedPacket) {
        let payload = serverPacket.bytes
        switch phase {
        case .awaitingGreeting:
            if payload.first == 0xFF {
                let error = try ErrorPacket.parse(payload)
                observations.append(.serverError(code: error.code, message: error.message))
                phase = .closed
                return
            }
            let greeting = try ServerGreeting.parse(payload)
            serverCapabilities = greeting.capabilities
            observations.append(.serverGreeting(version: greeting.version, connectionID: greeting.connectionID))
            phase = .awaitingHandshakeResponse
        case .awaitingHandshakeResponse:
            guard payload.first == 0xFF else {
                throw MalformedPacket("server sent a packet before the handshake response")
            }
            let error = try ErrorPacket.parse(payload)
            observations.append(.serverError(code: error.code, message: error.message))
            phase = .closed
        case .authenticating:
            try finishAuthenticationPacket(payload, into: &observations)
        case .command:
            try finishCommandResponsePacket(payload, into: &observations)
        case .binlogStream:
            try finishBinlogPacket(payload, length: length, into: &observations)
        case .closed, .unobservable:
            return
        }
    }

    private mutating func finishAuthenticationPacket(
        _ payload: [UInt8], into observations: inout [ProtocolObservation]
    ) throws(MalformedPacket) {
        switch payload.first {
        case 0x00:
            observations.append(.authSucceeded)
            if compressionAfterAuth {
                stop("compressed", into: &observations)
            } else {
                phase = .command
            }
        case 0xFF:
            let error = try ErrorPacket.parse(payload)
            observations.append(.authFailed(code: error.code, message: error.message))
            phase = .closed
        default:
            return  // AuthSwitchRequest (0xFE), AuthMoreData (0x01): the exchange goes on
        }
    }

    private mutating func finishCommandResponsePacket(
        _ payload: [UInt8], into observations: inout [ProtocolObservation]
    ) throws(MalformedPacket) {
        let isFirstQueryResponse = awaitingQueryResponse
        awaitingQueryResponse = false
        switch payload.first {
        case 0xFF:
            let error = try ErrorPacket.parse(payload)
            if error.isProgressReport {
                awaitingQueryResponse = isFirstQueryResponse  // the answer is still to come
                return
            }
            observations.append(.serverError(code: error.code, message: error.message))
            if isFirstQueryResponse { observations.append(.queryAnswered(ok: false)) }
        case 0xFB where isFirstQueryResponse:
            uploadingLocalInfile = true  // LOAD DATA LOCAL INFILE request
        default:
            if isFirstQueryResponse { observations.append(.queryAnswered(ok: true)) }
        }
    }

    private mutating func finishBinlogPacket(
        _ payload: [UInt8], length: Int, into observations: inout [ProtocolObservation]
    ) throws(MalformedPacket) {
        switch payload.first {
        case 0x00:
            let summary = try binlog.consume(payload, length: length)
            observations.append(.binlogEvent(summary))
        case 0xFF:
            let error = try ErrorPacket.parse(payload)
            observations.append(.serverError(code: error.code, message: error.message))
            phase = .command
        case 0xFE:
            phase = .command  // EOF: a non-blocking dump reached the end
        default:
            throw MalformedPacket("unexpected packet in binlog stream (first byte \(payload.first.map(String.init) ?? "none"))")
        }
    }
}
