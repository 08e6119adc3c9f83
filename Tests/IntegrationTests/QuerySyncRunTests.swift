import Foundation
import Infrastructure
import Testing

/// `toolkit run TC-004` against a query-based sync written by others: dlt's sql_database source,
/// run every 2 s the way a scheduler runs it, reading `users` through the gateway with its
/// `updated_at` cursor and merging into PostgreSQL. It opens no binlog dump: detection is its
/// first refused run, recovery its first read after the restore, the position item does not
/// apply, and the rows the run deleted stay at the destination (a cursor cannot see deletes).
@Suite("run TC-004 against a query-based sync (dlt)", .tags(.integration, .endToEnd, .slow),
       .enabled(if: PostgresFixture.isAvailable, "needs PostgreSQL (scripts/test-deps installs it and dlt)"))
final class QuerySyncRunTests {
    let agent: AgentFixture
    let postgres: PostgresFixture
    let directory: URL
    let log: URL
    let syncPID: pid_t
    var destination: String { "\(postgres.url)?schema=testdb_dlt" }

    init() throws {
        let name = "dlt-run-\(UUID().uuidString.prefix(6))"
        agent = try AgentFixture(name: name)
        do {
            postgres = try PostgresFixture(name: name)
        } catch {
            agent.tearDown()
            throw error
        }
        directory = agent.state.root.appendingPathComponent("runs/dlt")
        log = agent.state.root.appendingPathComponent("dlt.log")
        try agent.toolkit(["generate-data", "--count", "20"])
        var environment = ProcessInfo.processInfo.environment
        environment["TOOLKIT_DLT_SOURCE"] = "mysql+pymysql://hevo:hevopassword@127.0.0.1:\(agent.port)/testdb"
        // dlt insists on a password; the fixture trusts loopback, so it is never checked.
        environment["TOOLKIT_DLT_DEST"] = "postgresql://postgres:unused@127.0.0.1:\(postgres.port)/\(postgres.database)"
        environment["RUNTIME__LOG_LEVEL"] = "WARNING"
        FileManager.default.createFile(atPath: log.path, contents: nil)
        syncPID = try ChildProcess.spawn(ToolVenvs.path("dlt", "bin/python"),
                                         [Run.repository.appendingPathComponent("Tests/Peers/dlt_sync.py").path, "users", "postgres",
                                          "testdb_dlt", agent.state.root.appendingPathComponent("dlt").path, "2", "300"],
                                         log: log, detached: false, environment: environment)
        let synced = try Run.toolkit(["verify", "--destination", destination, "--table", "users", "--wait", "90", "--json"],
                                     environment: agent.environment, timeout: 120)
        // A few runs, so that the sync has a rhythm before the fault.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? String(contentsOf: log, encoding: .utf8)) ?? "").components(separatedBy: "INFO sync ok").count <= 4 {
            Thread.sleep(forTimeInterval: 0.5)
        }
        guard synced.status == 0 else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            tearDown()
            throw FixtureError("dlt never caught up: \(synced.stdout)\ndlt: \(text.suffix(3000))")
        }
    }

    private func tearDown() {
        kill(syncPID, SIGKILL)
        _ = ChildProcess.wait(syncPID)
        postgres.stop()
        agent.tearDown()
    }

    deinit { tearDown() }

    @Test("detection at its next run, recovery at its first read after the restore, position NOT APPLICABLE, deletes reported")
    func tc004() throws {
        let run = try Run.toolkit(["run", "TC-004", "--destination", destination, "--etl-log", log.path, "--etl-tool", "dlt 1.31.0",
                                   "--duration", "10", "--set", "recovery_within=60", "--yes", "--json", "--report", directory.path],
                                  environment: agent.environment, timeout: 300)
        let context = "run: \(run.stdout.suffix(3000))\n\(run.stderr.suffix(2000))\ndlt: \(((try? String(contentsOf: log, encoding: .utf8)) ?? "").suffix(3000))"
        let data = try Data(contentsOf: directory.appendingPathComponent("result.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(context)")
        let items = try #require(json["items"] as? [[String: Any]], "\(context)")
        let verdicts = items.map { $0["verdict"] as? String ?? "?" }, evidence = items.map { $0["evidence"] as? String ?? "" }
        let preconditions = (json["preconditions"] as? [[String: Any]] ?? []).map { $0["evidence"] as? String ?? "" }
        #expect(preconditions.contains { $0.hasPrefix("a query-based sync: hevo read testdb.users with SELECTs") }, "\(preconditions)")
        #expect((json["observations"] as? [String: Any])?["sync_mode"] as? String == "queries")
        #expect(verdicts == ["PASS", "PASS", "PASS", "NOT APPLICABLE", "PASS"], "\(evidence)\n\(context)")
        #expect(json["verdict"] as? String == "PASS")
        #expect(run.status == 0, "\(context)")
        #expect(evidence[0].range(of: #"^first failed attempt \d+\.\d\d s after the fault started \(conn_(refused|reset)\) < 30 s$"#,
                                  options: .regularExpression) != nil, "\(evidence[0])")
        #expect(evidence[1].contains("Connection refused"), "\(evidence[1])")
        #expect(evidence[2].hasPrefix("the sync read the source's tables again"), "\(evidence[2])")
        #expect(evidence[3].hasPrefix("a query-based sync has no binlog position"), "\(evidence[3])")
        // The load deletes rows half a second after it writes them: the ones a 2 s sync happened to
        // read stay at the destination, reported (the exact counts: QueryBasedChecklistTests).
        #expect(evidence[4].range(of: #"^\d+ rows at the destination match the source's \d+(; \d+ rows the run deleted are still there \(deletes_not_propagated\).*)?$"#,
                                  options: .regularExpression) != nil, "\(evidence[4])")
        let windows = try #require((json["observations"] as? [String: Any])?["windows"] as? [[String: Any]])
        let journal = ((try? FileManager.default.contentsOfDirectory(at: agent.state.journalDirectory, includingPropertiesForKeys: nil)) ?? [])
            .compactMap { try? String(contentsOf: $0, encoding: .utf8) }.joined().split(separator: "\n")
            .filter { $0.contains("tables_read") || $0.contains("fault_") }.suffix(40).joined(separator: "\n")
        let rhythm = try #require(windows.first?["read_rhythm"] as? Double, "\(journal)")
        #expect(rhythm > 1 && rhythm < 5, "dlt runs every 2 s: \(rhythm)")
        let junit = try String(contentsOf: directory.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("<skipped message=\"NOT APPLICABLE: a query-based sync has no binlog position"), "\(junit)")
        #expect(try agent.agentStatus().faults.isEmpty)
        try CaseFileTests.validate(directory.appendingPathComponent("result.json"), against: "run-result", environment: agent.environment)
        try completeByHand()
    }

    /// `toolkit report` on the finished run: a screenshot, what the tester saw, a verdict of theirs.
    private func completeByHand() throws {
        let result = directory.appendingPathComponent("result.json")
        let before = try Data(contentsOf: result)
        let refused = try Run.toolkit(["report", directory.path, "--item", "9=PASS"], environment: agent.environment)
        #expect(refused.status == 2 && refused.stderr.contains("--item 9: the case's checklist has items 1 to 5"), "\(refused.stderr)")
        #expect(try Data(contentsOf: result) == before, "bad input changes nothing")

        let screenshot = agent.state.root.appendingPathComponent("dlt dashboard.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]).write(to: screenshot)
        let report = try Run.toolkit(["report", directory.path, "--tester", "Ann", "--attach", screenshot.path,
                                      "--observe", "detection=the scheduler showed the failed run at once",
                                      "--item", "5=FAIL:the dashboard counts 2 rows twice"], environment: agent.environment)
        #expect(report.status == 1, "a person's FAIL fails the run: \(report.stdout)\n\(report.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: result)) as? [String: Any])
        #expect(json["verdict"] as? String == "FAIL")
        let items = try #require(json["items"] as? [[String: Any]])
        #expect(items[4]["verdict"] as? String == "FAIL")
        #expect((items[4]["person"] as? [String: Any])?["tester"] as? String == "Ann")
        #expect((items[4]["evidence"] as? String ?? "").range(of: #"^measured PASS → FAIL by Ann at \d\d:\d\d:\d\d UTC: the dashboard counts 2 rows twice; measured: "#,
                                                              options: .regularExpression) != nil, "\(items[4])")
        #expect((items[0]["evidence"] as? String ?? "").contains("Ann at "), "\(items[0])")
        #expect(items[3]["verdict"] as? String == "NOT APPLICABLE", "re-judged with the same rules")
        #expect(FileManager.default.contents(atPath: directory.appendingPathComponent("attachments/dlt dashboard.png").path)?.count == 8)
        let markdown = try String(contentsOf: directory.appendingPathComponent("TC-004.md"), encoding: .utf8)
        #expect(markdown.contains("- [attachments/dlt dashboard.png](attachments/dlt dashboard.png)"), "\(markdown.suffix(1500))")
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<img src=\"attachments/dlt%20dashboard.png\""))
        let junit = try String(contentsOf: directory.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("failures=\"1\"") && junit.contains("measured PASS → FAIL by Ann"))
        try CaseFileTests.validate(result, against: "run-result", environment: agent.environment)
    }
}
