import Foundation
import Measurements
import Testing

@Suite("JournalCodec")
struct JournalCodecTests {
    let codec = JournalCodec()

    static let everyField = JournalEvent(
        at: 1_760_000_000.123456, kind: .connClosed, window: 3, conn: 17, client: "10.0.0.5:51234",
        user: "hevo", fault: .latency(ms: 2000, jitterMs: 100, scope: .replication),
        file: "mysql-bin.000003", position: 1234, gtid: "0-1-100", serverID: 2, count: 4,
        code: 2013, message: "Lost connection", detail: "error: connection reset by peer")

    @Test func roundTripsEveryField() throws {
        let line = try codec.encodeLine(Self.everyField)
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(line.filter { $0 == UInt8(ascii: "\n") }.count == 1)
        #expect(try codec.decodeLine(line) == Self.everyField)
        let decoding = codec.decode(line + line)
        #expect(decoding.events == [Self.everyField, Self.everyField])
        #expect(!decoding.truncatedLastLine)
    }

    @Test func keysAreSnakeCaseAndNilsAreLeftOut() throws {
        let text = String(decoding: try codec.encodeLine(Self.everyField), as: UTF8.self)
        #expect(text.hasPrefix(#"{"at":1760000000.123456,"#))
        for key in ["\"server_id\":2", "\"latency_ms\":2000", "\"jitter_ms\":100", "\"kind\":\"conn_closed\""] {
            #expect(text.contains(key))
        }
        let minimal = String(
            decoding: try codec.encodeLine(JournalEvent(at: 1_760_000_000, kind: .note, detail: "x")), as: UTF8.self)
        #expect(minimal == #"{"at":1760000000,"detail":"x","kind":"note"}"# + "\n")
    }

    @Test func timesAreRoundedToTheMicrosecond() {
        #expect(JournalEvent(at: 1_760_000_000.1234567, kind: .note).at == 1_760_000_000.123457)
        let date = Date(timeIntervalSince1970: 1_760_000_000.0000002)
        #expect(JournalEvent.timestamp(date) == 1_760_000_000)
    }

    @Test func everyKindRoundTrips() throws {
        for kind in JournalEventKind.allCases {
            let event = JournalEvent(at: 1, kind: kind)
            #expect(try codec.decodeLine(codec.encodeLine(event)) == event)
        }
        #expect(JournalEventKind.binlogFirstEvent.rawValue == "binlog_first_event")
        #expect(JournalEventKind.authOK.rawValue == "auth_ok")
    }

    @Test func aTruncatedLastLineIsDropped() throws {
        let first = JournalEvent(at: 10, kind: .connAccepted, conn: 1, client: "10.0.0.5:5000")
        let second = JournalEvent(at: 11, kind: .authOK, conn: 1)
        var journal = try codec.encodeLine(first) + codec.encodeLine(second)
        let third = try codec.encodeLine(JournalEvent(at: 12, kind: .connClosed, conn: 1, detail: "client"))
        journal += third.prefix(third.count / 2)

        let decoding = codec.decode(journal)
        #expect(decoding.events == [first, second])
        #expect(decoding.truncatedLastLine)
        #expect(decoding.unreadableLines.isEmpty)
    }

    @Test func aCompleteLastLineWithoutNewlineIsKept() throws {
        let event = JournalEvent(at: 10, kind: .note, detail: "hello")
        let decoding = codec.decode(try codec.encodeLine(event).dropLast())
        #expect(decoding.events == [event])
        #expect(!decoding.truncatedLastLine)
    }

    @Test func aDamagedMiddleLineIsReportedAndSkipped() throws {
        let event = JournalEvent(at: 10, kind: .note, detail: "hello")
        let journal = try codec.encodeLine(event) + Data("{\"at\":11,\"ki{\"at\":12\n\n".utf8) + codec.encodeLine(event)
        let decoding = codec.decode(journal)
        #expect(decoding.events == [event, event])
        #expect(decoding.unreadableLines == [2])
        #expect(!decoding.truncatedLastLine)
    }

    @Test func anEmptyJournalHasNoEvents() {
        #expect(codec.decode(Data()) == JournalDecoding())
    }
}
