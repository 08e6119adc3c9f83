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

    @Test("detection is the bound: after the last SYN retransmission, at the next attempt; after is the latest")
    func detectionIsABound() throws {
        let report = try #require(JournalTimeline(Self.pymysqlJournal()).reports().first)
        let detection = try #require(report.detection)
        #expect(detection.event == .clientGaveUp)
        #expect(detection.isBounded)
        #expect(isClose(detection.earliest, 3.1))
        #expect(isClose(detection.latest, 5.1))
        #expect(isClose(detection.after, 5.1))
        #expect(detection.bound == "after its last SYN retransmission; its next attempt came at 5.1 s")
        #expect(report.description.contains("detected     gave up between 3.1 s and 5.1 s (after its last SYN retransmission; its next attempt came at 5.1 s)"),
                "\(report.description)")
        // The window's JSON carries both ends.
        let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        let object = try #require(json["detection"] as? [String: Any])
        #expect(object["earliest"] as? Double == 3.1)
        #expect(object["latest"] as? Double == 5.1)
        #expect(object["after"] as? Double == 5.1)
        #expect(try JSONDecoder().decode(WindowReport.self, from: JSONEncoder().encode(report)) == report)
    }

    @Test("each abandoned attempt has its own bound; intervals and the pattern use the attempts' first SYNs")
    func perAttemptBoundsAndExactIntervals() throws {
        let report = try #require(JournalTimeline(Self.pymysqlJournal()).reports().first)
        let attempts = report.attempts.attempts
        #expect(attempts.map(\.outcome) == [.gaveUp, .gaveUp, .dropped])
        #expect(areClose(attempts.map(\.after), [0.1, 5.1, 10.1]))
        #expect(areClose(attempts.compactMap(\.gaveUpEarliest), [3.1, 8.1]))
        #expect(areClose(attempts.compactMap(\.gaveUpLatest), [5.1, 10.1]))
        #expect(attempts[2].gaveUpEarliest == nil && attempts[2].gaveUpLatest == nil)
        #expect(areClose(report.attempts.intervals, [5, 5]))
        #expect(report.attempts.pattern == .fixed)
    }

    @Test("a journal from before last_seen bounds the moment by the attempt's first SYN, and says so")
    func oldJournalBoundsByTheFirstSYN() throws {
        var script = JournalScript()
        script.faultStarted(0, window: 1, Self.fault)
        script.add(0.7, .connDropped, window: 1, client: "10.0.0.5:41000")
        script.add(10.7, .clientGaveUp, window: 1, client: "10.0.0.5:41000", detail: "new attempt from 10.0.0.5:41001")
        script.add(10.7, .connDropped, window: 1, client: "10.0.0.5:41001")
        script.faultEnded(15, window: 1, Self.fault)
        let detection = try #require(script.reports().first?.detection)
        #expect(isClose(detection.earliest, 0.7) && isClose(detection.latest, 10.7) && isClose(detection.after, 10.7))
        #expect(detection.bound?.hasPrefix("after its first SYN (this journal does not record its retransmissions)") == true)
    }

    @Test("a client's FIN or RST dates its giving up exactly: no bound")
    func finIsExact() throws {
        var script = JournalScript()
        script.faultStarted(0, window: 1, Self.fault)
        script.add(0.5, .connDropped, window: 1, client: "10.0.0.5:41000")
        script.add(2.4, .clientGaveUp, window: 1, client: "10.0.0.5:41000", detail: "RST")
        script.faultEnded(5, window: 1, Self.fault)
        let report = try #require(script.reports().first)
        let detection = try #require(report.detection)
        #expect(!detection.isBounded)
        #expect(detection.earliest == nil && detection.latest == nil && detection.bound == nil)
        #expect(isClose(detection.after, 2.4))
        #expect(isClose(report.attempts.attempts.first?.gaveUpEarliest, 2.4))
        #expect(isClose(report.attempts.attempts.first?.gaveUpLatest, 2.4))
        #expect(report.description.contains("detected     after 2.4 s (client_gave_up RST)"), "\(report.description)")
    }

    @Test("the client's log line inside the bound dates the detection; lines outside it do not")
    func logDatesTheDetection() throws {
        let start = 1_796_292_000.0 // 2026-12-03 10:00:00 UTC
        let report = try #require(JournalTimeline(Self.pymysqlJournal(start: start)).reports().first)
        let utc = try #require(TimeZone(identifier: "UTC"))
        let lines = [
            "2026-12-03 10:00:01,000 WARNING slow start",                       // before the bound
            "2026-12-03 10:00:04,105 ERROR (2003, \"Can't connect to MySQL server (timed out)\")",
            "2026-12-03 10:00:09,105 ERROR (2003, \"Can't connect to MySQL server (timed out)\")",
        ]
        let dated = report.datingDetection(byLog: lines, source: "etl log /tmp/client.log", timeZone: utc)
        let detection = try #require(dated.detection)
        #expect(detection.logLine == lines[1])
        #expect(detection.logSource == "etl log /tmp/client.log")
        #expect(isClose(detection.after, 4.105))
        #expect(isClose(detection.earliest, 4.105) && isClose(detection.latest, 4.106))
        #expect(detection.bound?.contains("its own log, to the millisecond, within what the wire shows: between 3.1 s and 5.1 s") == true,
                "\(detection.bound ?? "")")
        #expect(dated.description.contains("gave up after 4.1 s, dated by its own log"), "\(dated.description)")

        // To the second (pg_chameleon's stamps): what is left of the bound is that second.
        let coarse = report.datingDetection(byLog: ["2026-12-03 10:00:04 MainProcess WARNING: Couldn't connect"],
                                            source: "etl log x", timeZone: utc).detection
        #expect(isClose(coarse?.earliest, 4) && isClose(coarse?.latest, 5) && isClose(coarse?.after, 4))
        // A second that straddles the bound's start is cut at it.
        let straddling = report.datingDetection(byLog: ["2026-12-03 10:00:03 MainProcess WARNING: Couldn't connect"],
                                                source: "etl log x", timeZone: utc).detection
        #expect(isClose(straddling?.earliest, 3.1) && isClose(straddling?.latest, 4))

        // No line inside the bound, or another zone that moves it out: unchanged.
        #expect(report.datingDetection(byLog: [lines[0], lines[2]], source: "x", timeZone: utc) == report)
        let paris = try #require(TimeZone(secondsFromGMT: 3600))
        #expect(report.datingDetection(byLog: [lines[1]], source: "x", timeZone: paris) == report)
        #expect(report.datingDetection(byLog: ["2026-12-03T11:00:04.105+01:00 error"], source: "x", timeZone: utc).detection?.logLine != nil)
    }
}
