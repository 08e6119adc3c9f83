import Faults
import Foundation
import Measurements
import Testing

@Suite("Window measurements")
struct WindowReportTests {
    /// A binlog client (server_id 2) streaming; reject at t=10 for 6.5 s; it retries every
    /// second and resumes where it stopped.
    static func rejectWithFixedRetry() -> JournalScript {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, file: "mysql-bin.000003", position: 4, serverID: 2)
        script.add(1, .binlogFirstEvent, conn: 1, file: "mysql-bin.000003", position: 500)
        script.add(5, .binlogProgress, conn: 1, file: "mysql-bin.000003", position: 1234)
        script.faultStarted(10, window: 3, reject)
        script.add(10.002, .connReset, conn: 1)
        script.add(10.003, .connClosed, conn: 1, file: "mysql-bin.000003", position: 1234, detail: "fault")
        for second in 11...16 {
            script.add(Double(second), .connRefused, client: "10.0.0.5", count: 1)
        }
        script.faultEnded(16.5, window: 3, reject)
        script.connect(17, conn: 2, client: "10.0.0.5:40002")
        script.add(17.3, .authOK, conn: 2)
        script.add(17.35, .binlogDump, conn: 2, file: "mysql-bin.000003", position: 1234, serverID: 2)
        script.add(17.4, .binlogFirstEvent, conn: 2, file: "mysql-bin.000003", position: 1500)
        return script
    }

    @Test func rejectWithFixedRetry() throws {
        let reports = Self.rejectWithFixedRetry().reports()
        let report = try #require(reports.first)
        #expect(reports.count == 1)
        #expect(report.window == 3)
        #expect(report.fault == reject)
        #expect(isClose(report.duration, 6.5))
        #expect(report.endReason == .up)

        let detection = try #require(report.detection)
        #expect(detection.event == .connReset)
        #expect(isClose(detection.after, 0.002))

        #expect(report.attempts.total == 7)
        #expect(report.attempts.attempts.map(\.kind) == Array(repeating: .refused, count: 6) + [.accepted])
        #expect(report.attempts.attempts.last?.outcome == .authenticated)
        #expect(areClose(report.attempts.intervals, [1, 1, 1, 1, 1, 1]))
        #expect(report.attempts.pattern == .fixed)
        #expect(isClose(report.attempts.medianInterval, 1))
        #expect(!report.attempts.estimatedTimes)

        #expect(report.connections.openAtStart == 1 && report.connections.survived == 0 && report.connections.lost.count == 1)
        #expect(isClose(report.reconnectedAfter, 0.52))
        #expect(isClose(report.replicationResumedAfter, 0.9))

        let resume = try #require(report.resume.first)
        #expect(report.resume.count == 1)
        #expect(resume.client == "server_id 2")
        #expect(resume.serverID == 2)
        #expect(resume.verdict == .maintained)
        #expect(resume.lastForwarded == ResumePoint(file: "mysql-bin.000003", position: 1234))
        #expect(isClose(resume.requestedAfter, 7.35))

        #expect(report.description == """
            reject window 3: 6.5 s, ended (up)
              detected     after 0.002 s (conn_reset)
              attempts     7 attempts at 1.00 s, 2.00 s, 3.00 s, 4.00 s, 5.00 s, 6.00 s, 7.00 s, fixed every ~1.00 s
              connections  0 of 1 open at start survived
              lost         conn 1 (10.0.0.5:40000) after 0.002 s (conn_reset)
              reconnected  0.5 s after restore
              replication  resumed 0.9 s after restore
              resume       server_id 2: maintained (mysql-bin.000003:1234)
              caveat       server_id 2: its connection was reset mid-stream: a maintained position cannot rule out losing what it had been sent but not yet applied; `toolkit verify` at the destination can
            """)
    }

    @Test func backoffRetry() throws {
        var script = JournalScript()
        script.connect(-5, conn: 1)
        script.faultStarted(0, window: 1, reject)
        script.add(0.001, .connReset, conn: 1)
        for time in [1.0, 2, 4, 8, 16] {
            script.add(time, .connRefused, count: 1)
        }
        script.faultEnded(20, window: 1, reject)
        script.connect(32, conn: 2)
        let report = try #require(script.reports().first)
        #expect(report.attempts.total == 6)
        #expect(areClose(report.attempts.intervals, [1, 2, 4, 8, 16]))
        #expect(report.attempts.pattern == .backoff)
        #expect(isClose(report.reconnectedAfter, 12.02))
        #expect(report.description.contains("attempts     6 attempts at 1.00 s, 2.00 s, 4.00 s, 8.00 s, 16.00 s, 32.00 s, backoff 1.00 s → 16.00 s"))
        // No binlog client: nothing to resume.
        #expect(report.resume.isEmpty)
        #expect(report.replicationResumedAfter == nil)
    }

    @Test func refusedCountsAreSpreadOverTheirSamplePeriod() throws {
        var script = JournalScript()
        script.faultStarted(0, window: 1, reject)
        script.add(3, .connRefused, count: 3)
        script.add(6, .connRefused, count: 3)
        let report = try #require(script.reports().first)
        #expect(report.attempts.total == 6)
        #expect(report.attempts.attempts.count == 2)
        #expect(report.attempts.estimatedTimes)
        #expect(areClose(report.attempts.intervals, [1, 1, 1, 1, 1]))
        #expect(report.attempts.pattern == .fixed)
        #expect(report.detection?.event == .connRefused)
        #expect(isClose(report.detection?.after, 3))
    }

    /// A timeout: nothing fails; the client notices when it gives up on a connection.
    /// A connect attempt the timeout held open goes through once the network is back: that is the reconnect.
    @Test func aConnectHeldByTheTimeoutCountsAsTheReconnect() throws {
        var script = JournalScript()
        let timeout = FaultSpec(type: .timeout)
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 2)
        script.faultStarted(10, window: 1, timeout)
        script.add(14, .connClosed, conn: 1, file: "mysql-bin.000001", position: 900, detail: "client")
        script.add(15, .connAccepted, conn: 2, client: "10.0.0.5:40010")
        script.faultEnded(20, window: 1, timeout)
        script.add(20.01, .handshake, conn: 2, user: "hevo")
        script.add(20.02, .authOK, conn: 2)
        script.add(20.03, .binlogDump, conn: 2, file: "mysql-bin.000001", position: 900, serverID: 2)
        script.add(20.04, .binlogFirstEvent, conn: 2, file: "mysql-bin.000001", position: 1200)
        let report = try #require(script.reports().first)
        #expect(isClose(report.reconnectedAfter, 0.02))
        #expect(isClose(report.replicationResumedAfter, 0.04))
        #expect(report.resume.first?.verdict == .maintained)
    }

    @Test func timeoutIsDetectedWhenTheClientGivesUp() throws {
        var script = JournalScript()
        script.connect(-10, conn: 1)
        script.connect(-10, conn: 3, client: "10.0.0.6:40000")
        script.faultStarted(0, window: 1, timeout)
        script.add(0.5, .connAccepted, conn: 2, client: "10.0.0.5:40001")
        script.add(5, .connClosed, conn: 3, detail: "server")
        script.add(30, .connClosed, conn: 1, detail: "client")
        script.add(40, .connClosed, conn: 2, detail: "error: connection reset by peer")
        script.faultEnded(60, window: 1, timeout, reason: .expired)
        let report = try #require(script.reports().first)
        let detection = try #require(report.detection)
        #expect(detection.event == .connClosed)
        #expect(detection.detail == "client")
        #expect(isClose(detection.after, 30))
        #expect(report.attempts.attempts.map(\.outcome) == [.closed])
        #expect(report.attempts.pattern == .single)
        #expect(report.reconnectedAfter == nil)
        #expect(report.connections.openAtStart == 2 && report.connections.survived == 0 && report.connections.lost.count == 2)
        #expect(report.description.contains("reconnected  not yet"))
        #expect(report.description.hasPrefix("timeout window 1: 60.0 s, ended (expired)"))
    }

    /// The gateway holds a timed-out replica's old connection, so it sees the replica's new
    /// connect (same server id) before it sees the old one close: the new connect is the detection.
    @Test func aTimedOutReplicaReconnectingIsTheDetection() throws {
        var script = JournalScript()
        script.connect(-10, conn: 1)
        script.add(-9.9, .binlogDump, conn: 1, file: "", position: 4, gtid: "0-1-5", serverID: 2)
        script.connect(-8, conn: 5, client: "10.0.0.9:40000")        // another client's query connection
        script.faultStarted(0, window: 1, timeout)
        script.add(2, .connAccepted, conn: 6, client: "10.0.0.9:40001")  // not the replica: no detection
        script.add(4.5, .connAccepted, conn: 2, client: "10.0.0.5:40002")
        script.faultEnded(10, window: 1, timeout)
        script.add(10.01, .connClosed, conn: 1, detail: "error: connection reset by peer")
        script.add(10.02, .handshake, conn: 2, user: "hevo")
        script.add(10.03, .authOK, conn: 2)
        script.add(10.04, .binlogDump, conn: 2, file: "", position: 4, gtid: "0-1-9", serverID: 2)
        let report = try #require(script.reports().first)
        let detection = try #require(report.detection)
        #expect(detection.event == .connAccepted)
        #expect(detection.conn == 2)
        #expect(isClose(detection.after, 4.5))
        #expect(isClose(report.reconnectedAfter, 0.03))
    }

    @Test func aTimeoutTheClientNeverNoticed() throws {
        var script = JournalScript()
        script.connect(-10, conn: 1)
        script.faultStarted(0, window: 1, timeout)
        script.faultEnded(60, window: 1, timeout)
        script.add(61, .connClosed, conn: 1, detail: "client")
        let report = try #require(script.reports().first)
        #expect(report.detection == nil)
        #expect(report.connections.openAtStart == 1 && report.connections.survived == 1 && report.connections.lost.count == 0)
        #expect(report.description.contains("detected     not while the fault lasted"))
    }

    @Test func noReconnectYetWhileTheFaultIsActive() throws {
        var script = JournalScript()
        script.connect(-10, conn: 1)
        script.add(-9, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 7)
        script.faultStarted(0, window: 1, reject)
        script.add(0.01, .connClosed, conn: 1, file: "mysql-bin.000001", position: 900, detail: "fault")
        script.add(2, .connRefused, count: 1)
        let report = try #require(script.reports().first)
        #expect(report.ended == nil)
        #expect(report.duration == nil)
        #expect(report.reconnectedAfter == nil)
        #expect(report.replicationResumedAfter == nil)
        #expect(report.attempts.pattern == .single)
        #expect(report.resume.map(\.verdict) == [.unknown])
        #expect(report.resume.first?.note == "no binlog dump after the fault started")
        #expect(report.resume.first?.lastForwarded == ResumePoint(file: "mysql-bin.000001", position: 900))
        #expect(report.description.hasPrefix("reject window 1: still active\n"))
        #expect(report.description.contains("reconnected  - (fault still active)"))
    }

    @Test func aReconnectAfterTheNextFaultStartedBelongsToTheNextWindow() throws {
        var script = JournalScript()
        script.connect(-10, conn: 1)
        script.faultStarted(0, window: 1, reject)
        script.add(0.01, .connReset, conn: 1)
        script.add(1, .connRefused, count: 1)
        script.faultEnded(30, window: 1, reject, reason: .flapToggle)
        script.faultStarted(60, window: 2, reject)
        script.add(61, .connRefused, count: 1)
        script.faultEnded(90, window: 2, reject, reason: .flapToggle)
        script.connect(95, conn: 2)
        let reports = script.reports()
        #expect(reports.map(\.window) == [1, 2])
        #expect(reports[0].reconnectedAfter == nil)
        #expect(reports[0].attempts.total == 1)
        #expect(isClose(reports[1].reconnectedAfter, 5.02))
        #expect(reports[1].attempts.total == 2)
        #expect(reports[1].detection?.event == .connRefused)
    }

    @Test func aReplicationScopedFaultIgnoresQueryConnections() throws {
        var script = JournalScript()
        script.connect(-10, conn: 1)
        script.connect(-10, conn: 2, client: "10.0.0.5:40001")
        script.add(-9, .binlogDump, conn: 2, file: "mysql-bin.000001", position: 4, serverID: 2)
        let fault = FaultSpec(type: .reject, scope: .replication)
        script.faultStarted(0, window: 1, fault)
        script.add(0.001, .connClosed, conn: 1, detail: "client")
        script.add(0.005, .connReset, conn: 2)
        script.faultEnded(10, window: 1, fault)
        script.connect(10.5, conn: 3, client: "10.0.0.5:40003")
        script.connect(11, conn: 4, client: "10.0.0.5:40004")
        script.add(11.1, .binlogDump, conn: 4, file: "mysql-bin.000001", position: 4, serverID: 2)
        let report = try #require(script.reports().first)
        #expect(report.detection?.event == .connReset)
        #expect(isClose(report.detection?.after, 0.005))
        #expect(report.connections.openAtStart == 1 && report.connections.survived == 0 && report.connections.lost.count == 1)
        // conn 3 never dumps: not a replication connection, so not the reconnect.
        #expect(isClose(report.reconnectedAfter, 1.02))
        #expect(report.attempts.attempts.map(\.conn) == [4])
    }

    @Test func resetWindowHasNoLengthButSeesItsResets() throws {
        var script = JournalScript()
        script.connect(-10, conn: 1)
        script.faultStarted(0, window: 1, resetSpec)
        script.faultEnded(0, window: 1, resetSpec, reason: .expired)
        script.add(0.001, .connReset, conn: 1)
        script.connect(0.2, conn: 2)
        let report = try #require(script.reports().first)
        #expect(report.duration == 0)
        #expect(report.detection?.event == .connReset)
        #expect(report.connections.openAtStart == 1 && report.connections.survived == 0 && report.connections.lost.count == 1)
        #expect(isClose(report.reconnectedAfter, 0.22))
        #expect(report.attempts.total == 1)
    }

    @Test func connectionsThatStayOpenThroughLatencyNeedNoReconnect() throws {
        var script = JournalScript()
        script.connect(-10, conn: 1)
        let latency = FaultSpec.latency(ms: 2000)
        script.faultStarted(0, window: 1, latency)
        script.faultEnded(60, window: 1, latency)
        let report = try #require(script.reports().first)
        #expect(report.detection == nil)
        #expect(report.connections.openAtStart == 1 && report.connections.survived == 1 && report.connections.lost.count == 0)
        #expect(report.attempts.pattern == .none)
        #expect(report.description.contains("reconnected  not needed: every connection stayed open"))
        #expect(report.description.contains("attempts     none"))
    }

    /// A stopped server closes the connection itself: that is not the client noticing. Its next
    /// connect is.
    @Test func aServiceFaultTellsTheServersCloseFromTheClientsReaction() throws {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.add(0.1, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 2)
        script.faultStarted(1, window: 1, service)
        script.add(1.02, .serverError, conn: 1, code: 1053, message: "Server shutdown in progress")
        script.add(1.03, .connClosed, conn: 1, file: "mysql-bin.000001", position: 900, detail: "server")
        script.add(11.98, .connAccepted, conn: 2, client: "10.0.0.5:41000")
        script.add(11.99, .connClosed, conn: 2, detail: "error: upstream connect failed")
        script.faultEnded(20, window: 1, service)
        let report = try #require(script.reports().first)
        #expect(report.serverClosed == ServerClose(after: 0.02, conn: 1, code: 1053, message: "Server shutdown in progress"))
        #expect(report.detection?.event == .connAccepted)
        #expect(isClose(report.detection?.after, 10.98))
        #expect(report.description.contains(
            "detected     after 11.0 s (conn_accepted); the server closed the connection at 0.02 s (1053 Server shutdown in progress)"))
    }

    /// Debezium logs the lost connection the moment the server closes it and connects again
    /// seconds later: its log line is its first reaction.
    @Test func underAServiceFaultTheClientsLogLineCanBeItsReaction() throws {
        let start = 1_796_292_000.0 // 2026-12-03 10:00:00 UTC
        let events = [
            JournalEvent(at: start - 5, kind: .connAccepted, conn: 1, client: "10.0.0.5:40000"),
            JournalEvent(at: start, kind: .faultStarted, window: 1, fault: service),
            JournalEvent(at: start + 0.02, kind: .connClosed, conn: 1, detail: "server"),
            JournalEvent(at: start + 10.98, kind: .connAccepted, conn: 2, client: "10.0.0.5:41000"),
            JournalEvent(at: start + 20, kind: .faultEnded, window: 1, fault: service, detail: ClearReason.up.rawValue),
        ]
        let report = try #require(JournalTimeline(events).reports().first)
        #expect(report.detection?.event == .connAccepted)
        let utc = try #require(TimeZone(identifier: "UTC"))
        let lines = [
            "2026-12-03 10:00:00,031 ERROR Error during binlog processing. Last offset stored = null",
            "2026-12-03 10:00:12,000 ERROR Connector error",
        ]
        let dated = report.datingDetection(byLog: lines, source: "etl log /tmp/debezium.log", timeZone: utc)
        let detection = try #require(dated.detection)
        #expect(detection.logLine == lines[0])
        #expect(detection.event == .connClosed && detection.conn == 1)
        #expect(isClose(detection.after, 0.031) && isClose(detection.latest, 0.032))
        #expect(dated.description.contains("detected     reacted after 0.031 s, dated by its own log, to the millisecond,"
            + " after the server closed the connection: \"\(lines[0])\" (etl log /tmp/debezium.log); the server closed the connection at 0.02 s"),
            "\(dated.description)")
        // A line before the server's close, or after the client's next connect, is not its reaction.
        #expect(report.datingDetection(byLog: ["2026-12-03 09:59:59,500 ERROR earlier", lines[1]], source: "x", timeZone: utc) == report)
    }

    @Test func aServiceFaultTheClientDidNotReactToHasNoDetection() throws {
        var script = JournalScript()
        script.connect(0, conn: 1)
        script.faultStarted(1, window: 1, service)
        script.add(1.05, .connClosed, conn: 1, detail: "server")
        script.faultEnded(5, window: 1, service)
        let report = try #require(script.reports().first)
        #expect(report.detection == nil)
        #expect(report.serverClosed == ServerClose(after: 0.05, conn: 1))
        #expect(report.description.contains("detected     not while the fault lasted; the server closed the connection at 0.05 s"))
    }

    /// Under a network fault the server itself is untouched: an error it sends is the client's
    /// own query's, not the fault's. The refused connect after it is the detection.
    @Test func aServerErrorUnderANetworkFaultIsNotDetection() throws {
        var script = JournalScript()
        script.connect(0.5, conn: 1)
        script.faultStarted(1, window: 1, FaultSpec(type: .reject))
        script.add(1.03, .serverError, conn: 1, code: 1305, message: "FUNCTION testdb.f does not exist")
        script.add(1.9, .connRefused, client: "10.0.0.5")
        script.faultEnded(3, window: 1, FaultSpec(type: .reject))
        let report = try #require(script.reports().first)
        #expect(report.detection?.event == .connRefused)
        #expect(report.detection?.after == 0.9)
    }

    @Test func reportsRoundTripThroughJSON() throws {
        let reports = Self.rejectWithFixedRetry().reports()
        let data = try JSONEncoder().encode(reports)
        let json = String(decoding: data, as: UTF8.self)
        #expect(json.contains("\"reconnected_after\""))
        #expect(json.contains("\"median_interval\""))
        #expect(try JSONDecoder().decode([WindowReport].self, from: data) == reports)
    }

    @Test func eventsOutOfOrderAreSortedByTime() throws {
        let script = Self.rejectWithFixedRetry()
        let shuffled = JournalTimeline(script.events.reversed()).reports()
        #expect(shuffled == script.reports())
    }

    /// A journal that begins after a connection was accepted, and an agent restart that
    /// hands out connection id 1 again.
    @Test func connectionsSeenWithoutTheirAcceptAndReusedIDs() throws {
        var script = JournalScript()
        script.add(1, .binlogProgress, conn: 1, file: "mysql-bin.000001", position: 300)
        script.faultStarted(10, window: 1, reject)
        script.add(10.001, .connClosed, conn: 1, detail: "fault")
        script.faultEnded(20, window: 1, reject)
        script.connect(21, conn: 1, client: "10.0.0.5:40009")
        let report = try #require(script.reports().first)
        #expect(report.connections.openAtStart == 1 && report.connections.survived == 0 && report.connections.lost.count == 1)
        #expect(isClose(report.reconnectedAfter, 1.02))
        #expect(report.attempts.attempts.map(\.outcome) == [.authenticated])
    }

    /// Item 7 of the issue: pg_chameleon's binlog reader, reset by the kernel under an iptables
    /// reject (its RST never reached the gateway), must be reported lost, never "not needed".
    @Test func aKernelResetReplicationConnectionIsLostNotSurviving() throws {
        var script = JournalScript()
        script.connect(-10, conn: 1, client: "10.0.0.9:50000")
        script.add(-9, .binlogDump, conn: 1, file: "mysql-bin.000001", position: 4, serverID: 7)
        script.add(-8, .binlogFirstEvent, conn: 1, file: "mysql-bin.000001", position: 500)
        let fault = FaultSpec(type: .reject, backend: .iptables)
        script.faultStarted(0, window: 1, fault)
        script.add(2.5, .connReset, window: 1, conn: 1, client: "10.0.0.9:50000", detail: AttemptLedger.kernelResetDetail)
        script.add(2.51, .connClosed, conn: 1, detail: "fault")
        script.faultEnded(10, window: 1, fault)
        let report = try #require(script.reports().first)
        #expect(report.connections.openAtStart == 1)
        #expect(report.connections.survived == 0)
        let lost = try #require(report.connections.lost.first)
        #expect(lost.conn == 1 && lost.replication && isClose(lost.after, 2.5))
        #expect(lost.how == "conn_reset: kernel reset (iptables reject)")
        #expect(report.detection?.event == .connReset)
        #expect(report.replicationResumedAfter == nil)
        let text = report.description
        #expect(!text.contains("not needed"), "\(text)")
        #expect(text.contains("lost         conn 1 (10.0.0.9:50000) after 2.5 s (conn_reset: kernel reset (iptables reject))"))
        #expect(text.contains("replication  not yet: the replication connection was lost after 2.5 s"))
    }

    /// Item 2 of the issue: under DROP nothing is refused; each connect is one attempt with its
    /// client port, and detection is the client giving up.
    @Test func droppedAttemptsAreNotRefusalsAndDetectionIsGivingUp() throws {
        var script = JournalScript()
        let fault = FaultSpec(type: .timeout, backend: .iptables)
        script.faultStarted(0, window: 1, fault)
        script.add(0.7, .connDropped, window: 1, client: "10.0.0.5:41000")
        script.add(10.7, .clientGaveUp, window: 1, client: "10.0.0.5:41000", detail: "new attempt from 10.0.0.5:41001")
        script.add(10.7, .connDropped, window: 1, client: "10.0.0.5:41001")
        script.faultEnded(15, window: 1, fault)
        let report = try #require(script.reports().first)
        #expect(report.attempts.total == 2)
        #expect(report.attempts.attempts.map(\.kind) == [.dropped, .dropped])
        #expect(report.attempts.attempts.map(\.client) == ["10.0.0.5:41000", "10.0.0.5:41001"])
        #expect(report.attempts.attempts.map(\.outcome) == [.gaveUp, .dropped])
        #expect(areClose(report.attempts.intervals, [10]))
        let detection = try #require(report.detection)
        #expect(detection.event == .clientGaveUp)
        #expect(isClose(detection.after, 10.7))
    }

    @Test func aTimeoutWithOnlyDroppedConnectsHasNoDetection() throws {
        var script = JournalScript()
        let fault = FaultSpec(type: .timeout, backend: .iptables)
        script.faultStarted(0, window: 1, fault)
        script.add(0.7, .connDropped, window: 1, client: "10.0.0.5:41000")
        script.faultEnded(5, window: 1, fault)
        let report = try #require(script.reports().first)
        #expect(report.detection == nil)
        #expect(report.attempts.attempts.map(\.kind) == [.dropped])
    }

    @Test func aFrozenConnectionTheClientGaveUpOnIsLost() throws {
        var script = JournalScript()
        script.connect(-10, conn: 1, client: "10.0.0.5:40000")
        let fault = FaultSpec(type: .timeout, backend: .iptables)
        script.faultStarted(0, window: 1, fault)
        script.add(3, .clientGaveUp, window: 1, conn: 1, client: "10.0.0.5:40000", detail: "FIN")
        script.faultEnded(10, window: 1, fault)
        let report = try #require(script.reports().first)
        #expect(report.connections.survived == 0)
        #expect(report.connections.lost.first?.how == "client_gave_up: FIN")
        #expect(report.detection?.event == .clientGaveUp)
        #expect(!report.description.contains("not needed"))
    }

    /// An agent that may not log packets cannot see refused connects: the window says so
    /// instead of reporting "none".
    @Test func refusalsAnUnprivilegedAgentCannotSeeAreFlagged() throws {
        var script = JournalScript()
        script.faultStarted(0, window: 1, reject)
        script.add(0, .note, window: 1, detail: AttemptSeries.unobservedNote)
        script.faultEnded(5, window: 1, reject)
        let report = try #require(script.reports().first)
        #expect(report.attempts.unobserved != nil)
        #expect(report.description.contains("attempts     none; refused connects not observed"))
        let observed = try #require(Self.rejectWithFixedRetry().reports().first)
        #expect(observed.attempts.unobserved == nil)
    }
}

@Suite("A query-based sync's reads: its rhythm, its reads during a fault, its first read after the restore")
struct QueryReadTests {
    @Test("rhythm from the starts of its runs; reads during the fault counted; the first successful read after the restore")
    func reads() throws {
        var script = JournalScript()
        let fault = FaultSpec(type: .reject)
        // A sync that runs every 5 s: each run reads twice within a second; the bookkeeping never counts.
        for run in 0..<4 {
            let at = Double(run) * 5
            script.connect(at, conn: UInt64(run + 1))
            script.add(at + 0.1, .tablesRead, conn: UInt64(run + 1), user: "hevo", detail: "testdb.users")
            script.add(at + 0.5, .tablesRead, conn: UInt64(run + 1), user: "hevo", detail: "testdb.users,testdb.orders")
            script.add(at + 0.6, .tablesRead, conn: UInt64(run + 1), user: "hevo", detail: "testdb._toolkit_heartbeat")
            script.add(at + 0.7, .connClosed, conn: UInt64(run + 1), detail: "client")
        }
        script.faultStarted(20, window: 1, fault)
        script.add(20.5, .tablesRead, conn: 9, user: "hevo", code: 2013, message: "Lost connection", detail: "testdb.users")
        script.add(21, .connRefused, client: "127.0.0.1:5000")
        script.faultEnded(30, window: 1, fault)
        script.add(31, .tablesRead, conn: 10, user: "hevo", detail: "testdb._toolkit_meta")
        script.add(32, .tablesRead, conn: 10, user: "hevo", message: "no answer: the connection closed", detail: "testdb.users")
        script.connect(33, conn: 11)
        script.add(33.5, .tablesRead, conn: 11, user: "hevo", detail: "testdb.users")
        let report = try #require(script.reports().first)
        #expect(isClose(report.readRhythm, 5))
        #expect(report.readsDuringFault == 1)
        #expect(isClose(report.tablesReadAfter, 3.5))
        #expect(report.detection?.event == .connRefused)
    }

    @Test("no rhythm from one run; nothing read after the restore")
    func quiet() throws {
        var script = JournalScript()
        let fault = FaultSpec(type: .reject)
        script.add(0, .tablesRead, conn: 1, user: "hevo", detail: "testdb.users")
        script.faultStarted(10, window: 1, fault)
        script.faultEnded(12, window: 1, fault)
        let report = try #require(script.reports().first)
        #expect(report.readRhythm == nil && report.readsDuringFault == nil && report.tablesReadAfter == nil)
    }
}
