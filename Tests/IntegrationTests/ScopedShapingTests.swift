import AgentAPI
import Faults
import Foundation
import MariaDB
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
    /// connection too (connect 3.6 s, SELECT 1 1.0 s). Item 13: `--slow --latency 800 --only
    /// replication` delayed a binlog event by about 0.45 s, half the latency; as netem on the
    /// server's egress and Toxiproxy's latency toxic it is now the whole 0.8 s, and a query
    /// connection's round trip costs the whole latency more; `replicate --scenario lag` is the same
    /// fault. Margins are wide: a correctness check (0.8 s, not 0.4 s), not a speed target.
    @Test("--slow --only replication and replicate --scenario lag delay binlog events by the latency and leave queries alone; --only queries the reverse")
    func replicationScopedLatency() throws {
        let source = try AgentFixture(name: "scoped-slow")
        defer { source.tearDown() }
        let direct = try source.direct()
        defer { direct.close() }
        try direct.execute("CREATE TABLE marks (v VARCHAR(40))")
        let watcher = try RowWatcher(port: source.port, serverID: 93)
        let before = watcher.delay(of: "mark-before") { _ = try? direct.execute("INSERT INTO marks VALUES ('mark-before')") }
        #expect(try #require(before) < 0.3, "the reader streams unshaped first")
        // A query connection through the gateway, opened before any fault.
        let client = try MariaDBConnection(ConnectionOptions(host: "127.0.0.1", port: source.port, user: "hevo",
                                                             password: "hevopassword", database: "testdb"))
        defer { client.close() }
        let baseline = try Self.selectOne(client)
        #expect(baseline < 0.2, "SELECT 1 took \(baseline) s unshaped")

        try source.toolkit(["network", "--slow", "--latency", "800", "--only", "replication"])
        let delayed = try #require(watcher.delay(of: "mark-during") { _ = try? direct.execute("INSERT INTO marks VALUES ('mark-during')") })
        #expect(delayed > 0.7 && delayed < 1.3, "a binlog event is delayed by the whole latency (0.8 s), not half: \(delayed) s")

        for _ in 0..<3 {
            let started = Date()
            let run = try Run.program("/usr/bin/mariadb", [
                "-h", "127.0.0.1", "-P", String(source.port), "-u", "hevo", "testdb", "-e", "SELECT 1",
            ], environment: ["MYSQL_PWD": "hevopassword", "PATH": "/usr/bin:/bin"], timeout: 30)
            let elapsed = Date().timeIntervalSince(started)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(elapsed < 0.3, "connect and SELECT 1 took \(elapsed) s")
        }
        #expect(try Self.selectOne(client) < 0.2, "an open query connection is not slowed")

        // The other scope: a query round trip costs the latency more, the binlog reader is left alone.
        try source.toolkit(["network", "--slow", "--latency", "800", "--only", "queries"])
        let slowed = try Self.selectOne(client)
        #expect(slowed - baseline > 0.7 && slowed - baseline < 1.3, "SELECT 1 costs the latency (0.8 s) more: \(slowed) s")
        let unslowed = try #require(watcher.delay(of: "mark-queries") { _ = try? direct.execute("INSERT INTO marks VALUES ('mark-queries')") })
        #expect(unslowed < 0.3, "binlog events are not slowed by --only queries: \(unslowed) s")

        // replicate --scenario lag is the same fault: binlog events arrive --delay late.
        try source.toolkit(["network", "--slow", "--off"])
        let lag = try Background(Run.toolkitPath, ["replicate", "--scenario", "lag", "--delay", "800", "--duration", "4"],
                                 environment: source.environment)
        _ = try source.waitForStatus(10, "the lag to start") { !$0.faults.isEmpty }
        let lagged = try #require(watcher.delay(of: "mark-lag") { _ = try? direct.execute("INSERT INTO marks VALUES ('mark-lag')") })
        #expect(lagged > 0.7 && lagged < 1.3, "replicate --scenario lag --delay 800 delays a binlog event by 0.8 s: \(lagged) s")
        #expect(lag.waitFor(seconds: 30) == 0, "\(lag.text)")
        _ = try source.waitForStatus(10, "the lag to end") { $0.faults.isEmpty }

        let after = watcher.delay(of: "mark-after") { _ = try? direct.execute("INSERT INTO marks VALUES ('mark-after')") }
        #expect(try #require(after) < 0.3)
        #expect(watcher.streamer.isRunning, "the reader stayed connected throughout")
    }

    /// Seconds one `SELECT 1` takes on `connection`.
    private static func selectOne(_ connection: MariaDBConnection) throws -> Double {
        let started = Date()
        _ = try connection.query("SELECT 1")
        return Date().timeIntervalSince(started)
    }
}
