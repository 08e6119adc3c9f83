@testable import Agent
import AgentAPI
import Faults
import Foundation
import Infrastructure
import Measurements
import Testing

/// The whole state directory on a 200 MB tmpfs the test mounts, filled up while the real agent
/// (started by `toolkit up`, with its supervisor and server) has a fault in force: an ended fault
/// never comes back, `--up` says it could not save, the supervisor keeps trying until there is room,
/// and the journal and `agent.log` hold whole lines only, with the events they lost reported as gaps.
@Suite("a full state directory: ended faults stay ended, whole lines, gaps reported", .tags(.integration, .slow), .serialized,
       .enabled(if: geteuid() == 0, "mounting a tmpfs needs root"))
struct FullDiskTests {
    static func segmentLines(_ state: StateDirectory) -> [Substring] {
        let directory = JournalDirectory(state: state)
        return directory.segmentNumbers().flatMap { number -> [Substring] in
            let text = String(decoding: FileManager.default.contents(atPath: directory.segmentURL(number).path) ?? Data(), as: UTF8.self)
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
                + (text.hasSuffix("\n") || text.isEmpty ? [] : ["<torn: no newline at the end>"])
        }
    }

    /// Every line of every segment is one whole event.
    static func expectWholeJournal(_ state: StateDirectory, _ when: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let codec = JournalCodec()
        let bad = segmentLines(state).filter { (try? codec.decodeLine(Data($0.utf8))) == nil }
        #expect(bad.isEmpty, "\(when): lines that are not one event: \(bad.prefix(3))", sourceLocation: sourceLocation)
    }

    /// Every line of agent.log is one whole record (a timestamp and a level), or the agent's own one-line error.
    static func expectWholeLog(_ state: StateDirectory, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let text = AgentLogTests.text(AgentLogTests.logFile(state))
        #expect(text.hasSuffix("\n"), "agent.log ends in a torn line", sourceLocation: sourceLocation)
        let bad = text.split(separator: "\n").filter {
            $0.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [a-z]+ [a-z.]+: "#, options: .regularExpression) == nil
                && !$0.hasPrefix("toolkit: ")
        }
        #expect(bad.isEmpty, "torn or glued agent.log lines: \(bad.prefix(3))", sourceLocation: sourceLocation)
        return text
    }

    static func events(_ fixture: AgentFixture) throws -> [JournalEvent] {
        journalEvents(try fixture.toolkit(["events", "--json", "--last", "0"]).stdout)
    }

    /// Events while the disk is full: latency on and off (which leaves a connection fault in force).
    static func journalWhileFull(_ fixture: AgentFixture, rounds: Int = 4) throws {
        for _ in 0..<rounds {
            try fixture.toolkit(["network", "--slow", "--latency", "1"])
            try fixture.toolkit(["network", "--slow", "--off"])
        }
    }

    /// A full tmpfs still takes writes into the unused rest of a file's last page: uses that up with
    /// one whole line (`line(n)` must be n bytes, "\n" included), so that the file's next write fails.
    static func useUpLastPage(of file: URL, _ line: (Int) -> String) throws {
        var info = stat()
        guard stat(file.path, &info) == 0 else { throw FixtureError("stat \(file.path)") }
        let page = Int(info.st_blksize)
        let rest = (page - Int(info.st_size) % page) % page
        guard rest > 0 else { return }
        let text = line(rest)
        #expect(text.utf8.count == rest)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Fills the disk, then the last pages of the current journal segment and of agent.log.
    static func fillUp(_ fixture: AgentFixture, _ tmpfs: ScratchTmpfs) throws -> URL {
        let fill = try tmpfs.fill()
        let directory = JournalDirectory(state: fixture.state)
        let segment = directory.segmentURL(try #require(directory.segmentNumbers().last))
        let at = String(format: "%.6f", Date().timeIntervalSince1970)
        try useUpLastPage(of: segment) { n in
            // A note of the test's own, without a seq: the agent's readers leave it out.
            let head = #"{"at":\#(at),"detail":""#, tail = #"","kind":"note"}"# + "\n"
            return head + String(repeating: "x", count: max(0, n - head.utf8.count - tail.utf8.count)) + tail
        }
        try useUpLastPage(of: AgentLogTests.logFile(fixture.state)) { n in
            let head = AgentLogLine.timestamp(Date()) + " info test: the disk is full "
            return head + String(repeating: "x", count: max(0, n - head.utf8.count - 1)) + "\n"
        }
        return fill
    }

    @Test("a timed reject ended by --up on a full disk: --up exits 1 saying so, the supervisor retries until there is room, the reject never comes back")
    func endedFaultStaysEnded() throws {
        let fixture = try AgentFixture(name: "full-disk-up", tmpfs: "200m")
        defer { fixture.tearDown() }
        let tmpfs = try #require(fixture.tmpfs)
        try fixture.toolkit(["network", "--down", "--type", "reject", "--duration", "300", "--detach"])
        let window = try #require(try fixture.agentStatus().faults.first?.windowID)
        #expect(!NetworkUpRecoveryTests.etlLogin(port: fixture.port))

        let fill = try Self.fillUp(fixture, tmpfs)
        defer { try? FileManager.default.removeItem(at: fill) }
        try Self.journalWhileFull(fixture)
        let up = try fixture.toolkit(["network", "--up"], expect: 1)
        #expect(up.stderr.contains("network --up restored everything, but"), "\(up.stderr)")
        #expect(up.stderr.contains("cannot save the agent's schedule") && up.stderr.contains("No space left on device"), "\(up.stderr)")
        #expect(up.stderr.split(separator: "\n").count == 1, "\(up.stderr)")
        let restored = try fixture.agentStatus()
        #expect(restored.faults.isEmpty && restored.gatewayListening, "--up restored the network first")
        #expect(NetworkUpRecoveryTests.etlLogin(port: fixture.port))

        // The agent dies while the disk is full; its successor cannot even write agent.pid.
        let supervisor = try #require(AgentCrashTests.supervisor(fixture.state))
        let old = try #require(fixture.agentPID)
        AgentCrashTests.kill9(old)
        Thread.sleep(forTimeInterval: 8)
        #expect(ChildProcess.isAlive(supervisor.pid), "the supervisor gave up")
        #expect(!AgentCrashTests.answers(fixture.state.agentSocketFile), "an agent started with no room for agent.pid")

        try FileManager.default.removeItem(at: fill)
        let freed = Date()
        try Poll.until(seconds: 20, "the supervisor to start the agent once there is room") {
            (fixture.agentPID.map { $0 != old && ChildProcess.isAlive($0) } ?? false) && AgentCrashTests.answers(fixture.state.agentSocketFile)
        }
        let back = Date().timeIntervalSince(freed)
        print("full-disk: the agent answered \(String(format: "%.1f", back)) s after the space was freed")
        #expect(back < 10, "the agent came back \(back) s after the space was freed")

        let status = try fixture.agentStatus()
        #expect(status.faults.isEmpty, "an ended fault came back: \(status.faults)")
        #expect(status.gatewayListening)
        #expect(NetworkUpRecoveryTests.etlLogin(port: fixture.port))
        let events = try Self.events(fixture)
        let putBack = events.filter { ($0.detail ?? "").contains("put back") }
        #expect(putBack.isEmpty, "\(putBack.compactMap(\.detail))")
        #expect(events.filter { $0.kind == .faultStarted && $0.window == window }.count == 1)

        Self.expectWholeJournal(fixture.state, "after the restart")
        // The supervisor says why it kept trying, once the log has room again.
        let log = try AgentLogTests.waitForLog(AgentLogTests.logFile(fixture.state), containing: "runs again, after", seconds: 15)
        #expect(log.contains("log records lost: disk full from") || log.contains("log record lost: disk full from"), "\(log.suffix(2000))")
        _ = Self.expectWholeLog(fixture.state)
        for line in log.split(separator: "\n") where line.contains(" agent.supervisor: ") || line.contains(" agent.log: ") {
            print("full-disk: \(line)")
        }
    }

    @Test("events lost on a full disk: whole lines only, a gap event, window 1 keeps its length and reports the gap, also after a restart; a torn line is cut off at start")
    func journalStaysWhole() throws {
        let fixture = try AgentFixture(name: "full-disk-journal", tmpfs: "200m")
        defer { fixture.tearDown() }
        let tmpfs = try #require(fixture.tmpfs)
        try fixture.toolkit(["network", "--down", "--type", "reject", "--duration", "2", "--detach"])
        let first = try #require(try fixture.agentStatus().faults.first?.windowID)
        try fixture.waitForStatus(10, "window \(first) to end") { $0.faults.isEmpty }

        let fill = try Self.fillUp(fixture, tmpfs)
        try Self.journalWhileFull(fixture)
        try fixture.toolkit(["network", "--down", "--type", "reject", "--duration", "30", "--detach"])
        _ = try fixture.toolkit(["network", "--up"], expect: 1)
        try FileManager.default.removeItem(at: fill)
        // The first event written once there is room is preceded by the gap.
        try fixture.toolkit(["network", "--down", "--type", "reset"])

        func check(_ when: String) throws {
            Self.expectWholeJournal(fixture.state, when)
            let gaps = try Self.events(fixture).filter { $0.kind == .gap }
            // One gap, unless something else freed a page meanwhile and a line got through.
            #expect(!gaps.isEmpty && gaps.allSatisfy { ($0.detail ?? "").contains(" lost: disk full from ") }, "\(when): \(gaps)")
            #expect(gaps.reduce(0) { $0 + ($1.count ?? 0) } >= 8, "\(when): \(gaps)")
            let run = try fixture.toolkit(["network", "--window", String(first), "--json"])
            let report = try JSONDecoder().decode(WindowReport.self, from: Data(run.stdout.utf8))
            #expect(report.duration.map { abs($0 - 2) < 1 } == true, "\(when): window \(first) lasted \(report.duration ?? -1) s")
            // Window 1 is not measured across the gap after its end, and says so.
            #expect(report.journalGaps?.first?.contains("lost: disk full from") == true, "\(when): \(report.journalGaps ?? [])")
            let text = try fixture.toolkit(["network", "--window", String(first)]).stdout
            #expect(text.contains("  gap          ") && text.contains("lost: disk full from"), "\(when): \(text)")
        }
        try check("the agent that lost the events")
        _ = try AgentCrashTests.killAgentAndAwaitRestart(fixture.state)
        try check("a restarted agent")

        // A line cut short by an earlier agent is cut off at start and journaled as a gap; the next event is whole.
        let pid = try #require(fixture.agentPID)
        if let supervisor = AgentCrashTests.supervisor(fixture.state) { kill(supervisor.pid, SIGSTOP) }
        AgentCrashTests.kill9(pid)
        let directory = JournalDirectory(state: fixture.state)
        let segment = directory.segmentURL(try #require(directory.segmentNumbers().last))
        let handle = try FileHandle(forWritingTo: segment)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"at":1764000000.5,"conn":7,"kind":"conn"#.utf8))
        try handle.close()
        if let supervisor = AgentCrashTests.supervisor(fixture.state) { kill(supervisor.pid, SIGCONT) }
        try Poll.until(seconds: 15, "the agent to start again") {
            (fixture.agentPID.map { $0 != pid } ?? false) && AgentCrashTests.answers(fixture.state.agentSocketFile)
        }
        Self.expectWholeJournal(fixture.state, "after the torn line")
        let torn = try Self.events(fixture).filter { $0.kind == .gap && ($0.detail ?? "").contains("a line cut short") }
        #expect(torn.count == 1 && torn.first?.at == 1764000000.5, "\(torn)")
        let log = Self.expectWholeLog(fixture.state)
        #expect(log.contains("log records lost: disk full from") || log.contains("log record lost: disk full from"), "\(log.suffix(2000))")
    }
}
