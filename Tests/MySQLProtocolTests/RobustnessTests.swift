import MySQLProtocol
import Testing

@Suite("Robustness")
struct RobustnessTests {
    /// Bytes that steer the state machines into their interesting branches.
    static let interestingFirstBytes: [UInt8] = [0x00, 0x01, 0x03, 0x0A, 0x11, 0x12, 0x15, 0x1E, 0xEF, 0xFB, 0xFE, 0xFF]

    /// A random step: raw garbage, or a well-framed packet with a random payload.
    static func randomStep(_ generator: inout SeededGenerator) -> [UInt8] {
        let length = Int(generator.next() % 400)
        var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        guard generator.next() % 3 != 0 else { return bytes }
        if let first = interestingFirstBytes.randomElement(using: &generator), !bytes.isEmpty {
            bytes[0] = first
        }
        if bytes.count > 20, generator.next() % 2 == 0 {
            // Make a binlog-looking event whose size field matches the packet.
            bytes.replaceSubrange(10..<14, with: Wire.le32(UInt32(bytes.count - 1)))
        }
        return Wire.packet(UInt8(truncatingIfNeeded: generator.next()), bytes)
    }

    /// Checks what must hold for any input, and that chunking does not matter.
    static func checkInvariants(_ conversation: Conversation, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
        let whole = run(conversation, .whole)
        #expect(run(conversation, .random(seed: seed)) == whole, "chunking changed the result", sourceLocation: sourceLocation)
        #expect(run(conversation, .fixed(3)) == whole, "chunking changed the result", sourceLocation: sourceLocation)
        let stops = whole.observations.filter { if case .unobservable = $0 { true } else { false } }
        #expect(stops.count <= 1, "more than one unobservable", sourceLocation: sourceLocation)
        if !whole.observable {
            #expect(stops.count == 1, sourceLocation: sourceLocation)
            if case .unobservable = whole.observations.last {} else {
                Issue.record("observations after unobservable: \(whole.observations)", sourceLocation: sourceLocation)
            }
        }
        if whole.lastForwarded != nil {
            #expect(whole.isReplication, sourceLocation: sourceLocation)
        }
    }

    @Test("2,000 random byte sequences never crash and end unobservable or harmless")
    func randomSequences() {
        var generator = SeededGenerator(seed: 0xF0CC_ACC1A)
        var unobservable = 0
        for index in 0..<2000 {
            var conversation: Conversation
            switch index % 4 {
            case 0:
                conversation = Conversation()
            case 1:
                conversation = Conversation()
                conversation.server(Wire.greeting())
            case 2:
                conversation = .loggedIn()
            default:
                conversation = .loggedIn()
                conversation.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
            }
            for _ in 0..<(1 + Int(generator.next() % 8)) {
                let bytes = Self.randomStep(&generator)
                if generator.next() % 2 == 0 {
                    conversation.client(bytes)
                } else {
                    conversation.server(bytes)
                }
            }
            Self.checkInvariants(conversation, seed: UInt64(index))
            if !run(conversation, .whole).observable { unobservable += 1 }
        }
        // Most garbage is recognised as such; the rest waits for packets that never complete.
        #expect(unobservable > 200)
    }

    @Test("500 mutated replication sessions never crash")
    func mutatedSessions() {
        var writer = BinlogWriter(checksum: true)
        var template = Conversation.loggedIn()
        template.client(Wire.query("SET @slave_connect_state='0-1-5'"))
        template.server(Wire.ok(1))
        template.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
        let events = [
            writer.fakeRotate(file: "binlog.000001", position: 4), writer.formatDescription(),
            writer.mysqlGTID(uuid: "3e11fa47-71ca-11e1-9e33-c80aa9429562", gno: 1), writer.query("BEGIN"),
            writer.mariaDBGTID(sequence: 3, domain: 0), writer.xid(1), writer.rotate(to: "binlog.000002"),
        ]
        for (index, event) in events.enumerated() {
            template.server(BinlogWriter.packet(UInt8(index + 1), event))
        }
        var generator = SeededGenerator(seed: 0xBAD_B17E5)
        for index in 0..<500 {
            var conversation = Conversation()
            for step in template.steps {
                var bytes = step.bytes
                for _ in 0..<Int(generator.next() % 3) where !bytes.isEmpty {
                    let position = Int(generator.next() % UInt64(bytes.count))
                    bytes[position] = UInt8.random(in: 0...255, using: &generator)
                }
                switch step.side {
                case .client: conversation.client(bytes)
                case .server: conversation.server(bytes)
                }
            }
            Self.checkInvariants(conversation, seed: UInt64(index))
        }
    }

    @Test("a huge declared packet length is skipped by counting, not buffered")
    func hugeDeclaredLength() {
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.le24(0xFF_FFFF) + [0, 0x03] + Array(repeating: 0x41, count: 200_000))
        let result = observeAllWays(conversation)
        #expect(result.observations == Conversation.loggedInObservations)
        #expect(result.observable)
    }
}
