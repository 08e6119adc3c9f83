import AgentAPI
import Foundation
import Infrastructure
import MariaDB
import Pipeline
import Source
import TestCases
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `toolkit run` end to end: a real source and agent (`toolkit up`), the managed replica as the
/// pipeline (`toolkit pipeline up`), real faults; every output file read back.
@Suite(.tags(.integration, .endToEnd, .slow), .serialized)
final class RunCaseTests {
    let source: AgentFixture

    init() throws {
        source = try AgentFixture(name: "run-\(UUID().uuidString.prefix(6))")
    }

    deinit {
        _ = try? Run.toolkit(["pipeline", "down", "--purge"], environment: source.environment)
        source.tearDown()
    }

    private func report(_ name: String) -> URL {
        source.state.root.appendingPathComponent("runs/\(name)")
    }

    private func result(_ directory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("result.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func verdicts(_ result: [String: Any]) -> [String] {
        ((result["items"] as? [[String: Any]]) ?? []).map { "\($0["verdict"] ?? "?")" }
    }

    /// Waits (bounded) until the replica holds the source's rows of `users`.
    private func waitForReplica(_ pipeline: ReplicaPipeline) throws {
        let deadline = Date().addingTimeInterval(60)
        var mine: [String] = [], theirs: [String] = []
        while Date() < deadline {
            theirs = try ReplicaFixture.emails(try source.direct(), table: "users")
            if let connection = try? pipeline.connect() { mine = (try? ReplicaFixture.emails(connection, table: "testdb.users")) ?? [] }
            if mine == theirs { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw FixtureError("replica has \(mine.count) rows of users, source \(theirs.count)")
    }

    /// On a terminal (no --yes) the run asks the tester, as a person meets it in tmux: at the observe
    /// step, Enter when their tool shows the error and what it says; then each item it could not
    /// measure. Their answers land in the outputs, marked as theirs.
    @Test func theTesterIsAskedOnATerminal() throws {
        try source.toolkit(["pipeline", "up"])
        let tmux = try #require(ChildProcess.find(["tmux"]), "tmux is installed by scripts/test-deps")
        let session = "run-\(UUID().uuidString.prefix(6))"
        let directory = report("terminal")
        let started = try Run.program(tmux, ["new-session", "-d", "-s", session, "-x", "250", "-y", "50",
                                             "-e", "TOOLKIT_HOME=\(source.state.root.path)",
                                             "sh", "-c", "'\(Run.toolkitPath)' run TC-004 --pipeline replica --duration 15 --tester Ann "
                                                 + "--report '\(directory.path)'; echo EXIT=$?; sleep 300"],
                                      timeout: 30)
        #expect(started.status == 0, "\(started.stderr)")
        defer { _ = try? Run.program(tmux, ["kill-session", "-t", session], timeout: 30) }
        func screen() -> String { (try? Run.program(tmux, ["capture-pane", "-p", "-J", "-S", "-200", "-t", session], timeout: 30).stdout) ?? "" }
        func waitFor(_ text: String, seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if screen().contains(text) { return true }
                Thread.sleep(forTimeInterval: 0.3)
            }
            return false
        }
        func type(_ keys: String) { _ = try? Run.program(tmux, ["send-keys", "-t", session, "-l", keys], timeout: 30) }
        func enter() { _ = try? Run.program(tmux, ["send-keys", "-t", session, "Enter"], timeout: 30) }
        try #require(waitFor("Press Enter when your ETL tool shows the error", seconds: 120), "\(screen())")
        #expect(screen().range(of: #"\[the fault ends in \d+ s; "#, options: .regularExpression) != nil, "\(screen())")
        Thread.sleep(forTimeInterval: 1)
        enter()
        try #require(waitFor("What error does your ETL tool show?", seconds: 30), "\(screen())")
        type("Connection refused, retrying in 10 s")
        enter()
        // Items the run could not measure are asked one by one (bounded); each gets a PASS and a note.
        var answered = 0
        let answering = Date().addingTimeInterval(240)
        while answered < 5, Date() < answering, !screen().contains("EXIT=") {
            let text = screen()
            if text.components(separatedBy: "Your verdict: p = PASS").count - 1 > answered {
                type("p"); enter()
                _ = waitFor("Note for item", seconds: 10)
                type("checked in the UI"); enter()
                answered += 1
            }
            Thread.sleep(forTimeInterval: 0.3)
        }
        try #require(waitFor("EXIT=", seconds: 240), "\(screen())")
        let result = try result(directory)
        let answers = try #require((result["observations"] as? [String: Any])?["tester_answers"] as? [String: Any], "\(screen())")
        let observed = try #require(answers["observed"] as? [String: [String: Any]])
        #expect(observed["error_message"]?["text"] as? String == "Connection refused, retrying in 10 s")
        #expect(observed["error_message"]?["tester"] as? String == "Ann")
        #expect((observed["detection"]?["text"] as? String ?? "").range(of: #"^their tool showed the error \d+\.\d\d s after the fault started$"#,
                                                                        options: .regularExpression) != nil, "\(observed)")
        let items = try #require(result["items"] as? [[String: Any]])
        #expect((items[0]["evidence"] as? String ?? "").contains("; Ann at "), "\(items[0])")
        let markdown = try String(contentsOf: directory.appendingPathComponent("TC-004.md"), encoding: .utf8)
        #expect(markdown.contains("the tester's tool showed \"Connection refused, retrying in 10 s\""), "\(markdown.suffix(2000))")
        let junit = try String(contentsOf: directory.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("Ann at "))
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("Ann at "))
        for item in items where (item["person"] as? [String: Any]) != nil {
            #expect((item["evidence"] as? String ?? "").contains(": checked in the UI; measured: "), "\(item)")
        }
    }

    /// TC-004 with the replica through the gateway: each item's verdict as measured (held, so a
    /// change shows), and every output checked.
    @Test func tc004WithTheReplica() throws {
        try source.toolkit(["pipeline", "up"])
        let directory = report("tc004")
        let run = try source.toolkit(["run", "TC-004", "--pipeline", "replica", "--duration", "5", "--yes",
                                      "--tester", "CI", "--report", directory.path, "--json"], expect: 0)
        let json = try result(directory)
        #expect(verdicts(json) == ["PASS", "PASS", "PASS", "PASS", "PASS"], "\(run.stdout)")
        #expect(json["verdict"] as? String == "PASS")
        // result.json is what its published schema says (`cases schema run-result`), as a validator by others reads it.
        try CaseFileTests.validate(directory.appendingPathComponent("result.json"), against: "run-result", environment: source.environment)
        let items = try #require(json["items"] as? [[String: Any]])
        #expect((items[3]["evidence"] as? String)?.contains("maintained") == true)
        #expect((items[1]["evidence"] as? String)?.contains("Connection refused") == true)

        // The Markdown log: the seed's layout, filled with measured numbers.
        let markdown = try String(contentsOf: directory.appendingPathComponent("TC-004.md"), encoding: .utf8)
        #expect(markdown.contains("### Run 1 - \(RunReportDay.today)"))
        #expect(markdown.contains("| Tester | CI |"))
        #expect(markdown.contains("| Result | PASS |"))
        #expect(markdown.range(of: #"Time to detect error: \d+\.\d\d seconds \(conn_(refused|reset|closed)\)"#, options: .regularExpression) != nil)
        #expect(markdown.range(of: #"Error message: ".*Connection refused.*" \(replica Last_IO_Error"#, options: .regularExpression) != nil)
        #expect(markdown.range(of: #"Retry behavior: window \d+: \d+ attempts? (\(\d+ connections\) )?at \d+\.\d\d s"#, options: .regularExpression) != nil)
        #expect(markdown.contains("- [x] Error detected immediately (< 30 seconds) — **PASS**"))
        #expect(markdown.contains("- [x] Replication position is maintained — **PASS**"))
        #expect(markdown.contains("- [junit.xml](junit.xml)"))
        #expect(!markdown.contains("[X seconds]"))

        // JUnit: parsed, one passing testcase per item.
        let xml = try XMLDocument(contentsOf: directory.appendingPathComponent("junit.xml"))
        let cases = try xml.nodes(forXPath: "//testcase")
        #expect(cases.count == 5)
        #expect(try xml.nodes(forXPath: "//testcase/failure").count == 0)
        for node in cases {
            let element = try #require(node as? XMLElement)
            #expect(element.attribute(forName: "name")?.stringValue?.isEmpty == false)
            #expect(element.attribute(forName: "time") != nil)
        }

        // The HTML timeline: the fault window, attempt marks, both row lines.
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<svg id=\"timeline\""))
        #expect(html.contains("class=\"fault-window\""))
        #expect(html.contains("class=\"attempt "))
        #expect(html.contains("class=\"source-rows\"") && html.contains("class=\"destination-rows\""))

        // In a real browser: the rendered page holds the timeline's fault window and attempt
        // marks, and its screenshot is far from blank (a blank page of the same size is tiny).
        let browser = try #require(ChildProcess.find(["chromium", "chromium-browser"]), "chromium is installed by scripts/test-deps")
        let profile = source.state.root.appendingPathComponent("chromium-profile").path
        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)", "--window-size=1100,900"]
        let page = directory.appendingPathComponent("report.html").absoluteString
        let dom = try Run.program(browser, flags + ["--dump-dom", page], timeout: 90)
        #expect(dom.stdout.contains("class=\"fault-window\""))
        #expect(dom.stdout.contains("class=\"attempt "))
        #expect(dom.stdout.contains("id=\"verdict\" class=\"verdict PASS\""))
        let screenshot = directory.appendingPathComponent("report.png")
        let blank = source.state.root.appendingPathComponent("blank.png")
        _ = try Run.program(browser, flags + ["--screenshot=\(screenshot.path)", page], timeout: 90)
        _ = try Run.program(browser, flags + ["--screenshot=\(blank.path)", "about:blank"], timeout: 90)
        let size = { (url: URL) in ((try? FileManager.default.attributesOfItem(atPath: url.path)[.size]) as? NSNumber)?.intValue ?? 0 }
        #expect(size(blank) > 0)
        #expect(size(screenshot) > 5 * size(blank), "screenshot \(size(screenshot)) bytes, blank page \(size(blank))")

        // The journal slice holds the run's fault window.
        let events = try String(contentsOf: directory.appendingPathComponent("events.jsonl"), encoding: .utf8)
        #expect(events.contains("\"kind\":\"fault_started\""))
        #expect(events.contains("\"kind\":\"fault_ended\""))

        // The network is clear after the run.
        #expect(try source.agentStatus().faults.isEmpty)
    }

    /// A replica made to skip the run's first transactions (`sql_slave_skip_counter`) loses rows:
    /// the run FAILs and names them.
    @Test func aLossyPipelineFailsNamingTheMissingRows() throws {
        try source.toolkit(["pipeline", "up"])
        let pipeline = ReplicaPipeline(home: source.state)
        try waitForReplica(pipeline)
        let replica = try pipeline.connect()
        try replica.execute("STOP SLAVE")
        try replica.execute("SET GLOBAL sql_slave_skip_counter = 3")
        try replica.execute("START SLAVE")
        replica.close()
        let directory = report("lossy")
        try source.toolkit(["run", "TC-004", "--pipeline", "replica", "--duration", "3", "--yes", "--report", directory.path, "--json"],
                           expect: 1)
        let json = try result(directory)
        #expect(json["verdict"] as? String == "FAIL")
        let data = try #require((json["items"] as? [[String: Any]])?.last)
        #expect(data["verdict"] as? String == "FAIL")
        let evidence = try #require(data["evidence"] as? String)
        #expect(evidence.range(of: #"\d+ missing \(users id=\d+"#, options: .regularExpression) != nil, "\(evidence)")
        let dataCheck = try #require((json["observations"] as? [String: Any])?["data"] as? [String: Any])
        // The data check is verify's own report: its counts, and the first keys it named.
        #expect(dataCheck["verdict"] as? String == "differences")
        let users = try #require((dataCheck["tables"] as? [[String: Any]])?.first { $0["table"] as? String == "users" })
        #expect((users["missing"] as? Int ?? 0) > 0)
        #expect((users["examples"] as? [String: [String]])?["missing"]?.isEmpty == false)
    }

    /// A pipeline that never reconnects (its IO thread stopped during the outage) FAILs on
    /// recovery, and the rows written meanwhile are named as missing.
    @Test func aPipelineThatNeverReconnectsFailsRecovery() throws {
        try source.toolkit(["pipeline", "up"])
        let pipeline = ReplicaPipeline(home: source.state)
        let directory = report("no-reconnect")
        let run = try Background(Run.toolkitPath, ["run", "TC-004", "--pipeline", "replica", "--duration", "3", "--yes",
                                                   "--report", directory.path], environment: source.environment)
        let deadline = Date().addingTimeInterval(60)
        var faulted = false
        while Date() < deadline, run.isRunning {
            if let status = try? source.agentStatus(), !status.faults.isEmpty { faulted = true; break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(faulted, "the run never started its fault: \(run.text)")
        let replica = try pipeline.connect()
        try replica.execute("STOP SLAVE IO_THREAD")
        replica.close()
        #expect(run.waitFor(seconds: 120) == 1, "\(run.text)")
        let json = try result(directory)
        // Whether the replica logged a refused reconnect before its IO thread was stopped is a race;
        // detection, recovery and data are not.
        let all = verdicts(json)
        #expect(all.count == 5 && all[0] == "PASS" && all[2] == "FAIL" && all[4] == "FAIL", "\(all)")
        #expect(json["verdict"] as? String == "FAIL")
        let items = try #require(json["items"] as? [[String: Any]])
        #expect((items[2]["evidence"] as? String)?.contains("never resumed") == true, "\(items[2])")
        #expect((items[4]["evidence"] as? String)?.contains("missing (users id=") == true, "\(items[4])")
    }

    /// A signal mid-fault: the network comes back, the load stops, the report says INTERRUPTED (exit 130).
    @Test func aSignalLeavesTheNetworkUpAndAnInterruptedReport() throws {
        try source.toolkit(["pipeline", "up"])
        let directory = report("interrupted")
        let run = try Background(Run.toolkitPath, ["run", "TC-004", "--pipeline", "replica", "--duration", "60", "--yes",
                                                   "--report", directory.path], environment: source.environment)
        let deadline = Date().addingTimeInterval(60)
        var faulted = false
        while Date() < deadline, run.isRunning {
            if let status = try? source.agentStatus(), !status.faults.isEmpty { faulted = true; break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(faulted, "the run never started its fault: \(run.text)")
        // A SIGTERM (a CI job cancelled) is not a Ctrl-C: the report says which signal came.
        run.signal(SIGTERM)
        #expect(run.waitFor(seconds: 60) == 130, "\(run.text)")
        #expect(try source.agentStatus().faults.isEmpty)
        let json = try result(directory)
        #expect(json["verdict"] as? String == "INTERRUPTED")
        #expect(json["reason"] as? String == "interrupted by SIGTERM; the network was restored and the load stopped")
        let junit = try String(contentsOf: directory.appendingPathComponent("junit.xml"), encoding: .utf8)
        #expect(junit.contains("type=\"INTERRUPTED\""))
    }

    /// A fault already active is a failed precondition: BLOCKED (exit 3), every item an error in JUnit;
    /// the user's fault is theirs, and goes on (a blocked run's clean-up used to end it).
    @Test func aFailedPreconditionBlocksTheRun() throws {
        try source.toolkit(["pipeline", "up"])
        try source.toolkit(["network", "--down", "--type", "reject", "--duration", "60", "--detach"])
        defer { _ = try? source.toolkit(["network", "--up"]) }
        let directory = report("blocked")
        let run = try source.toolkit(["run", "TC-004", "--pipeline", "replica", "--duration", "3", "--yes", "--report", directory.path],
                                     expect: 3)
        #expect(run.stdout.contains("BLOCKED"))
        let json = try result(directory)
        #expect(json["verdict"] as? String == "BLOCKED")
        #expect((json["reason"] as? String)?.contains("Network clear") == true)
        #expect(verdicts(json) == Array(repeating: "BLOCKED", count: 5))
        let xml = try XMLDocument(contentsOf: directory.appendingPathComponent("junit.xml"))
        #expect(try xml.nodes(forXPath: "//testcase/error").count == 5)
        let faults = try source.agentStatus().faults
        #expect(faults.map(\.fault.type) == [.reject], "the run ended the user's fault")
        #expect((faults.first?.remainingSeconds ?? 0) > 30)
        #expect(!(try String(contentsOf: directory.appendingPathComponent("TC-004.md"), encoding: .utf8)).contains("network up"))
    }

    /// A step whose command fails (here exit 2: no backup of that file) makes the run
    /// INCONCLUSIVE (exit 4), naming the step and its error in every output; the run still ends
    /// with the network up.
    @Test func aFailedStepMakesTheRunInconclusive() throws {
        try source.toolkit(["pipeline", "up"])
        let exported = source.state.root.appendingPathComponent("cases")
        try source.toolkit(["cases", "export", exported.path])
        let original = try String(contentsOf: exported.appendingPathComponent("TC-004-connection-refused-handling.yaml"), encoding: .utf8)
        let text = original.replacingOccurrences(of: "  wait: sync\n", with: "  toolkit: [restore, --file, mysql-bin.999999]\n")
        #expect(text != original)
        let file = source.state.root.appendingPathComponent("failing-step.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let directory = report("inconclusive")
        let run = try source.toolkit(["run", file.path, "--pipeline", "replica", "--duration", "3", "--yes", "--report", directory.path],
                                     expect: 4, timeout: 300)
        #expect(run.stdout.contains("INCONCLUSIVE"), "\(run.stdout)")
        let json = try result(directory)
        #expect(json["verdict"] as? String == "INCONCLUSIVE")
        let reason = try #require(json["reason"] as? String)
        #expect(reason.hasPrefix("step 1: toolkit restore --file mysql-bin.999999 failed (exit 2: toolkit: --file mysql-bin.999999: no backup"), "\(reason)")
        #expect((json["inconclusive"] as? [[String: Any]])?.first?["kind"] as? String == "step")
        let xml = try XMLDocument(contentsOf: directory.appendingPathComponent("junit.xml"))
        #expect(try xml.nodes(forXPath: "//testcase[@name='run']/error[@type='INCONCLUSIVE']").count == 1)
        let markdown = try String(contentsOf: directory.appendingPathComponent("TC-004.md"), encoding: .utf8)
        #expect(markdown.contains("| Result | INCONCLUSIVE |"))
        #expect(try source.agentStatus().faults.isEmpty)
    }

    /// `--append` adds a numbered run to the team's own case file.
    @Test func appendNumbersRunsInTheTeamsFile() throws {
        try source.toolkit(["pipeline", "up"])
        let file = source.state.root.appendingPathComponent("TC-004.md")
        let shown = try source.toolkit(["cases", "show", "TC-004"])
        try shown.stdout.write(to: file, atomically: true, encoding: .utf8)
        for _ in 1...2 {
            _ = try Run.toolkit(["run", "TC-004", "--pipeline", "replica", "--duration", "2", "--yes", "--append", file.path,
                                 "--report", report("append-\(UUID().uuidString.prefix(4))").path], environment: source.environment)
        }
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains("### Run 1 - \(RunReportDay.today)"))
        #expect(text.contains("### Run 2 - \(RunReportDay.today)"))
        #expect(!text.contains("YYYY-MM-DD"))
    }
}

enum RunReportDay {
    static var today: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date())
    }
}

/// `toolkit down` takes the managed replica down with the source: nothing outlives it.
@Suite(.tags(.integration, .endToEnd))
struct PipelineLifecycleTests {
    @Test func downStopsTheReplicaToo() throws {
        let source = try AgentFixture(name: "pipeline-down")
        defer {
            _ = try? ReplicaPipeline(home: source.state).down(purge: true)
            source.tearDown()
        }
        let up = try source.toolkit(["pipeline", "up", "--json"])
        #expect(up.stdout.contains("\"running\" : true"))
        let pipeline = ReplicaPipeline(home: source.state)
        let server = try ManagedServer.locate(state: pipeline.state)
        let pid = try #require(server.runningPID())
        let status = try source.toolkit(["pipeline", "status"])
        #expect(status.stdout.contains("through the gateway"))
        try source.toolkit(["down", "--purge"])
        let deadline = Date().addingTimeInterval(30)
        while kill(pid, 0) == 0, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(kill(pid, 0) != 0, "the replica (pid \(pid)) outlived toolkit down")
        #expect(!FileManager.default.fileExists(atPath: pipeline.state.root.path))
    }
}

/// `toolkit cases` and `run`'s input checks: no server needed.
@Suite(.tags(.endToEnd))
struct CasesCommandTests {
    let environment: [String: String] = {
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-cases-\(getpid())").path
        return env
    }()

    @Test func listsTheBuiltins() throws {
        let run = try Run.toolkit(["cases", "--json"], environment: environment)
        #expect(run.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(list.compactMap { $0["id"] as? String } == (1...12).map { String(format: "TC-%03d", $0) })
    }

    @Test func showPrintsTheSeedDocument() throws {
        let run = try Run.toolkit(["cases", "show", "TC-004"], environment: environment)
        #expect(run.status == 0)
        let seed = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TestCasesTests/Seed/TC-004-connection-refused-handling.md")
        #expect(run.stdout == (try String(contentsOf: seed, encoding: .utf8)))
    }

    @Test func exportWritesEditableFilesThatLoadBack() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try Run.toolkit(["cases", "export", directory.path], environment: environment).status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files.count == 12)
        let file = directory.appendingPathComponent("TC-004-connection-refused-handling.yaml")
        let edited = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "Connection Refused Handling", with: "Refused, our way")
        try edited.write(to: file, atomically: true, encoding: .utf8)
        let shown = try Run.toolkit(["cases", "show", file.path], environment: environment)
        #expect(shown.status == 0)
        #expect(shown.stdout.hasPrefix("# TC-004: Refused, our way\n"))
    }

    @Test func badInputExitsTwoNamingTheFlag() throws {
        let noPipeline = try Run.toolkit(["run", "TC-004"], environment: environment)
        #expect(noPipeline.status == 2)
        #expect(noPipeline.stderr.contains("--pipeline replica"))
        let unknown = try Run.toolkit(["run", "TC-999", "--pipeline", "replica"], environment: environment)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("TC-999"))
        let badSet = try Run.toolkit(["run", "TC-007", "--pipeline", "replica", "--set", "speed=3"], environment: environment)
        #expect(badSet.status == 2)
        #expect(badSet.stderr.contains("speed"))
        let badCase = try Run.toolkit(["cases", "show", "/nonexistent/case.yaml"], environment: environment)
        #expect(badCase.status == 2)
    }
}
