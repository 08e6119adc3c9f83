import AgentAPI
import Faults
import Foundation
import Testing

/// `mysqlbinlog --stop-never` decoding rows as they come: when a row written to the server
/// reached this real binlog reader.
final class RowWatcher {
    let streamer: Background
    private let options: ClientOptionFile

    init(port: Int, serverID: Int) throws {
        options = try ClientOptionFile(password: "hevopassword")
        streamer = try Background("/usr/bin/mysqlbinlog", [
            options.argument, "--read-from-remote-server", "--stop-never", "--stop-never-slave-server-id=\(serverID)",
            "--host=127.0.0.1", "--port=\(port)", "--user=hevo", "--base64-output=DECODE-ROWS", "--verbose",
            "mysql-bin.000001"])
    }

    /// Seconds from just before `write` committed the row with `marker` until the reader printed it;
    /// nil if it did not within `seconds`.
    func delay(of marker: String, within seconds: Double = 10, write: () throws -> Void) rethrows -> Double? {
        let started = Date()
        try write()
        let deadline = started.addingTimeInterval(seconds)
        while Date() < deadline {
            if streamer.text.contains(marker) { return Date().timeIntervalSince(started) }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return nil
    }
}

@Suite("Scoped shaping through a gateway agent", .tags(.integration, .slow), .serialized)
struct ScopedShapingTests {
    /// The item 1: `--slow --latency 1000 --only replication` slowed a plain query
    /// connection too (connect 3.6 s, SELECT 1 1.0 s). Wide margins: a correctness check, not a
    /// speed target.
    @Test("--slow --only replication delays binlog events by the latency and leaves queries alone")
    func replicationScopedLatency() throws {
        let source = try AgentFixture(name: "scoped-slow")
        defer { source.tearDown() }
        let direct = try source.direct()
        defer { direct.close() }
        try direct.execute("CREATE TABLE marks (v VARCHAR(40))")
        let watcher = try RowWatcher(port: source.port, serverID: 93)
        let before = watcher.delay(of: "mark-before") { _ = try? direct.execute("INSERT INTO marks VALUES ('mark-before')") }
        #expect(try #require(before) < 0.3, "the reader streams unshaped first")

        try source.toolkit(["network", "--slow", "--latency", "1000", "--only", "replication"])
        let delayed = watcher.delay(of: "mark-during") { _ = try? direct.execute("INSERT INTO marks VALUES ('mark-during')") }
        // The whole latency, as netem on the server's egress would: it used to be half (about 0.45 s).
        #expect(try #require(delayed) > 0.9, "a binlog event is delayed by the latency")

        for _ in 0..<3 {
            let started = Date()
            let run = try Run.program("/usr/bin/mariadb", [
                "-h", "127.0.0.1", "-P", String(source.port), "-u", "hevo", "testdb", "-e", "SELECT 1",
            ], environment: ["MYSQL_PWD": "hevopassword", "PATH": "/usr/bin:/bin"], timeout: 30)
            let elapsed = Date().timeIntervalSince(started)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(elapsed < 0.3, "connect and SELECT 1 took \(elapsed) s")
        }

        try source.toolkit(["network", "--slow", "--off"])
        let after = watcher.delay(of: "mark-after") { _ = try? direct.execute("INSERT INTO marks VALUES ('mark-after')") }
        #expect(try #require(after) < 0.3)
        #expect(watcher.streamer.isRunning, "the reader stayed connected throughout")
    }
}
