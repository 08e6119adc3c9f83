import AgentAPI
import Foundation
import Infrastructure
import Testing

/// A run that tells the truth about itself: one run holds a source at a time, and what the case
/// did not ask for — a fault someone else started, the agent killed and restarted, `toolkit down`
/// — makes the run INCONCLUSIVE (exit 4), naming when and why, instead of a PASS or a FAIL of the
/// pipeline. Real runs of TC-004 against the managed replica.
@Suite(.tags(.integration, .endToEnd, .slow), .serialized)
final class RunHonestyTests {
    let source: AgentFixture

    init() throws {
        source = try AgentFixture(name: "honest-\(UUID().uuidString.prefix(6))")
    }

    deinit {
        _ = try? Run.toolkit(["pipeline", "down", "--purge"], environment: source.environment)
        source.tearDown()
    }

    private func directory(_ name: String) -> URL { source.state.root.appendingPathComponent("runs/\(name)") }

    private func result(_ directory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("result.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func causes(_ json: [String: Any]) -> [String] {
        ((json["inconclusive"] as? [[String: Any]]) ?? []).compactMap { $0["kind"] as? String }
    }

    /// TC-004 in the background; returns once its fault is on.
    private func runUntilItsFault(_ name: String, duration: Int) throws -> Background {
        try source.toolkit(["pipeline", "up"])
        let run = try Background(Run.toolkitPath, ["run", "TC-004", "--pipeline", "replica", "--duration", String(duration), "--yes",
                                                   "--report", directory(name).path], environment: source.environment)
        let deadline = Date().addingTimeInterval(90)
        while Date() < deadline, run.isRunning {
            if let status = try? source.agentStatus(), !status.faults.isEmpty { return run }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw FixtureError("the run never started its fault: \(run.text)")
    }

    /// Two runs at once used to both PASS on one window: the second is BLOCKED (exit 3) naming
    /// the holder, and the first goes on to its own verdict.
    @Test func aSecondRunIsBlockedNamingTheHolder() throws {
        let first = try runUntilItsFault("first", duration: 8)
        let holder = try #require(RunLock.currentHolder(state: source.state))
        #expect(holder.pid == first.pid)
        #expect(holder.command == "run TC-004")
        let second = try source.toolkit(["run", "TC-004", "--pipeline", "replica", "--duration", "8", "--yes",
                                         "--report", directory("second").path], expect: 3)
        #expect(second.stdout.contains("BLOCKED"))
        let reason = try #require(try result(directory("second"))["reason"] as? String)
        #expect(reason.hasPrefix("the source is held by run TC-004 (pid \(first.pid), started "), "\(reason)")
        #expect(first.waitFor(seconds: 180) == 0, "\(first.text)")
        #expect(try result(directory("first"))["verdict"] as? String == "PASS")
        #expect(RunLock.currentHolder(state: source.state) == nil, "the lock outlived its run")
    }

    /// A `network --down` from another shell during the run's fault used to stretch the run's
    /// window and leave it PASSing: the run is INCONCLUSIVE, naming the command, its time and sender.
    @Test func aFaultTheRunDidNotStartMakesItInconclusive() throws {
        let run = try runUntilItsFault("foreign", duration: 8)
        let other = try source.toolkit(["network", "--down", "--type", "reject", "--duration", "12", "--detach"])
        #expect(other.stderr.contains("holds the source; a fault it did not start makes that run INCONCLUSIVE"), "\(other.stderr)")
        #expect(run.waitFor(seconds: 180) == 4, "\(run.text)")
        let json = try result(directory("foreign"))
        #expect(json["verdict"] as? String == "INCONCLUSIVE")
        #expect(causes(json) == ["foreign_fault"], "\(json["inconclusive"] ?? "")")
        let reason = try #require(json["reason"] as? String)
        #expect(reason.contains("a fault the run did not start: `down reject for 12 s` at "), "\(reason)")
        #expect(try source.agentStatus().faults.isEmpty)
    }

    /// The agent killed during the fault: the supervisor restarts it and the pipeline sees an
    /// outage the case did not ask for. That run used to exit 0 PASS.
    @Test func aRestartedAgentMakesTheRunInconclusive() throws {
        let run = try runUntilItsFault("restart", duration: 8)
        let agent = try #require(source.agentPID)
        kill(agent, SIGKILL)
        let agentLog = { (try? String(contentsOf: self.source.state.logDirectory.appendingPathComponent("agent.log"), encoding: .utf8))
            .map { $0.split(separator: "\n").suffix(30).joined(separator: "\n") } ?? "(no agent.log)" }
        #expect(run.waitFor(seconds: 180) == 4, "\(run.text)\nagent.log:\n\(agentLog())")
        let json = try result(directory("restart"))
        #expect(json["verdict"] as? String == "INCONCLUSIVE")
        #expect(causes(json).contains("agent_restarted"), "\(json["inconclusive"] ?? "")\nagent.log:\n\(agentLog())")
        let reason = try #require(json["reason"] as? String)
        #expect(reason.contains("after the previous agent (pid \(agent)) was killed by signal 9"), "\(reason)")
        // The window the new agent took over says when no agent was observing its attempts.
        let windows = (json["observations"] as? [String: Any])?["windows"] as? [[String: Any]] ?? []
        let down = windows.compactMap { ($0["attempts"] as? [String: Any])?["agent_down"] as? [[String: Any]] }.flatMap { $0 }
        #expect(down.count == 1, "\(windows)")
        #expect((down.first?["detail"] as? String)?.contains("(pid \(agent)) was killed by signal 9") == true, "\(down)")
        #expect(try source.agentStatus().faults.isEmpty)
    }

    /// `toolkit down` while a run holds the source says so and changes nothing (exit 3); with
    /// `--force` the run stops within seconds (it used to wait 160 s and FAIL on what it never
    /// saw), INCONCLUSIVE, naming who stopped the source.
    @Test func downDuringARunNeedsForceAndTheRunSaysWhatHappened() throws {
        let run = try runUntilItsFault("down", duration: 60)
        let refused = try source.toolkit(["down"], expect: 3)
        #expect(refused.stderr.contains("run TC-004 (pid \(run.pid), started "), "\(refused.stderr)")
        #expect(refused.stderr.contains("--force"))
        #expect(try source.agentStatus().faults.count == 1, "a refused down changed something")
        let stopped = Date()
        try source.toolkit(["down", "--force"])
        #expect(run.waitFor(seconds: 60) == 4, "\(run.text)")
        #expect(Date().timeIntervalSince(stopped) < 45)
        let json = try result(directory("down"))
        #expect(json["verdict"] as? String == "INCONCLUSIVE")
        #expect(causes(json).contains("source_down"), "\(json["inconclusive"] ?? "")")
        #expect(!causes(json).contains("restore"))
        let reason = try #require(json["reason"] as? String)
        #expect(reason.contains("toolkit down --force while run TC-004 (pid \(run.pid)"), "\(reason)")
        let windows = try #require((json["observations"] as? [String: Any])?["windows"] as? [[String: Any]])
        #expect(!windows.isEmpty, "the run's window went missing without the agent")
        let markdown = try String(contentsOf: directory("down").appendingPathComponent("TC-004.md"), encoding: .utf8)
        #expect(!markdown.contains("the fault ended; network up"))
    }
}

/// The lock itself: held by one descriptor at a time, released with it, and a holder file
/// another account could write is not trusted.
@Suite struct RunLockTests {
    let state = StateDirectory(root: FileManager.default.temporaryDirectory.appendingPathComponent("runlock-\(UUID().uuidString.prefix(8))"))

    init() throws {
        try FileManager.default.createDirectory(at: state.runDirectory, withIntermediateDirectories: true)
    }

    @Test func oneHolderAtATimeAndReleasedWithIt() throws {
        defer { try? FileManager.default.removeItem(at: state.root) }
        #expect(RunLock.currentHolder(state: state) == nil)
        let lock = try RunLock.acquire(state: state, command: "run TC-004", now: 1_700_000_000)
        #expect(RunLock.currentHolder(state: state) == RunLockHolder(pid: getpid(), command: "run TC-004", started: 1_700_000_000))
        // Asking who holds it opened and closed the file again: the hold survives that.
        #expect(RunLock.currentHolder(state: state) != nil)
        do {
            _ = try RunLock.acquire(state: state, command: "run TC-001")
            Issue.record("a second holder was let in")
        } catch {
            guard case .busy(let holder) = error else { Issue.record("\(error)"); return }
            #expect(holder?.command == "run TC-004")
            #expect(error.description.hasPrefix("the source is held by run TC-004 (pid \(getpid()), started 22:13:20 UTC)"))
        }
        lock.release()
        #expect(RunLock.currentHolder(state: state) == nil)
        let again = try RunLock.acquire(state: state, command: "run TC-001")
        #expect(again.holder.command == "run TC-001")
    }

    @Test func aLockFileOthersCanWriteIsRefused() throws {
        defer { try? FileManager.default.removeItem(at: state.root) }
        let file = RunLock.file(state)
        FileManager.default.createFile(atPath: file.path, contents: Data())
        chmod(file.path, 0o666)
        #expect(throws: RunLock.Failure.self) { try RunLock.acquire(state: state, command: "run TC-004") }
        #expect(RunLock.currentHolder(state: state) == nil)
    }
}
