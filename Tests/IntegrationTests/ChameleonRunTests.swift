import Foundation
import Testing

/// `toolkit run TC-004` with pg_chameleon as the external pipeline under test: the verdict of
/// every checklist item must be what pg_chameleon really did through the refused outage.
@Suite("run TC-004 with pg_chameleon as the external pipeline", .tags(.integration, .endToEnd, .slow),
       .enabled(if: PostgresFixture.isAvailable && ChameleonFixture.isAvailable,
                "needs PostgreSQL and pg_chameleon (scripts/test-deps installs both)"))
final class ChameleonRunTests {
    let agent: AgentFixture
    let postgres: PostgresFixture
    let chameleon: ChameleonFixture
    let destination: String
    let directory: URL
    var log: String { chameleon.home.appendingPathComponent("replica.log").path }

    /// The source and agent (gateway), PostgreSQL, pg_chameleon replicating testdb.users, consistent.
    init() throws {
        let name = "chameleon-run-\(UUID().uuidString.prefix(6))"
        agent = try AgentFixture(name: name)
        do {
            postgres = try PostgresFixture(name: name)
            chameleon = try ChameleonFixture(name: name, gatewayPort: agent.port, postgres: postgres)
        } catch {
            // Not yet whole, so deinit will not run: the source goes here (PostgreSQL stops at exit).
            agent.tearDown()
            throw error
        }
        destination = "\(postgres.url)?schema=testdb_replica"
        directory = agent.state.root.appendingPathComponent("runs/chameleon")
        try chameleon.run("create_replica_schema", source: false)
        try chameleon.run("add_source")
        try chameleon.run("init_replica")
        try chameleon.startReplica()
        // pg_chameleon calls the replica consistent only after a write past init_replica's high watermark.
        try agent.toolkit(["generate-data", "--count", "20"])
        let synced = try Run.toolkit(["verify", "--destination", destination, "--table", "users", "--wait", "60", "--json"],
                                     environment: agent.environment, timeout: 90)
        guard synced.status == 0 else { throw FixtureError("never consistent: \(synced.stdout)\nchameleon: \(chameleon.log.suffix(3000))") }
    }

    deinit {
        chameleon.tearDown()
        postgres.stop()
        agent.tearDown()
    }

    /// pg_chameleon polls every second: when it recovers it does so within seconds, so the run
    /// gives it 60 s (not the default 300) before judging a crashed read daemon.
    private var arguments: [String] {
        ["run", "TC-004", "--destination", destination, "--etl-log", log, "--etl-tool", "pg_chameleon",
         "--duration", "10", "--set", "recovery_within=60", "--yes", "--json", "--report", directory.path]
    }

    /// The five outputs exist; result.json's items as (verdicts, evidence).
    private func items() throws -> (json: [String: Any], verdicts: [String], evidence: [String]) {
        for name in ["TC-004.md", "junit.xml", "result.json", "report.html", "events.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name) missing")
        }
        let data = try Data(contentsOf: directory.appendingPathComponent("result.json"))
        let json = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let items = try #require(json["items"] as? [[String: Any]])
        return (json, items.map { $0["verdict"] as? String ?? "?" }, items.map { $0["evidence"] as? String ?? "" })
    }

    /// The gateway's reject refuses new connections and resets open ones. What pg_chameleon does
    /// depends on where its one-second poll is when the fault starts, and both have been seen here:
    /// - between reads: each poll fails to connect and it logs "Couldn't connect to the source
    ///   database for reading the replica. Ignoring.", which does not say refused (message FAIL,
    ///   quoting it); after the restore its next poll reads on and every row arrives.
    /// - mid-read: the reset stream reconnects inside pymysqlreplication, the refused connect raises,
    ///   and its read daemon crashes ("Read daemon crashed"; its stack trace says "Connection
    ///   refused", so the message item PASSes). Nothing reads again: recovery FAILs saying
    ///   replication never resumed, no position was asked for (NOT OBSERVED), and the rows written
    ///   since are named as missing.
    /// Which one happened is read from pg_chameleon's own log; each is held exactly.
    @Test("every item's verdict is what pg_chameleon did: refused polls recovered, or its read daemon crashed")
    func tc004() throws {
        let run = try Run.toolkit(arguments, environment: agent.environment, timeout: 200)
        let context = "run: \(run.stdout)\n\(run.stderr)\nchameleon: \(chameleon.log.suffix(4000))"
        let (json, verdicts, evidence) = try items()
        #expect(json["etl_tool"] as? String == "pg_chameleon")
        #expect(json["verdict"] as? String == "FAIL")
        #expect(run.status == 1, "\(context)")
        #expect(try agent.agentStatus().faults.isEmpty)
        #expect(evidence[0].range(of: #"^first failed attempt \d+\.\d\d s after the fault started \(conn_(refused|reset)\) < 30 s$"#,
                                  options: .regularExpression) != nil, "\(evidence[0])")
        if chameleon.log.contains("Read daemon crashed") {
            #expect(verdicts == ["PASS", "PASS", "FAIL", "NOT OBSERVED", "FAIL"], "\(evidence)\n\(context)")
            #expect(evidence[1].contains("\"ConnectionRefusedError: [Errno 111] Connection refused\" (etl log \(log))"), "\(evidence[1])")
            #expect(evidence[2].contains("replication never resumed"), "\(evidence[2])")
            #expect(evidence[4].range(of: #"\d+ missing \(users id=\d+, users id=\d+"#, options: .regularExpression) != nil, "\(evidence[4])")
        } else {
            #expect(verdicts == ["PASS", "FAIL", "PASS", "PASS", "PASS"], "\(evidence)\n\(context)")
            #expect(evidence[1].contains("WARNING: Couldn't connect to the source database for reading the replica. Ignoring.\" (etl log \(log))"),
                    "\(evidence[1])")
            #expect(evidence[2].hasPrefix("replication resumed"), "\(evidence[2])")
            // It keeps its position at its last replicated event: a poll may re-read the toolkit's own
            // bookkeeping written after it (the fixture's generate-data), which cannot duplicate anything.
            #expect(evidence[3].contains("server_id 4242: maintained at mysql-bin.")
                    || evidence[3].contains("server_id 4242: re-read only 1 row event of the toolkit's own _toolkit_meta"), "\(evidence[3])")
            #expect(evidence[4].contains("match the source"), "\(evidence[4])")
        }
    }

    /// A soak with pg_chameleon as the external pipeline reports what pg_chameleon really did: its
    /// verdict agrees with `toolkit verify` run straight after it and with pg_chameleon's own log (a
    /// read daemon that crashed leaves the rows written since missing: invalid), and its exit code,
    /// summary and JUnit say the same. pg_chameleon replicates only `users` here, so the lag is unknown.
    @Test("a soak reports what pg_chameleon did: one verdict in its exit code, summary and JUnit")
    func soak() throws {
        let soakDirectory = agent.state.root.appendingPathComponent("soaks/chameleon")
        let soak = try Run.toolkit(["soak", "--destination", destination, "--etl-log", log, "--etl-tool", "pg_chameleon",
                                    "--duration", "100s", "--seed", "13", "--faults", "reject,reset", "--fault-length", "3s..6s",
                                    "--gap", "8s..12s", "--checkpoint-every", "50s", "--catch-up-within", "45s",
                                    "--report", soakDirectory.path, "--json"], environment: agent.environment, timeout: 600)
        let after = try Run.toolkit(["verify", "--destination", destination, "--json"], environment: agent.environment, timeout: 120)
        let context = "soak: \(soak.stderr.suffix(3000))\nverify: \(after.stdout.suffix(1500))\nchameleon: \(chameleon.log.suffix(3000))"
        let data = try Data(contentsOf: soakDirectory.appendingPathComponent("result.json"))
        let result = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let verdict = try #require(result["verdict"] as? String)
        #expect(soak.status == ["valid": 0, "invalid": 1, "unknown": 4][verdict], "\(verdict) \(context)")
        #expect(verdict != "unknown", "the soak's own tooling failed: \(result["reason"] ?? "") \(context)")
        // The final comparison and verify straight after it agree; a crashed read daemon never catches up.
        #expect((verdict == "valid") == (after.status == 0), "\(context)")
        if chameleon.log.contains("Read daemon crashed") { #expect(verdict == "invalid", "\(context)") }
        if verdict == "invalid" {
            let placed = try #require(result["placed"] as? [[String: Any]])
            #expect(placed.contains { $0["kind"] as? String == "lost" && $0["operation"] != nil }, "\(placed)")
        }
        let summary = try String(contentsOf: soakDirectory.appendingPathComponent("soak.md"), encoding: .utf8)
        #expect(summary.hasPrefix("# Soak: \(verdict.uppercased())\n"), "\(summary.prefix(100))")
        let junit = try String(contentsOf: soakDirectory.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("name=\"final comparison\""), "\(junit)")
        if verdict == "invalid" { #expect(junit.contains("<failure"), "\(junit)") }
        #expect((result["lag"] as? [String: Any])?["unknown"] as? String == "heartbeat table not replicated")
        #expect((result["faults"] as? [[String: Any]])?.count == ((result["schedule"] as? [String: Any])?["faults"] as? [Any])?.count)
        #expect(try agent.agentStatus().faults.isEmpty)
    }
}
