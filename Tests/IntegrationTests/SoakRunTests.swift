import AgentAPI
import Foundation
import Infrastructure
import MariaDB
import Pipeline
import Source
import Testing

/// `toolkit soak` end to end: a real source and agent, the managed replica as the pipeline, the
/// seeded schedule's real faults, the outputs read back.
@Suite(.tags(.integration, .endToEnd, .slow), .serialized)
final class SoakRunTests {
    let source: AgentFixture

    init() throws {
        source = try AgentFixture(name: "soak-\(UUID().uuidString.prefix(6))")
    }

    deinit {
        _ = try? Run.toolkit(["pipeline", "down", "--purge"], environment: source.environment)
        source.tearDown()
    }

    private func report(_ name: String) -> URL { source.state.root.appendingPathComponent("soaks/\(name)") }

    private func json(_ directory: URL, _ file: String = "result.json") throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Three minutes of every default fault against the replica: valid, every fault applied and
    /// measured, every checkpoint matched, the lag read from the heartbeat; the seed's schedule is
    /// the one `--dry-run` prints, and `--replay result.json` gives it again.
    @Test func aShortSoakAgainstTheReplicaIsValid() throws {
        try source.toolkit(["pipeline", "up"])
        let directory = report("valid")
        let options = ["--duration", "3m", "--seed", "42", "--fault-length", "3s..8s", "--gap", "4s..8s", "--checkpoint-every", "1m"]
        let soak = try source.toolkit(["soak", "--pipeline", "replica", "--catch-up-within", "60s", "--report", directory.path, "--json"] + options,
                                      expect: 0, timeout: 600)
        let result = try json(directory)
        #expect(result["verdict"] as? String == "valid", "\(soak.stderr)")
        #expect(result["version"] as? Int == 1 && result["kind"] as? String == "soak")
        #expect(result["interrupted"] == nil)
        // The replica came back after every fault, as the agent saw it read the binlog again.
        #expect(result["reason"] as? String == "the destination holds exactly the source's rows at the final comparison"
                || (result["reason"] as? String)?.contains("never resumed") == false, "\(result["reason"] ?? "")")
        try CaseFileTests.validate(directory.appendingPathComponent("result.json"), against: "soak-result", environment: source.environment)

        // The schedule ran as drawn: the same seed and options print the same schedule.
        let dry = try source.toolkit(["soak", "--dry-run", "--json"] + options)
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? NSDictionary)
        let kept = try #require(result["schedule"] as? NSDictionary)
        #expect(kept == printed)
        let replayed = try source.toolkit(["soak", "--replay", directory.appendingPathComponent("result.json").path, "--dry-run", "--json"])
        #expect(try JSONSerialization.jsonObject(with: Data(replayed.stdout.utf8)) as? NSDictionary == printed)

        let scheduled = try #require(printed["faults"] as? [[String: Any]])
        let faults = try #require(result["faults"] as? [[String: Any]])
        #expect(faults.count == scheduled.count && !faults.isEmpty)
        for fault in faults {
            #expect(fault["problem"] == nil, "\(fault)")
            let type = (fault["scheduled"] as? [String: Any])?["type"] as? String
            // Every fault the agent made opened its window (kill-connections is the server's doing).
            if type != "kill-connections" { #expect((fault["windows"] as? [Int])?.isEmpty == false, "\(fault)") }
        }
        let checkpoints = try #require(result["checkpoints"] as? [[String: Any]])
        #expect(checkpoints.count == (printed["checkpoints"] as? [Int])?.count.advanced(by: 1))
        #expect(checkpoints.allSatisfy { ($0["data"] as? [String: Any])?["verdict"] as? String == "match" }, "\(checkpoints)")
        #expect(checkpoints.last?["final"] as? Bool == true)
        // The heartbeat was replicated: the lag is known.
        let lag = try #require(result["lag"] as? [String: Any])
        #expect(lag["unknown"] == nil && (lag["p50"] as? Double ?? -1) >= 0, "\(lag)")
        let history = try #require(result["history"] as? [String: Any])
        #expect((history["ok"] as? Int ?? 0) > 100)
        let lines = try String(contentsOf: directory.appendingPathComponent("history.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == (history["ok"] as? Int ?? 0) + (history["failed"] as? Int ?? 0) + (history["indeterminate"] as? Int ?? 0))
        // Appended at each checkpoint: every write once, in order; every journal event of the soak once, in order.
        let seqs = lines.compactMap { line in (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["seq"] as? Int }
        #expect(seqs.count == lines.count && seqs == seqs.sorted() && Set(seqs).count == seqs.count, "history seq out of order or repeated")
        let events = try String(contentsOf: directory.appendingPathComponent("events.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { line in try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] }
        let eventSeqs = events.compactMap { $0["seq"] as? Int }
        #expect(eventSeqs.count == events.count && eventSeqs.count > 100, "\(eventSeqs.count) events")
        #expect(zip(eventSeqs, eventSeqs.dropFirst()).allSatisfy { $0 < $1 }, "events.jsonl repeats or reorders journal events")
        #expect(events.contains { $0["kind"] as? String == "fault_started" } && events.contains { $0["kind"] as? String == "binlog_dump" })

        // The other outputs say the same.
        let summary = try String(contentsOf: directory.appendingPathComponent("soak.md"), encoding: .utf8)
        #expect(summary.hasPrefix("# Soak: VALID"))
        let junit = try String(contentsOf: directory.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("tests=\"\(checkpoints.count)\" failures=\"0\" errors=\"0\""), "\(junit)")
        let browser = try #require(ChildProcess.find(["chromium", "chromium-browser"]), "chromium is installed by scripts/test-deps")
        let profile = source.state.root.appendingPathComponent("chromium-profile").path
        let dom = try Run.program(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)", "--dump-dom",
                                            directory.appendingPathComponent("report.html").absoluteString], timeout: 90)
        #expect(dom.stdout.contains("id=\"verdict\" class=\"verdict VALID\""))
        #expect(dom.stdout.contains("class=\"fault-window\""))
        #expect(dom.stdout.contains("class=\"lag-curve\""))
        #expect(try source.agentStatus().faults.isEmpty)
    }

    /// A replica made to skip events during the soak (`sql_slave_skip_counter`) loses them: the
    /// soak is invalid (exit 1), and the rows that differ are placed on a fault or between faults.
    @Test func aReplicaThatSkipsEventsIsInvalidAndTheLossIsPlaced() throws {
        try source.toolkit(["pipeline", "up"])
        let pipeline = ReplicaPipeline(home: source.state)
        let directory = report("invalid")
        let soak = try Background(Run.toolkitPath, ["soak", "--pipeline", "replica", "--duration", "70s", "--seed", "5", "--faults", "reject",
                                                    "--fault-length", "4s..6s", "--gap", "8s..10s", "--checkpoint-every", "35s",
                                                    "--catch-up-within", "20s", "--report", directory.path], environment: source.environment)
        // After the first fault has come and gone, the replica skips the next 20 events: after the
        // events that open its new stream, a few transactions.
        let deadline = Date().addingTimeInterval(90)
        var sawFault = false, skipped: Double?
        while Date() < deadline, soak.isRunning, skipped == nil {
            let active = (try? source.agentStatus().faults.isEmpty == false) ?? false
            if active { sawFault = true }
            if sawFault, !active {
                let replica = try pipeline.connect()
                try replica.execute("STOP SLAVE")
                try replica.execute("SET GLOBAL sql_slave_skip_counter = 20")
                try replica.execute("START SLAVE")
                replica.close()
                skipped = Date().timeIntervalSince1970
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(skipped != nil, "the soak never ran its first fault: \(soak.text)")
        #expect(soak.waitFor(seconds: 300) == 1, "\(soak.text)")
        let result = try json(directory)
        #expect(result["verdict"] as? String == "invalid")
        try CaseFileTests.validate(directory.appendingPathComponent("result.json"), against: "soak-result", environment: source.environment)
        let reason = try #require(result["reason"] as? String)
        #expect(reason.contains("at the final comparison; they went wrong after "), "\(reason)")
        let placed = try #require(result["placed"] as? [[String: Any]])
        let ours = placed.filter { $0["operation"] != nil }
        #expect(!ours.isEmpty, "\(placed)")
        // The first row the soak wrote and the replica lost was one the replica had not applied when
        // it skipped: written since the first fault cut it off, or after. It is blamed on the fault open when
        // it was written, else on the first that started after it, else on the time between faults.
        let faults = try #require(result["faults"] as? [[String: Any]])
        func started(_ fault: [String: Any]) -> Double { fault["started"] as? Double ?? 0 }
        if let first = ours.min(by: { ($0["at"] as? Double ?? 0) < ($1["at"] as? Double ?? 0) }), let at = first["at"] as? Double, let skipped {
            // (Or later: a write the replica cannot apply without a skipped row stops its SQL thread.)
            #expect(at >= started(faults[0]) - 1, "\(first) skipped at \(skipped)")
            let blamed = faults.first { started($0) <= at && at < ($0["healed"] as? Double ?? 0) } ?? faults.first { started($0) >= at }
            #expect(first["fault"] as? Int == blamed?["number"] as? Int, "\(first) \(faults)")
            let offset = ((blamed?["scheduled"] as? [String: Any])?["offset_seconds"] as? Int).map(Self.clock) ?? ""
            #expect(first["blame"] as? String == (blamed == nil ? "between faults" : "fault \(blamed!["number"]!) (reject at \(offset))"))
        }
        let summary = try String(contentsOf: directory.appendingPathComponent("soak.md"), encoding: .utf8)
        #expect(summary.hasPrefix("# Soak: INVALID"))
        #expect(summary.contains("## Rows that differ at the last comparison"))
        let junit = try String(contentsOf: directory.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("<failure"))
        #expect(try source.agentStatus().faults.isEmpty)
    }

    static func clock(_ seconds: Int) -> String { String(format: "%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60) }

    /// A soak in the background: `--status` shows it, a run is refused naming it, `--stop` ends it
    /// as Ctrl-C would (the network healed, the final comparison made, the report INTERRUPTED).
    @Test func aDetachedSoakIsShownStoppedAndHoldsTheSource() throws {
        try source.toolkit(["pipeline", "up"])
        let directory = report("detached")
        let started = try source.toolkit(["soak", "--pipeline", "replica", "--duration", "30m", "--seed", "9", "--faults", "timeout",
                                          "--fault-length", "20s..30s", "--gap", "2s..3s", "--detach", "--report", directory.path])
        #expect(started.stdout.contains("soak running in the background (pid "), "\(started.stdout)")
        // The soak holds the source: a run is BLOCKED naming it.
        let deadline = Date().addingTimeInterval(60)
        var status = try Run.toolkit(["soak", "--status", "--json"], environment: source.environment)
        while Date() < deadline, !status.stdout.contains("\"progress\"") {
            Thread.sleep(forTimeInterval: 0.5)
            status = try Run.toolkit(["soak", "--status", "--json"], environment: source.environment)
        }
        #expect(status.status == 0 && status.stdout.contains("\"progress\""), "\(status.stdout) \(status.stderr)")
        let run = try source.toolkit(["run", "TC-004", "--pipeline", "replica", "--duration", "3", "--yes", "--json",
                                      "--report", report("blocked-run").path], expect: 3)
        #expect(run.stdout.contains("the source is held by soak seed 9"), "\(run.stdout)")
        // Stopped mid-fault: healed, compared, marked.
        _ = try source.waitForStatus(30, "the soak's first fault") { !$0.faults.isEmpty }
        try source.toolkit(["soak", "--stop"], timeout: 300)
        #expect(try source.agentStatus().faults.isEmpty)
        let result = try json(directory)
        #expect((result["interrupted"] as? String)?.contains("SIGINT") == true, "\(result["interrupted"] ?? "nil")")
        #expect(result["verdict"] as? String == "valid", "\(result["reason"] ?? "")")
        #expect((result["checkpoints"] as? [[String: Any]])?.last?["final"] as? Bool == true)
        let summary = try String(contentsOf: directory.appendingPathComponent("soak.md"), encoding: .utf8)
        #expect(summary.hasPrefix("# Soak: VALID (INTERRUPTED by SIGINT (Ctrl-C))"), "\(summary.prefix(200))")
        #expect(try Run.toolkit(["soak", "--status"], environment: source.environment).status == 1)
    }

    /// On a terminal the soak keeps one status line of where it stands, as a person sees it in tmux.
    @Test func aTerminalShowsWhereTheSoakStands() throws {
        try source.toolkit(["pipeline", "up"])
        let tmux = try #require(ChildProcess.find(["tmux"]), "tmux is installed by scripts/test-deps")
        let session = "soak-\(UUID().uuidString.prefix(6))"
        let directory = report("terminal")
        let started = try Run.program(tmux, ["new-session", "-d", "-s", session, "-x", "200", "-y", "40",
                                             "-e", "TOOLKIT_HOME=\(source.state.root.path)",
                                             Run.toolkitPath, "soak", "--pipeline", "replica", "--duration", "30s", "--seed", "2",
                                             "--faults", "reset", "--gap", "5s..8s", "--checkpoint-every", "15s", "--report", directory.path],
                                      timeout: 30)
        #expect(started.status == 0, "\(started.stderr)")
        defer { _ = try? Run.program(tmux, ["kill-session", "-t", session], timeout: 30) }
        var screen = ""
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !screen.contains(" elapsed, ") {
            Thread.sleep(forTimeInterval: 0.5)
            screen = (try? Run.program(tmux, ["capture-pane", "-p", "-t", session], timeout: 30).stdout) ?? screen
        }
        let line = screen.split(separator: "\n").first { $0.contains(" elapsed, ") }.map(String.init) ?? ""
        #expect(line.range(of: #"soak 0:00:\d\d elapsed, 0:00:\d\d left, \d+ faults?, lag (\d+\.\d s|unknown), last checkpoint "#,
                           options: .regularExpression) != nil, "\(screen)")
        let end = Date().addingTimeInterval(180)
        while Date() < end, (try? Run.program(tmux, ["has-session", "-t", session], timeout: 30).status) == 0 {
            Thread.sleep(forTimeInterval: 0.5)
        }
        #expect(try json(directory)["verdict"] as? String == "valid")
    }
}
