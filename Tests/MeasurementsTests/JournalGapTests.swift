import Faults
import Foundation
import Measurements
import Testing

@Suite("JournalGap: events the journal lost are reported, not measured across")
struct JournalGapTests {
    let base = JournalScript.base

    @Test func lossIsCountedUntilWritingWorksAgain() {
        var loss = JournalLoss()
        #expect(loss.gap(now: base) == nil)
        loss.failed(at: base + 30, diskFull: true, error: "No space left on device")
        loss.failed(at: base + 31, diskFull: true, error: "No space left on device")
        loss.failed(at: base + 40, diskFull: true, error: "No space left on device")
        let gap = try! #require(loss.gap(now: base + 79.3))
        #expect(gap.count == 3 && gap.from == base + 30 && gap.to == base + 79.3)
        #expect(gap.description.hasPrefix("3 events lost: disk full from 2025-10-09T"), "\(gap.description)")
        #expect(gap.description.contains(" to 2025-10-09T") && gap.description.hasSuffix("Z"), "\(gap.description)")
        let event = gap.event
        #expect(event.kind == .gap && event.at == base + 30 && event.count == 3 && event.detail == gap.description)
        loss.reset()
        #expect(loss.isEmpty)

        var other = JournalLoss()
        other.failed(at: base, diskFull: false, error: "Input/output error")
        #expect(other.gap(now: base + 1)?.description.hasPrefix("1 event lost: write failed (Input/output error) from ") == true)
    }

    @Test func aTornLineIsOneEventFromItsOwnTimeWhenThatIsWhole() {
        let whole = JournalGap.tornLine(Array(#"{"at":1760000030.25,"conn":4,"kind":"conn"#.utf8), lastWhole: base + 20, foundAt: base + 90)
        #expect(whole == JournalGap(count: 1, from: 1760000030.25, to: base + 90, cause: "a line cut short"))
        // Its time itself cut short: from the last whole event.
        let cut = JournalGap.tornLine(Array(#"{"at":17600"#.utf8), lastWhole: base + 20, foundAt: base + 90)
        #expect(cut.from == base + 20)
        #expect(JournalGap.tornLine(Array("garbage".utf8), lastWhole: nil, foundAt: base + 90).from == base + 90)
    }

    /// The issue: window 2's start and window 1's end were lost; window 1 then grew across
    /// window 2 to the next fault. Now it stops at the gap and says so.
    @Test func aWindowWithNoEndBeforeAGapStopsAtTheGap() {
        var script = JournalScript()
        script.faultStarted(0, window: 1, reject)
        script.add(1, .connRefused, client: "10.0.0.5:40001")
        script.add(2, .connRefused, client: "10.0.0.5:40002")
        // Lost: window 1's end at 30, window 2 (30..60) entirely.
        let gap = JournalGap(count: 40, from: base + 30, to: base + 79.3, cause: "disk full")
        script.append(gap.event)
        script.add(80, .connRefused, client: "10.0.0.5:40003")
        script.connect(81, conn: 9)
        script.faultStarted(100, window: 3, timeout)
        script.faultEnded(110, window: 3, timeout)
        let reports = script.reports()
        let first = try! #require(reports.first { $0.window == 1 })
        #expect(first.ended == nil && first.duration == nil)
        #expect(first.journalGaps == [gap.description])
        #expect(first.attempts.total == 2, "attempts after the gap are not window 1's: \(first.attempts)")
        #expect(first.reconnectedAfter == nil)
        let text = first.description
        #expect(text.hasPrefix("reject window 1: still active, or ended among events the journal lost"), "\(text)")
        #expect(text.contains("  gap          40 events lost: disk full from "), "\(text)")
        // The next window the journal has is measured as usual, without the gap.
        let third = try! #require(reports.first { $0.window == 3 })
        #expect(third.journalGaps == nil && isClose(third.duration, 10))
    }

    @Test func aWindowThatEndedIsNotMeasuredAcrossAGapAfterItsEnd() {
        var script = JournalScript()
        script.faultStarted(0, window: 1, reject)
        script.faultEnded(30, window: 1, reject, reason: .expired)
        script.append(JournalGap(count: 5, from: base + 31, to: base + 50, cause: "disk full").event)
        // A login after the gap may be a reconnect after a window whose start was lost.
        script.connect(51, conn: 2)
        let report = try! #require(script.reports().first)
        #expect(isClose(report.duration, 30))
        #expect(report.reconnectedAfter == nil)
        #expect(report.journalGaps?.count == 1)
        #expect(report.description.hasPrefix("reject window 1: 30.0 s, ended (expired)"))
    }

    @Test func aLongFaultEndedAfterAGapKeepsItsEnd() {
        var script = JournalScript()
        script.faultStarted(0, window: 1, reject)
        script.append(JournalGap(count: 2, from: base + 10, to: base + 20, cause: "disk full").event)
        script.faultEnded(60, window: 1, reject)
        script.connect(61, conn: 3)
        let report = try! #require(script.reports().first)
        #expect(isClose(report.duration, 60))
        #expect(isClose(report.reconnectedAfter, 1.02))
        #expect(report.journalGaps?.count == 1)
    }

    @Test func reportsWithoutGapsEncodeAsBefore() throws {
        var script = JournalScript()
        script.faultStarted(0, window: 1, reject)
        script.faultEnded(1, window: 1, reject)
        let report = try #require(script.reports().first)
        let json = String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
        #expect(!json.contains("journal_gaps"))
        #expect(try JSONDecoder().decode(WindowReport.self, from: Data(json.utf8)) == report)
    }
}
