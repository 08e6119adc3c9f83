import Foundation
import Measurements
import Testing

/// A PostgreSQL cluster started in a network namespace: on that namespace's loopback and on
/// `address` (trusted from 10.0.0.0/8, so a verify from the source's namespace reaches it).
final class NamespacedPostgres {
    let directory: URL
    let port = 5432
    let database = "postgres"

    init(name: String, namespace: String, address: String) throws {
        guard let bin = PostgresFixture.binaries else { throw FixtureError("PostgreSQL's initdb is not installed") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-pg-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory.path)
        let data = directory.appendingPathComponent("data")
        try PostgresFixture.asPostgres("\(bin)/initdb", ["-D", data.path, "-A", "trust", "-U", "postgres", "--no-sync"])
        let hba = data.appendingPathComponent("pg_hba.conf")
        let rules = try String(contentsOf: hba, encoding: .utf8) + "host all all 10.0.0.0/8 trust\n"
        try rules.write(to: hba, atomically: false, encoding: .utf8)
        let run = try Run.program(NamespacePair.ipPath, [
            "netns", "exec", namespace, "/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups",
            "\(bin)/pg_ctl", "-D", data.path, "-l", directory.appendingPathComponent("log").path, "-w", "-o",
            "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1,\(address) -c fsync=off", "start",
        ], timeout: 60)
        guard run.status == 0 else { throw FixtureError("pg_ctl start in \(namespace): \(run.stderr)") }
    }

    func stop() {
        if let bin = PostgresFixture.binaries {
            try? PostgresFixture.asPostgres("\(bin)/pg_ctl", ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(at: directory)
    }
}

/// pg_chameleon through the iptables `timeout` (DROP), in a namespace of its own: each poll's
/// connect hangs until its 10 s connect_timeout, it logs "Couldn't connect ...", and tries again
/// a second later (or, caught mid-poll, its read daemon crashes: see the test). It abandons each connect without a packet, so the wire bounds the moment; its
/// own log (to the second) must fall inside that bound, and `run --etl-log` dates the detection by it.
@Suite("pg_chameleon under DROP: its give-up lies inside the reported bound, and its log dates it", .tags(.integration, .endToEnd, .slow),
       .serialized,
       .enabled(if: NamespacePair.capable == nil && PostgresFixture.isAvailable && ChameleonFixture.isAvailable,
                Comment(rawValue: NamespacePair.capable ?? "needs PostgreSQL and pg_chameleon (scripts/test-deps installs both)")))
struct ChameleonDropTests {
    @Test("run TC-003 on the iptables backend: the bound holds pg_chameleon's own log time, and --etl-log dates the detection by it")
    func timeoutDatedByItsLog() throws {
        let source = try NamespacedSource(letter: "c", network: 220)
        defer { source.tearDown() }
        let namespaces = source.namespaces
        let postgres = try NamespacedPostgres(name: "chameleon-drop", namespace: namespaces.client, address: namespaces.clientAddress)
        defer { postgres.stop() }
        let chameleon = try ChameleonFixture(name: "drop", sourceHost: namespaces.serverAddress, gatewayPort: source.port,
                                             postgresPort: postgres.port, postgresDatabase: postgres.database, namespace: namespaces.client)
        defer { chameleon.tearDown() }
        try source.toolkit(["generate-data", "--count", "20"])
        try chameleon.run("create_replica_schema", source: false)
        try chameleon.run("add_source")
        try chameleon.run("init_replica")
        try chameleon.startReplica()
        try source.toolkit(["generate-data", "--count", "5"])
        let destination = "postgres://postgres@\(namespaces.clientAddress):\(postgres.port)/\(postgres.database)?schema=testdb_replica"
        let synced = try namespaces.exec(namespaces.server, Run.toolkitPath,
                                         ["verify", "--destination", destination, "--table", "users", "--wait", "60", "--json"],
                                         environment: source.environment, timeout: 90)
        try #require(synced.status == 0, "never consistent: \(synced.stdout) \(synced.stderr)\nchameleon: \(chameleon.log.suffix(3000))")

        let directory = source.home.appendingPathComponent("runs/chameleon-drop")
        let log = chameleon.home.appendingPathComponent("replica.log").path
        let run = try namespaces.exec(namespaces.server, Run.toolkitPath, [
            "run", "TC-003", "--destination", destination, "--etl-log", log, "--etl-tool", "pg_chameleon",
            "--duration", "25", "--yes", "--json", "--report", directory.path,
        ], environment: source.environment, timeout: 300)
        let context = "run: \(run.stdout.suffix(3000))\n\(run.stderr.suffix(3000))\nchameleon: \(chameleon.log.suffix(3000))"

        // What the wire showed, from the agent: the window as it measured it, without the log.
        let window = try source.lastWindow()
        #expect(window.fault.type == .timeout && window.fault.backend == .iptables, "\(window.fault)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("result.json")))
                                  as? [String: Any], "\(context)")
        let items = try #require(result["items"] as? [[String: Any]])
        let item = try #require(items.first)
        // When the fault catches it between its poll's query and its binlog stream's connect, the
        // stream's connect times out and its read daemon crashes ("Read daemon crashed"): no attempt
        // comes after the one it abandoned, so the wire shows no giving up, and the run must say so.
        if chameleon.log.contains("Read daemon crashed") {
            #expect(window.detection == nil, "\(String(describing: window.detection))\n\(context)")
            #expect(window.attempts.attempts.last?.outcome == .dropped, "\(window.attempts)")
            #expect(item["verdict"] as? String == "NOT OBSERVED", "\(item)")
            #expect((item["evidence"] as? String)?.contains("a client that abandons a dropped connect sends nothing") == true, "\(item)")
            return
        }
        let wire = try #require(window.detection, "no detection: \(window)\n\(context)")
        #expect(wire.event == .clientGaveUp)
        let earliest = try #require(wire.earliest, "not bounded: \(wire)\n\(context)")
        let latest = try #require(wire.latest)
        #expect(wire.bound?.contains("its next attempt came at") == true, "\(wire)")

        // pg_chameleon's own account: its first failure line after the fault started, to the second.
        let failures = chameleon.log.split(separator: "\n").map(String.init).filter { line in
            guard line.contains("Couldn't connect"), let stamp = LogTimestamp(line: line, timeZone: .current) else { return false }
            return stamp.seconds + stamp.resolution > window.started
        }
        let first = try #require(failures.first, "pg_chameleon logged no failure: \(context)")
        let stamp = try #require(LogTimestamp(line: first, timeZone: .current))
        let logged = (from: stamp.seconds - window.started, to: stamp.seconds + stamp.resolution - window.started)
        let figures = String(format: "wire bound %.3f–%.3f s; pg_chameleon logged its failure in %.3f–%.3f s (its stamp, to the second)",
                             earliest, latest, logged.from, logged.to)
        print(figures)
        #expect(logged.from <= latest && logged.to > earliest, "its log time lies outside the bound: \(figures)\n\(context)")

        // The run dated the detection by that line, and its evidence says so.
        let observations = try #require(result["observations"] as? [String: Any])
        let windows = try #require(observations["windows"] as? [[String: Any]])
        let dated = try #require(windows.first?["detection"] as? [String: Any], "\(context)")
        #expect(dated["log_line"] as? String == first, "\(dated)")
        #expect(dated["log_source"] as? String == "etl log \(log)")
        let after = try #require(dated["after"] as? Double)
        #expect(after >= max(earliest, logged.from) - 1e-6 && after <= min(latest, logged.to) + 1e-6, "\(after) vs \(figures)")
        print("run's detection, dated by its log: \(item["evidence"] as? String ?? "")")
        #expect(item["verdict"] as? String == "PASS", "\(item)")
        #expect((item["evidence"] as? String)?.contains("dated by its own log line \"\(first)\"") == true, "\(item)")
    }
}
