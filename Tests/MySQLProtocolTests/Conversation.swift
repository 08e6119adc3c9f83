import MySQLProtocol
import Testing

/// Deterministic SplitMix64 so every run feeds the same chunks.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// The bytes of one connection, in the order they crossed the proxy.
struct Conversation {
    enum Side: Sendable {
        case client
        case server
    }

    private(set) var steps: [(side: Side, bytes: [UInt8])] = []

    mutating func client(_ bytes: [UInt8]) {
        append(.client, bytes)
    }

    mutating func server(_ bytes: [UInt8]) {
        append(.server, bytes)
    }

    /// Consecutive bytes of one side merge into one step.
    private mutating func append(_ side: Side, _ bytes: [UInt8]) {
        if let last = steps.last, last.side == side {
            steps[steps.count - 1].bytes += bytes
        } else {
            steps.append((side, bytes))
        }
    }

    /// Greeting, login and OK with the default capabilities.
    static func loggedIn(
        user: String = "etl", database: String? = "shop", serverCapabilities: UInt32 = Wire.serverCapabilities,
        clientCapabilities: UInt32 = Wire.clientCapabilities
    ) -> Conversation {
        var conversation = Conversation()
        conversation.server(Wire.greeting(capabilities: serverCapabilities))
        conversation.client(Wire.handshakeResponse(user: user, database: database, capabilities: clientCapabilities))
        conversation.server(Wire.ok(2))
        return conversation
    }

    static let loggedInObservations: [ProtocolObservation] = [
        .serverGreeting(version: "8.0.36", connectionID: 42),
        .handshake(user: "etl", database: "shop"),
        .authSucceeded,
    ]
}

/// How the bytes of each step are cut into chunks.
enum Chunking: CustomStringConvertible {
    case whole
    case byteByByte
    case random(seed: UInt64)
    case fixed(Int)

    var description: String {
        switch self {
        case .whole: "whole"
        case .byteByByte: "byte by byte"
        case .random(let seed): "random(seed: \(seed))"
        case .fixed(let size): "fixed(\(size))"
        }
    }
}

/// What an observer reported and where it ended.
struct ObservedRun: Equatable {
    var observations: [ProtocolObservation]
    var isReplication: Bool
    var user: String?
    var lastForwarded: BinlogCoordinates?
    var observable: Bool
}

func run(_ conversation: Conversation, _ chunking: Chunking, sessionIsDecrypted: Bool = false) -> ObservedRun {
    var observer = MySQLConnectionObserver()
    observer.sessionIsDecrypted = sessionIsDecrypted
    var observations: [ProtocolObservation] = []
    var generator = SeededGenerator(seed: { if case .random(let seed) = chunking { return seed } else { return 0 } }())
    for step in conversation.steps {
        step.bytes.withUnsafeBytes { buffer in
            var start = 0
            while start < buffer.count {
                let size: Int
                switch chunking {
                case .whole: size = buffer.count
                case .byteByByte: size = 1
                case .fixed(let fixed): size = fixed
                case .random:
                    // Mostly small cuts, sometimes large ones, so headers and payloads split everywhere.
                    size = generator.next() % 8 == 0 ? Int(generator.next() % 100_000) + 1 : Int(generator.next() % 40) + 1
                }
                let end = min(buffer.count, start + size)
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                let new: [ProtocolObservation]
                switch step.side {
                case .client: new = observer.clientToServer(chunk)
                case .server: new = observer.serverToClient(chunk)
                }
                if !new.isEmpty { observations += new }
                start = end
            }
        }
    }
    return ObservedRun(
        observations: observations, isReplication: observer.isReplication, user: observer.user,
        lastForwarded: observer.lastForwarded, observable: observer.observable)
}

/// Feeds the conversation all at once, one byte at a time and in seeded random chunks;
/// all three must agree. Returns the result.
@discardableResult
func observeAllWays(
    _ conversation: Conversation, seed: UInt64 = 0x5EED, sessionIsDecrypted: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) -> ObservedRun {
    FuzzSeeds.record(conversation, sessionIsDecrypted: sessionIsDecrypted)
    let whole = run(conversation, .whole, sessionIsDecrypted: sessionIsDecrypted)
    let bytewise = run(conversation, .byteByByte, sessionIsDecrypted: sessionIsDecrypted)
    #expect(bytewise == whole, "byte-by-byte feeding disagrees", sourceLocation: sourceLocation)
    for offset in 0..<3 {
        let random = run(conversation, .random(seed: seed &+ UInt64(offset)), sessionIsDecrypted: sessionIsDecrypted)
        #expect(random == whole, "random chunking (seed \(seed &+ UInt64(offset))) disagrees", sourceLocation: sourceLocation)
    }
    return whole
}
