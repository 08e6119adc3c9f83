import Faults
import Measurements
import Testing

@Suite("JournalTail: windows finished as they pass, measured as the whole journal")
struct JournalTailTests {
    static let reject = FaultSpec(type: .reject)

    /// A flapping reject (on `on` s, off `off` s) with a query client polling every second and a
    /// replica streaming, reconnecting after each window and resuming where it stopped.
    static func soak(windows: Int, on: Double = 10, off: Double = 10) -> JournalScript {
        var script = JournalScript()
        var conn: UInt64 = 1
        var position: UInt64 = 4
        let replica = { (script: inout JournalScript, time: Double, conn: UInt64, position: UInt64) in
            script.connect(time, conn: conn, client: "10.0.0.7:5\(conn % 10_000)", user: "repl")
            script.add(time + 0.03, .binlogDump, conn: conn, file: "mysql-bin.000001", position: position, serverID: 7)
            script.add(time + 0.05, .binlogFirstEvent, conn: conn, file: "mysql-bin.000001", position: position + 100)
        }
        var replicaConn = conn
        replica(&script, 0, conn, position)
        conn += 1
        var time = 1.0
        for window in 1...windows {
            let start = time + off
            while time < start {
                script.connect(time, conn: conn, client: "10.0.0.5:4\(conn % 10_000)")
                script.add(time + 0.2, .connClosed, conn: conn, detail: "client")
                conn += 1
                position += 50
                script.add(time + 0.5, .binlogProgress, conn: replicaConn, file: "mysql-bin.000001", position: position)
                time += 1
            }
            script.faultStarted(start, window: window, reject)
            script.add(start + 0.001, .connReset, conn: replicaConn, detail: "reject")
            script.add(start + 0.002, .connClosed, conn: replicaConn, file: "mysql-bin.000001", position: position, detail: "fault")
            for second in 1..<Int(on) {
                script.add(start + Double(second), .connRefused, window: window, client: "10.0.0.5:3\(second)")
            }
            script.faultEnded(start + on, window: window, reject, reason: .flapToggle)
            time = start + on + 0.5
            replicaConn = conn
            replica(&script, time, conn, position)
            conn += 1
            time += 1
        }
        return script
    }

    @Test("a soak's reports equal the whole journal's, and the tail stays the size of a few windows")
    func soakIsMeasuredExactlyWithABoundedTail() {
        let script = Self.soak(windows: 120)
        let events = script.closedByALaterFault()
        let whole = JournalTimeline(events).reports()
        #expect(whole.count == 121)
        var tail = JournalTail(grace: 5)
        var finished: [WindowReport] = []
        var largestTail = 0
        for (index, event) in events.enumerated() {
            var event = event
            event.seq = UInt64(index + 1)
            finished += tail.append(event)
            largestTail = max(largestTail, tail.events.count + tail.carried.count)
        }
        #expect(finished.count == 120)
        #expect(finished + tail.liveReports() == whole)
        #expect(largestTail < 200, "the tail held \(largestTail) events")
        #expect(whole.allSatisfy { $0.resume.first?.verdict == .maintained || $0.window == 121 })
    }

    @Test("a restart from the carried events and the tail measures the open windows as before")
    func restartFromCarriedAndTail() {
        let events = Self.soak(windows: 30).closedByALaterFault().enumerated().map { index, event in
            var event = event
            event.seq = UInt64(index + 1)
            return event
        }
        let whole = JournalTimeline(events).reports()
        var tail = JournalTail(grace: 5)
        var finished: [WindowReport] = []
        for event in events.prefix(events.count / 2) { finished += tail.append(event) }
        var restarted = JournalTail(carried: tail.carried, events: tail.events,
                                    finished: Set(finished.map(\.window)), grace: 5)
        for event in events.suffix(from: events.count / 2) { finished += restarted.append(event) }
        #expect(finished + restarted.liveReports() == whole)
    }

    @Test("without faults, the tail keeps only what a later window could read")
    func noFaultsNoGrowth() {
        var script = JournalScript()
        for second in 0..<30_000 {
            script.connect(Double(second), conn: UInt64(second + 1))
            script.add(Double(second) + 0.5, .connClosed, conn: UInt64(second + 1), detail: "client")
        }
        var tail = JournalTail()
        for (index, event) in script.events.enumerated() {
            var event = event
            event.seq = UInt64(index + 1)
            _ = tail.append(event)
        }
        #expect(tail.events.count + tail.carried.count <= 10_000)
    }
}
