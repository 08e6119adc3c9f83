import Agent
import Faults
import Foundation
import Infrastructure
import Measurements
import Testing

/// The journal's files: segments rotated by size and deleted beyond the budget, window summaries
/// kept for ever, start-up from summaries and tail, seq across segments and restarts.
@Suite("Journal segments, summaries and restarts", .tags(.integration))
struct JournalSegmentsTests {
    static let reject = FaultSpec(type: .reject)

    /// A flapping reject (10 s on, 10 s off): a query client polls every second, a replica streams,
    /// is reset by each window and resumes where it stopped.
    static func soak(windows: Int, firstWindow: Int = 1, from start: Double = 1_760_000_000) -> [JournalEvent] {
        var events: [JournalEvent] = []
        var time = start
        var conn = UInt64(firstWindow) * 1_000
        var position: UInt64 = 4
        func add(_ at: Double, _ kind: JournalEventKind, _ fill: (inout JournalEvent) -> Void = { _ in }) {
            var event = JournalEvent(at: at, kind: kind)
            fill(&event)
            events.append(event)
        }
        func replicaConnects(_ at: Double) -> UInt64 {
            conn += 1
            let id = conn
            add(at, .connAccepted) { $0.conn = id; $0.client = "10.0.0.7:5\(id)" }
            add(at + 0.01, .handshake) { $0.conn = id; $0.user = "repl" }
            add(at + 0.02, .authOK) { $0.conn = id }
            add(at + 0.03, .binlogDump) { [position] in $0.conn = id; $0.file = "mysql-bin.000001"; $0.position = position; $0.serverID = 7 }
            return id
        }
        var replica = replicaConnects(time)
        time += 1
        for window in firstWindow..<(firstWindow + windows) {
            for _ in 0..<10 {
                conn += 1
                let id = conn
                add(time, .connAccepted) { $0.conn = id; $0.client = "10.0.0.5:4\(id)" }
                add(time + 0.02, .authOK) { $0.conn = id }
                add(time + 0.3, .connClosed) { $0.conn = id; $0.detail = "client" }
                position += 100
                add(time + 0.5, .binlogProgress) { [replica, position] in $0.conn = replica; $0.file = "mysql-bin.000001"; $0.position = position }
                time += 1
            }
            add(time, .faultStarted) { $0.window = window; $0.fault = reject }
            add(time + 0.001, .connReset) { [replica] in $0.conn = replica; $0.detail = "reject" }
            for second in 1..<10 {
                add(time + Double(second), .connRefused) { $0.window = window; $0.client = "10.0.0.5:3\(second)" }
            }
            add(time + 10, .faultEnded) { $0.window = window; $0.fault = reject; $0.detail = ClearReason.flapToggle.rawValue }
            time += 10.5
            replica = replicaConnects(time)
            time += 0.5
        }
        return events
    }

    static func home() throws -> StateDirectory {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return StateDirectory(root: root)
    }

    static func allReports(_ journal: Journal) -> [WindowReport] {
        (1...journal.lastWindowID).compactMap { journal.report(window: $0) }
    }

    static func withoutSeq(_ events: [JournalEvent]) -> [JournalEvent] {
        events.map { var event = $0; event.seq = nil; return event }
    }

    @Test("every window is measured as the whole journal would be, before and after a restart; seq goes on")
    func restartReadsSummariesAndTail() throws {
        let state = try Self.home()
        defer { try? FileManager.default.removeItem(at: state.root) }
        let files = JournalDirectory(state: state)
        let events = Self.soak(windows: 40)
        let expected = JournalTimeline(events).reports()

        var journal = try Journal(files: files, segmentBytes: 16_384, grace: 5)
        events.forEach(journal.append)
        #expect(Self.allReports(journal) == expected)
        #expect(journal.windows().total == 40)
        #expect(journal.windows().recent == Array(expected.suffix(Journal.recentWindows)))
        #expect(files.segmentNumbers().count > 3, "rotated by size")
        let lines = try String(contentsOf: files.windowsFile, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 39, "every window but the last is a summary")
        journal.close()

        journal = try Journal(files: files, segmentBytes: 16_384, grace: 5)
        #expect(Self.allReports(journal) == expected)
        #expect(journal.windows().total == 40)
        #expect(journal.lastWindowID == 40)
        journal.record(.note) { $0.detail = "after the restart" }
        let page = journal.events(since: UInt64(events.count - 1))
        #expect(page.events.map(\.seq) == [UInt64(events.count), UInt64(events.count + 1)])
        #expect(page.events.last?.detail == "after the restart")
        let fromStart = journal.events(since: 0, limit: 100)
        #expect(fromStart.events.map(\.seq) == (1...100).map(UInt64.init), "old events are read from the segments")
        #expect(Self.withoutSeq(fromStart.events) == Array(events.prefix(100)))
        #expect(files.lastEvents(2).map(\.detail) == [nil, "after the restart"])
        journal.close()
    }

    @Test("old segments go beyond the budget; summaries stay, and so does every window")
    func budgetDeletesOldSegmentsButNotSummaries() throws {
        let state = try Self.home()
        defer { try? FileManager.default.removeItem(at: state.root) }
        let files = JournalDirectory(state: state)
        let events = Self.soak(windows: 60)
        let journal = try Journal(files: files, budgetBytes: 65_536, segmentBytes: 16_384, grace: 5)
        events.forEach(journal.append)
        let sizes = files.segmentNumbers().map {
            (try? FileManager.default.attributesOfItem(atPath: files.segmentURL($0).path)[.size] as? Int) ?? 0
        }
        #expect(files.segmentNumbers().first ?? 0 > 1, "the oldest segments were deleted")
        #expect(sizes.reduce(0, +) <= 65_536 + 16_384 + 4_096)
        #expect(Self.allReports(journal) == JournalTimeline(events).reports())
        #expect(journal.windows().total == 60)
        journal.close()
    }

    @Test("a journal.jsonl of an earlier version, cut short by a crash, becomes the first segments")
    func legacyFileIsMigrated() throws {
        let state = try Self.home()
        defer { try? FileManager.default.removeItem(at: state.root) }
        let events = Self.soak(windows: 5)
        let codec = JournalCodec()
        var legacy = Data()
        for event in events { legacy.append(try codec.encodeLine(event)) }
        legacy.append(Data(#"{"at":1760009999,"kind":"conn_acc"#.utf8))
        try legacy.write(to: state.journalFile)

        let files = JournalDirectory(state: state)
        let journal = try Journal(files: files, grace: 5)
        let migration = try #require(try JournalMigration(journal: journal))
        #expect(try migration.run())
        #expect(!FileManager.default.fileExists(atPath: state.journalFile.path))
        #expect(!FileManager.default.fileExists(atPath: files.migrationFile.path))
        #expect(Self.allReports(journal) == JournalTimeline(events).reports())
        let all = journal.events(since: 0, limit: 100_000).events
        #expect(all.map(\.seq) == (1...UInt64(events.count)).map { $0 })
        journal.close()
    }

    @Test("half a line left by a crash: the next start cuts it off, journals it as a gap and loses nothing else")
    func halfWrittenLineIsSkipped() throws {
        let state = try Self.home()
        defer { try? FileManager.default.removeItem(at: state.root) }
        let files = JournalDirectory(state: state)
        var journal = try Journal(files: files)
        journal.record(.note) { $0.detail = "one" }
        journal.close()
        let handle = try FileHandle(forWritingTo: files.segmentURL(1))
        try handle.seekToEnd()
        handle.write(Data(#"{"at":1,"kind":"no"#.utf8))
        try handle.close()
        journal = try Journal(files: files)
        journal.record(.note) { $0.detail = "two" }
        let events = files.lastEvents(0)
        #expect(events.map(\.kind) == [.note, .gap, .note])
        #expect(events.first?.detail == "one" && events.last?.detail == "two")
        #expect(events[1].count == 1 && events[1].at == 1)
        #expect(events[1].detail?.hasPrefix("1 event lost: a line cut short from 1970-01-01T00:00:01.000Z to ") == true, "\(events[1])")
        #expect(events.map(\.seq) == [1, 2, 3])
        let text = try String(contentsOf: files.segmentURL(1), encoding: .utf8)
        #expect(!text.contains(#"{"at":1,"kind":"no"#), "the torn line is cut off, not kept beside the next event")
        journal.close()
    }

    @Test("with the agent down, events --last reads the newest segment and network --window any finished window")
    func commandsReadTheFilesWhileTheAgentIsDown() throws {
        let state = try Self.home()
        defer { try? FileManager.default.removeItem(at: state.root) }
        let events = Self.soak(windows: 30)
        let journal = try Journal(files: JournalDirectory(state: state), segmentBytes: 16_384, grace: 5)
        events.forEach(journal.append)
        journal.close()
        let environment = ["TOOLKIT_HOME": state.root.path, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]

        let last = try Run.toolkit(["events", "--json", "--last", "3"], environment: environment)
        #expect(last.status == 0, "\(last.stderr)")
        let lines = last.stdout.split(separator: "\n").map { try? JournalCodec().decodeLine(Data($0.utf8)) }
        #expect(lines.map { $0?.seq } == (events.count - 2...events.count).map { UInt64($0) })

        let expected = JournalTimeline(events).reports()
        let window = try Run.toolkit(["network", "--window", "3", "--json"], environment: environment)
        #expect(window.status == 0, "\(window.stderr)")
        #expect(try JSONDecoder().decode(WindowReport.self, from: Data(window.stdout.utf8)) == expected[2])

        let missing = try Run.toolkit(["network", "--window", "99"], environment: environment)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no finished window 99"), "\(missing.stderr)")
    }
}
