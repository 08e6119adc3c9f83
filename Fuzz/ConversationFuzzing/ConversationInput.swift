import MySQLProtocol

/// A fuzz input read as the bytes of one MySQL connection, in the order they crossed the proxy.
///
/// Layout: one options byte, then steps. A step is a tag byte, a 16-bit little-endian length and that
/// many bytes (fewer if the input ends first). The tag's bit 0 is the side (0: client to server,
/// 1: server to client), its other seven bits the chunk size the step is fed in (0: all at once).
/// `Tests/MySQLProtocolTests/FuzzSeeds.swift` writes the tests' conversations in this layout.
public struct ConversationInput {
    public struct Step {
        public var fromServer: Bool
        /// Bytes per call to the observer; 0 feeds the step in one call.
        public var chunkSize: Int
        public var bytes: ArraySlice<UInt8>

        public init(fromServer: Bool, chunkSize: Int = 0, bytes: ArraySlice<UInt8>) {
            self.fromServer = fromServer
            self.chunkSize = chunkSize
            self.bytes = bytes
        }
    }

    public var options: UInt8
    public var steps: [Step]

    public init(_ data: [UInt8]) {
        options = data.first ?? 0
        steps = []
        var offset = 1
        while offset + 3 <= data.count {
            let tag = data[offset]
            let length = Int(data[offset + 1]) | Int(data[offset + 2]) << 8
            let start = offset + 3
            let end = min(data.count, start + length)
            steps.append(Step(fromServer: tag & 1 == 1, chunkSize: Int(tag >> 1), bytes: data[start..<end]))
            offset = end
        }
    }
}

/// What an observer reported and where it ended.
public struct ObservedRun: Equatable, CustomStringConvertible {
    public var observations: [ProtocolObservation]
    public var isReplication: Bool
    public var user: String?
    public var lastForwarded: BinlogCoordinates?
    public var observable: Bool

    public var description: String {
        "observable \(observable), replication \(isReplication), user \(user ?? "-"), last \(lastForwarded.map { "\($0)" } ?? "-"), \(observations)"
    }
}

public enum ConversationCheck {
    /// Feeds the steps to a new observer, each step in its own chunk size or (`chunked` false) whole.
    public static func run(
        _ steps: [ConversationInput.Step], chunked: Bool, sessionIsDecrypted: Bool = false, reportsQueryText: Bool = true
    ) -> ObservedRun {
        var observer = MySQLConnectionObserver()
        observer.sessionIsDecrypted = sessionIsDecrypted
        observer.reportsQueryText = reportsQueryText
        var observations: [ProtocolObservation] = []
        for step in steps {
            step.bytes.withUnsafeBytes { buffer in
                let size = chunked && step.chunkSize > 0 ? step.chunkSize : max(buffer.count, 1)
                var start = 0
                repeat {
                    let end = min(buffer.count, start + size)
                    let chunk = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                    observations += step.fromServer ? observer.serverToClient(chunk) : observer.clientToServer(chunk)
                    start = end
                } while start < buffer.count
            }
        }
        return ObservedRun(
            observations: observations, isReplication: observer.isReplication, user: observer.user,
            lastForwarded: observer.lastForwarded, observable: observer.observable)
    }

    /// What must hold for any bytes (the properties `RobustnessTests` checks on random input): how
    /// the bytes are cut into calls does not change what is observed; a connection is reported
    /// unobservable at most once and nothing follows; only a replication connection has a position.
    /// A violation traps, which libFuzzer reports as a crash with the input that caused it.
    public static func check(
        _ steps: [ConversationInput.Step], sessionIsDecrypted: Bool = false, reportsQueryText: Bool = true
    ) {
        let whole = run(steps, chunked: false, sessionIsDecrypted: sessionIsDecrypted, reportsQueryText: reportsQueryText)
        let chunked = run(steps, chunked: true, sessionIsDecrypted: sessionIsDecrypted, reportsQueryText: reportsQueryText)
        guard chunked == whole else {
            fatalError("chunking changed what was observed:\nwhole:   \(whole)\nchunked: \(chunked)")
        }
        let stops = whole.observations.indices.filter {
            if case .unobservable = whole.observations[$0] { true } else { false }
        }
        precondition(stops.count <= 1, "unobservable reported \(stops.count) times: \(whole)")
        if whole.observable {
            precondition(stops.isEmpty, "unobservable reported on an observable connection: \(whole)")
        } else {
            precondition(stops.first == whole.observations.count - 1, "observations after unobservable: \(whole)")
        }
        if whole.lastForwarded != nil {
            precondition(whole.isReplication, "a binlog position on a connection that asked for no dump: \(whole)")
        }
        // The agent parses every statement a client sends for the tables it reads, and for a binlog status query.
        for case .query(let text) in whole.observations {
            let names = SelectedTables.parse(text) ?? []
            precondition(names.count <= text.utf8.count, "more tables than bytes in \(text.debugDescription): \(names)")
            _ = BinlogStatusQuery.matches(text)
        }
    }
}
