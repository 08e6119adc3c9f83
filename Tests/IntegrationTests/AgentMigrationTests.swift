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
    /// What a watcher saw of the migration through `/status`, and the agent it killed.
    final class Watch: Sendable {
        let seen = Mutex<[JournalMigrationProgress]>([])
        let killed = Mutex<pid_t?>(nil)
        let refused = Mutex<Run?>(nil)
        let done = Atomic<Bool>(false)
    }

    @Test("up waits for the migration and shows its progress; the agent killed halfway finishes it; every window once")
    func upWaitsThroughAKilledMigration() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-migrate-\(getpid())")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let state = StateDirectory(root: root)
        var variables = ProcessInfo.processInfo.environment
        variables["TOOLKIT_HOME"] = root.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD", "MYSQL_DATABASE", "MYSQL_ROOT_PASSWORD"] { variables[name] = nil }
        let environment = variables
        defer {
            _ = try? Run.toolkit(["down", "--purge", "--force"], environment: environment)
            try? FileManager.default.removeItem(at: root)
        }
        // Its last event came long after its last window: every window is final in the old file,
        // as in the journal of an agent that ran on after its last fault.
        let soak = JournalSegmentsTests.soak(windows: 2_000)
        let events = soak + [JournalEvent(at: soak.last!.at + 600, kind: .note)]
        let codec = JournalCodec()
        var legacy = Data()
        for event in events { legacy.append(try codec.encodeLine(event)) }
        try legacy.write(to: state.journalFile)

        // Watching /status while up waits; once a third is done, the agent is killed (SIGKILL).
        let watch = Watch()
        let watcher = DispatchGroup()
        DispatchQueue.global().async(group: watcher) {
            while !watch.done.load(ordering: .relaxed) {
                if let status = try? AgentDiscovery.client(state: state).status(), let progress = status.migration {
                    watch.seen.withLock { $0.append(progress) }
                    if watch.refused.withLock({ $0 == nil }) {
                        let fault = try? Run.toolkit(["network", "--down", "--type", "reject"], environment: environment)
                        watch.refused.withLock { $0 = fault }
                    }
                    if progress.events > events.count / 3, watch.killed.withLock({ $0 == nil }) {
                        kill(status.pid, SIGKILL)
                        watch.killed.withLock { $0 = status.pid }
                    }
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        let up = try Run.toolkit(["up", "--port", String(PortProbe.ephemeral()), "--upstream", "127.0.0.1:\(PortProbe.ephemeral())", "--json"],
                                 environment: environment, timeout: 900)
        watch.done.store(true, ordering: .relaxed)
        watcher.wait()
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stderr.contains("migrating the journal of an earlier version: "), "\(up.stderr)")
        let seen = watch.seen.withLock { $0 }
        #expect(seen.contains { $0.events > 0 && $0.events < events.count }, "/status answered with the progress")
        #expect(seen.allSatisfy { $0.totalEvents == events.count })
        let killed = try #require(watch.killed.withLock { $0 }, "the migration lasted long enough to kill the agent halfway")
        let fault = try #require(watch.refused.withLock { $0 })
        #expect(fault.status == 1 && fault.stderr.contains("fault commands (network --up too) are refused until it is done"), "\(fault.stderr)")

        let status = try AgentDiscovery.client(state: state).status()
        #expect(status.pid != killed && status.migration == nil && status.gatewayListening)
        #expect(!FileManager.default.fileExists(atPath: state.journalFile.path))
        let stop = try Run.toolkit(["down"], environment: environment)
        #expect(stop.status == 0, "\(stop.stderr)")

        let files = JournalDirectory(state: state)
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
}
