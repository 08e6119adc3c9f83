import Agent
import AgentAPI
import Foundation
import Infrastructure
import Measurements
import Synchronization
import Testing

/// An upgrade from a version with one `journal.jsonl`, with the real `toolkit up` and agent: `up`
/// waits for the migration with its progress, the agent answers `/status` meanwhile, and an agent
/// killed halfway is started again by its supervisor and finishes it.
@Suite("an earlier version's journal migrated by the real agent", .tags(.integration))
struct AgentMigrationTests {
    /// What a watcher saw of the migration through `/status`, the agent it killed, a command it ran.
    final class Watch: Sendable {
        let seen = Mutex<[JournalMigrationProgress]>([])
        let killed = Mutex<pid_t?>(nil)
        let ran = Mutex<Run?>(nil)
        let done = Atomic<Bool>(false)
    }

    /// A `TOOLKIT_HOME` whose earlier version left `journal.jsonl` with `windows` flapping windows
    /// (and, long after the last, one more event: every window is final in the old file, as in the
    /// journal of an agent that ran on after its last fault); the environment that points at it.
    static func upgradedHome(_ name: String, windows: Int) throws -> (StateDirectory, [String: String], [JournalEvent]) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-migrate-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let state = StateDirectory(root: root)
        var environment = ProcessInfo.processInfo.environment
        environment["TOOLKIT_HOME"] = root.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD", "MYSQL_DATABASE", "MYSQL_ROOT_PASSWORD"] { environment[name] = nil }
        let soak = JournalSegmentsTests.soak(windows: windows)
        let events = soak + [JournalEvent(at: soak.last!.at + 600, kind: .note)]
        let codec = JournalCodec()
        var legacy = Data()
        for event in events { legacy.append(try codec.encodeLine(event)) }
        try legacy.write(to: state.journalFile)
        return (state, environment, events)
    }

    static func up(_ environment: [String: String]) throws -> Run {
        try Run.toolkit(["up", "--port", String(PortProbe.ephemeral()), "--upstream", "127.0.0.1:\(PortProbe.ephemeral())", "--json"],
                        environment: environment, timeout: 900)
    }

    /// With the agent stopped: every old event once, in order, no gap, seq without a hole, and every
    /// window measured as the old file measures it.
    static func checkMigrated(_ state: StateDirectory, _ events: [JournalEvent]) throws {
        let files = JournalDirectory(state: state)
        #expect(!FileManager.default.fileExists(atPath: state.journalFile.path))
        #expect(!FileManager.default.fileExists(atPath: files.migrationFile.path))
        let all = files.events(after: 0, limit: 10_000_000)
        #expect(all.map(\.seq) == (1...UInt64(all.count)).map { $0 })
        let old = all.filter { $0.at < events.last!.at + 1 }
        #expect(JournalSegmentsTests.withoutSeq(old) == events, "every old event once, in order (\(old.count) of \(events.count))")
        #expect(!all.contains { $0.kind == .gap })
        let journal = try Journal(files: files, grace: 5)
        defer { journal.close() }
        let reports = JournalSegmentsTests.allReports(journal)
        let expected = JournalTimeline(events).reports()
        #expect(reports.count == expected.count)
        for (report, want) in zip(reports, expected) where report != want {
            Issue.record("window \(want.window): \(report) but the old journal measures \(want)")
            break
        }
    }

    @Test("up waits for the migration and shows its progress; the agent killed halfway finishes it; every window once")
    func upWaitsThroughAKilledMigration() throws {
        let (state, environment, events) = try Self.upgradedHome("killed", windows: 2_000)
        defer {
            _ = try? Run.toolkit(["down", "--purge", "--force"], environment: environment)
            try? FileManager.default.removeItem(at: state.root)
        }

        // Watching /status while up waits; once a third is done, the agent is killed (SIGKILL).
        let watch = Watch()
        let watcher = DispatchGroup()
        DispatchQueue.global().async(group: watcher) {
            while !watch.done.load(ordering: .relaxed) {
                if let status = try? AgentDiscovery.client(state: state).status(), let progress = status.migration {
                    watch.seen.withLock { $0.append(progress) }
                    if watch.ran.withLock({ $0 == nil }) {
                        let fault = try? Run.toolkit(["network", "--down", "--type", "reject"], environment: environment)
                        watch.ran.withLock { $0 = fault }
                    }
                    if progress.events > events.count / 3, watch.killed.withLock({ $0 == nil }) {
                        kill(status.pid, SIGKILL)
                        watch.killed.withLock { $0 = status.pid }
                    }
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        let up = try Self.up(environment)
        watch.done.store(true, ordering: .relaxed)
        watcher.wait()
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stderr.contains("migrating the journal of an earlier version: "), "\(up.stderr)")
        let seen = watch.seen.withLock { $0 }
        #expect(seen.contains { $0.events > 0 && $0.events < events.count }, "/status answered with the progress")
        #expect(seen.allSatisfy { $0.totalEvents == events.count })
        let killed = try #require(watch.killed.withLock { $0 }, "the migration lasted long enough to kill the agent halfway")
        let fault = try #require(watch.ran.withLock { $0 })
        #expect(fault.status == 1 && fault.stderr.contains("fault commands (network --up too) are refused until it is done"), "\(fault.stderr)")

        let status = try AgentDiscovery.client(state: state).status()
        #expect(status.pid != killed && status.migration == nil && status.gatewayListening)
        #expect(!FileManager.default.fileExists(atPath: state.journalFile.path))
        let stop = try Run.toolkit(["down"], environment: environment)
        #expect(stop.status == 0, "\(stop.stderr)")

        try Self.checkMigrated(state, events)
    }

    @Test("down during the migration stops the agent between two batches; the next up finishes it")
    func downDuringTheMigration() throws {
        let (state, environment, events) = try Self.upgradedHome("down", windows: 1_000)
        defer {
            _ = try? Run.toolkit(["down", "--purge", "--force"], environment: environment)
            try? FileManager.default.removeItem(at: state.root)
        }
        let watch = Watch()
        let waiting = DispatchGroup()
        DispatchQueue.global().async(group: waiting) {
            let run = try? Self.up(environment)
            watch.ran.withLock { $0 = run }
        }
        let deadline = Date().addingTimeInterval(120)
        var seen: JournalMigrationProgress?
        while seen == nil && Date() < deadline {
            seen = (try? AgentDiscovery.client(state: state).status())?.migration.flatMap { $0.events > 0 ? $0 : nil }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let progress = try #require(seen, "the agent answered /status with its migration's progress")
        let shown = try Run.toolkit(["network", "--status"], environment: environment)
        #expect(shown.status == 0 && shown.stdout.contains("\nJournal    migrating the journal of an earlier version: "), "\(shown.stdout)")
        let down = try Run.toolkit(["down"], environment: environment, timeout: 60)
        #expect(down.status == 0, "\(down.stderr)")
        waiting.wait()
        let up = try #require(watch.ran.withLock { $0 })
        #expect(up.status == 1 && up.stderr.contains("the agent exited during start-up"), "\(up.stderr)")
        #expect(AgentDiscovery.runningPID(state: state) == nil)
        #expect(FileManager.default.fileExists(atPath: state.journalFile.path), "the old file stays until it is migrated")
        let record = try Data(contentsOf: JournalDirectory(state: state).migrationFile)
        let done = try #require(try JSONSerialization.jsonObject(with: record) as? [String: Any])
        let count = try #require(done["events"] as? Int)
        #expect(count >= progress.events && count < events.count, "\(done)")

        let again = try Self.up(environment)
        #expect(again.status == 0, "\(again.stderr)")
        let prefix = "migrating the journal of an earlier version: "
        let line = try #require(again.stderr.split(separator: "\n").first { $0.hasPrefix(prefix) }, "\(again.stderr)")
        let resumedAt = Int(line.dropFirst(prefix.count).prefix { $0 != " " }.filter(\.isNumber))
        #expect(resumedAt.map { $0 >= count } == true, "the second up goes on from \(count), not from the start: \(line)")
        #expect(try Run.toolkit(["down"], environment: environment).status == 0)
        try Self.checkMigrated(state, events)
    }

    @Test("a second up of a managed source while its agent migrates waits for it too, with the progress")
    func secondUpWaits() throws {
        let (state, environment, events) = try Self.upgradedHome("again", windows: 1_000)
        defer {
            _ = try? Run.toolkit(["down", "--purge", "--force"], environment: environment)
            try? FileManager.default.removeItem(at: state.root)
        }
        // The managed source's own up, both times: with --upstream, up starts the agent afresh.
        let port = String(PortProbe.ephemeral())
        let up: @Sendable () throws -> Run = { try Run.toolkit(["up", "--port", port, "--json"], environment: environment, timeout: 900) }
        let watch = Watch()
        let waiting = DispatchGroup()
        DispatchQueue.global().async(group: waiting) {
            let run = try? up()
            watch.ran.withLock { $0 = run }
        }
        let deadline = Date().addingTimeInterval(300)
        while (try? AgentDiscovery.client(state: state).status())?.migration == nil && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let pid = try #require(AgentDiscovery.runningPID(state: state))
        let second = try up()
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("migrating the journal of an earlier version: "), "\(second.stderr)")
        let status = try AgentDiscovery.client(state: state).status()
        #expect(status.pid == pid && status.migration == nil && status.gatewayListening, "the second up returned once the migration was done")
        waiting.wait()
        let first = try #require(watch.ran.withLock { $0 })
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try Run.toolkit(["down"], environment: environment).status == 0)
        try Self.checkMigrated(state, events)
    }
}
