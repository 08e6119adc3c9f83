import Faults
import Foundation
import Measurements
import Testing

/// Under a DROP a client that abandons a connect sends nothing: the wire bounds the moment it
/// gave up between the abandoned attempt's last SYN and its next attempt, and says no more.
@Suite("A client giving up silently under DROP: a bound, not a wrong exact time")
struct SilentGiveUpTests {
    static let fault = FaultSpec(type: .timeout, backend: .iptables)

    /// PyMySQL with connect_timeout=4, 1 s between attempts, as the kernel shows it: SYN at 0,
    /// retransmissions at 1 and 3, given up at 4, next attempt at 5 (and so on), seen by the ledger.
    static func pymysqlJournal(start: Double = JournalScript.base) -> [JournalEvent] {
        var ledger = AttemptLedger(window: 1, verdict: .drop)
        var events = [JournalEvent(at: start, kind: .faultStarted, window: 1, fault: fault)]
        for attempt in 0..<3 {
            let first = start + 0.1 + Double(attempt) * 5.0
            for retransmission in [0.0, 1, 3] {
                events += ledger.observe(client: "10.0.0.2:\(7000 + attempt)", syn: true, ack: false, fin: false, rst: false,
                                         at: first + retransmission)
            }
        }
        events.append(JournalEvent(at: start + 14.5, kind: .faultEnded, window: 1, fault: fault, detail: ClearReason.up.rawValue))
        return events
    }

    @Test("the ledger records the abandoned attempt's last SYN retransmission as last_seen")
    func ledgerRecordsLastSeen() throws {
        let gaveUp = Self.pymysqlJournal(start: 0).filter { $0.kind == .clientGaveUp }
        #expect(gaveUp.map(\.client) == ["10.0.0.2:7000", "10.0.0.2:7001"])
        #expect(gaveUp.map(\.at) == [5.1, 10.1])
        #expect(gaveUp.map(\.lastSeen) == [3.1, 8.1])
        // A FIN dates the moment itself: no last_seen.
        var ledger = AttemptLedger(window: 1, verdict: .drop)
        _ = ledger.observe(client: "10.0.0.3:9000", syn: true, ack: false, fin: false, rst: false, at: 1)
        let fin = ledger.observe(client: "10.0.0.3:9000", syn: false, ack: true, fin: true, rst: false, at: 2)
        #expect(fin.map(\.kind) == [.clientGaveUp])
        #expect(fin.first?.lastSeen == nil)
    }

    @Test("last_seen round-trips through the journal codec; a journal line without it still decodes")
    func codecIsBackwardCompatible() throws {
        let codec = JournalCodec()
        let event = JournalEvent(at: 12.5, kind: .clientGaveUp, window: 1, client: "10.0.0.2:7000",
                                 detail: "new attempt from 10.0.0.2:7001", lastSeen: 10.1234567)
        let line = try codec.encodeLine(event)
        #expect(String(decoding: line, as: UTF8.self).contains("\"last_seen\":10.12345"))
        #expect(try codec.decodeLine(line) == event)
        let old = #"{"at":12.5,"client":"10.0.0.2:7000","detail":"new attempt from 10.0.0.2:7001","kind":"client_gave_up","window":1}"#
        let decoded = try codec.decodeLine(Data(old.utf8))
        #expect(decoded.lastSeen == nil)
        #expect(decoded.kind == .clientGaveUp)
    }
}
