import Foundation
import Measurements
import Testing

/// A binlog reader whose process stops reading (SIGSTOP) while the source writes: the gateway
/// keeps writing into its socket until the socket is full, so what was *written* runs ahead of
/// what the client's TCP *acknowledged*. The journal must tell them apart, and a connection that
/// stays open through a `timeout` and delivers again after it has recovered.
@Suite("What a client received, not what was written to it", .tags(.integration, .slow), .serialized)
struct ReceivedPositionTests {
    /// Plain text, and TLS the gateway terminates: acknowledged records are mapped back to plaintext.
    @Test("a frozen mysqlbinlog: the position at the fault's start is what it acknowledged; it resumes on the same connection",
          arguments: [false, true])
    func frozenReaderResumesOnItsConnection(tls: Bool) throws {
        let source = try AgentFixture(name: "received-\(tls ? "tls" : "plain")")
        defer { source.tearDown() }
        let options = try ClientOptionFile(password: "hevopassword")
        defer { withExtendedLifetime(options) {} }
        let streamer = try Background("/usr/bin/mysqlbinlog", [
            options.argument, "--read-from-remote-server", "--stop-never", tls ? "--ssl" : "--skip-ssl",
            "--host=127.0.0.1", "--port=\(source.port)", "--user=hevo", "--stop-never-slave-server-id=78",
            "--result-file=/dev/null", "mysql-bin.000001"])
        func events() throws -> [JournalEvent] {
            journalEvents(try source.toolkit(["events", "--json", "--last", "0"]).stdout)
        }
        let deadline = Date().addingTimeInterval(15)
        var conn: UInt64?
        while conn == nil, Date() < deadline {
            conn = try events().last { $0.kind == .binlogFirstEvent && $0.serverID == 78 }?.conn
            if conn == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        let streaming = try #require(conn, "mysqlbinlog never got its first event: \(streamer.text)")
        let terminated = try events().contains { $0.conn == streaming && $0.detail == "tls terminated by the gateway" }
        #expect(terminated == tls)

        // The reader stops reading; the source writes far more than its socket buffers hold.
        streamer.signal(SIGSTOP)
        var continued = false
        defer { if !continued { streamer.signal(SIGCONT) } }
        try source.toolkit(["generate-data", "--count", "20000"], timeout: 300)
        Thread.sleep(forTimeInterval: 1)

        try source.toolkit(["network", "--down", "--type", "timeout"])
        let window = try #require(try source.agentStatus().windows.last)
        let atStart = try #require(try events().last {
            $0.kind == .binlogProgress && $0.window == window.window && $0.conn == streaming
        }, "no position was journaled for the dump connection when the fault started")
        let written = try #require(atStart.position)
        let received = try #require(atStart.received, "everything written is taken as received: \(atStart)")
        #expect(atStart.receipt == nil)
        #expect(received.file == atStart.file)
        let receivedPosition = try #require(received.position)
        #expect(receivedPosition < written, "received \(receivedPosition), written \(written)")

        // Restored while the reader is still stopped: nothing is received until it reads again.
        try source.toolkit(["network", "--up"])
        Thread.sleep(forTimeInterval: 2)
        streamer.signal(SIGCONT)
        continued = true
        let report = try source.waitForStatus(20, "replication resuming on the same connection") { status in
            status.windows.first { $0.window == window.window }?.replicationResumedAfter != nil
        }.windows.first { $0.window == window.window }!
        let resumed = try #require(report.replicationResumedAfter)
        #expect(report.resumedOnConnection == SameConnectionResume(conn: streaming, received: true))
        // Dated when the client received it (after SIGCONT), not when the gateway wrote it (at the restore).
        #expect(resumed >= 1.8, "resumed \(resumed) s after the restore")
        #expect(report.description.contains("on the same connection (conn \(streaming))"), "\(report)")
        #expect(report.connections.survived == report.connections.openAtStart)
        #expect(streamer.isRunning, "\(streamer.text)")

        // The reader goes away after reading everything. On a plain connection the server notices
        // only when it writes again: that event goes into a socket the client no longer reads, so
        // the close says it was written and what was received ends before it.
        Thread.sleep(forTimeInterval: 1)
        streamer.signal(SIGKILL)
        #expect(streamer.waitFor(seconds: 10) != nil)
        try source.toolkit(["generate-data", "--count", "1"])
        let closing = Date().addingTimeInterval(15)
        var closed: JournalEvent?
        while closed == nil, Date() < closing {
            closed = try events().last { $0.kind == .connClosed && $0.conn == streaming }
            if closed == nil { Thread.sleep(forTimeInterval: 0.2) }
        }
        let close = try #require(closed, "the gateway journaled no close of the reader's connection")
        #expect(close.receipt == nil)
        // What it received is all that was written before it went; a plain connection stays half
        // open until the server writes again (a TLS one is closed at the client's EOF).
        #expect(close.receivedPoint?.position == written, "\(close)")
        if !tls { #expect((close.position ?? 0) > written, "\(close)") }
    }
}
