import Testing

@testable import MySQLProtocol

@Suite("GTID set text")
struct GTIDSetTests {
    let first = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    let second = "9b2d3a4c-0f1e-11ef-8a7b-0242ac120002"

    @Test("untagged sets: ranges, single numbers, several sids")
    func untagged() {
        let encoded = Wire.encodedGTIDSet([
            (Wire.uuid(first), [(1, 6), (7, 8), (10, 21)]),
            (Wire.uuid(second), [(1, 4)]),
        ])
        let decoded = GTIDSetText.decode(encoded[...], mayBeTruncated: false)
        #expect(decoded == .init(text: "\(first):1-5:7:10-20,\(second):1-3", isComplete: true))
    }

    @Test("the empty set")
    func empty() {
        #expect(GTIDSetText.decode(Wire.le64(0)[...], mayBeTruncated: false) == .init(text: "", isComplete: true))
    }

    @Test("tagged format (MySQL 8.3+): tags follow the uuid, same uuid entries merge")
    func tagged() {
        var encoded = Wire.le64((1 << 56) | (2 << 8) | 1)
        encoded += Wire.uuid(first) + [0] + Wire.le64(1) + Wire.le64(1) + Wire.le64(4)
        encoded += Wire.uuid(first) + [UInt8("etl".utf8.count << 1)] + Array("etl".utf8)
        encoded += Wire.le64(1) + Wire.le64(1) + Wire.le64(2)
        let decoded = GTIDSetText.decode(encoded[...], mayBeTruncated: false)
        #expect(decoded == .init(text: "\(first):1-3:etl:1", isComplete: true))
    }

    static let sid = Wire.uuid("3e11fa47-71ca-11e1-9e33-c80aa9429562")
    static let invalidEncodings: [[UInt8]] = {
        var cases: [[UInt8]] = []
        cases.append(Wire.le64(1))  // one sid, no bytes
        var emptyInterval = Wire.le64(1) + sid + Wire.le64(1)
        emptyInterval += Wire.le64(5) + Wire.le64(5)
        cases.append(emptyInterval)
        var overlapping = Wire.le64(1) + sid + Wire.le64(2)
        overlapping += Wire.le64(1) + Wire.le64(5)
        overlapping += Wire.le64(3) + Wire.le64(9)
        cases.append(overlapping)
        cases.append(Wire.le64(7 << 56))  // unknown format
        cases.append(Wire.le64(UInt64.max >> 8))  // absurd sid count
        return cases
    }()

    @Test("impossible encodings are rejected", arguments: invalidEncodings)
    func invalid(encoded: [UInt8]) {
        #expect(GTIDSetText.decode(encoded[...], mayBeTruncated: false) == nil)
    }

    @Test("a set cut off by the capture limit decodes its complete prefix")
    func truncated() {
        let encoded = Wire.encodedGTIDSet([
            (Wire.uuid(first), [(1, 6)]),
            (Wire.uuid(second), [(1, 4)]),
        ])
        let decoded = GTIDSetText.decode(encoded.prefix(encoded.count - 5), mayBeTruncated: true)
        #expect(decoded == .init(text: "\(first):1-5", isComplete: false))
    }

    @Test("a COM_BINLOG_DUMP_GTID whose set exceeds 64 KiB is reported with a '...' suffix")
    func hugeSetInDump() {
        let intervals: [(UInt64, UInt64)] = (0..<UInt64(5000)).map { (index: UInt64) -> (UInt64, UInt64) in
            (index * 10 + 1, index * 10 + 2)
        }
        let encoded = Wire.encodedGTIDSet([(Wire.uuid(first), intervals)])
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.binlogDumpGTID(file: "", position: 4, serverID: 5, encodedSet: encoded))
        let result = observeAllWays(conversation)
        guard case .binlogDumpGTID(_, _, 5, let text) = result.observations.last else {
            Issue.record("no dump observed: \(result.observations)")
            return
        }
        #expect(text.hasPrefix("\(first):1:11:21:"))
        #expect(text.hasSuffix("..."))
        #expect(result.observable)
    }

    @Test("UUID formatting")
    func uuidText() {
        #expect(GTIDSetText.formatUUID(Wire.uuid(first)[...]) == first)
    }
}

@Suite("CRC32")
struct CRC32Tests {
    @Test("known answer and agreement with the bitwise reference")
    func knownAnswer() {
        #expect(CRC32.checksum(Array("123456789".utf8)[...]) == 0xCBF4_3926)
        var generator = SeededGenerator(seed: 1)
        let bytes = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(CRC32.checksum(bytes[...]) == ReferenceCRC32.checksum(bytes))
    }
}
