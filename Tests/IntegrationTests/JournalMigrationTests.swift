@testable import Agent
import AgentAPI
import Foundation
import Infrastructure
import Measurements
import Testing

/// Migrating an earlier version's `journal.jsonl`: stopped anywhere (between batches, between a
/// batch and its record, in the middle of a line), the next start finishes it, and every event and
/// window of the old file is in the journal exactly once.
@Suite("Journal migration of an earlier version's journal.jsonl", .tags(.integration))
struct JournalMigrationTests {
    /// An old journal of `windows` flapping windows, written where earlier versions kept it.
    static func legacy(windows: Int) throws -> (StateDirectory, [JournalEvent]) {
        let state = try JournalSegmentsTests.home()
        let events = JournalSegmentsTests.soak(windows: windows)
        let codec = JournalCodec()
        var data = Data()
        for event in events { data.append(try codec.encodeLine(event)) }
        try data.write(to: state.journalFile)
        return (state, events)
    }

    /// Starts the journal as an agent does, finishes the migration, and checks that every event and
    /// window of the old file is there once; returns the journal's events.
    @discardableResult
    static func finishAndCheck(_ state: StateDirectory, _ events: [JournalEvent], segmentBytes: Int = JournalDirectory.segmentBytes) throws -> [JournalEvent] {
        let files = JournalDirectory(state: state)
        let journal = try Journal(files: files, segmentBytes: segmentBytes, grace: 5)
        defer { journal.close() }
        let migration = try #require(try JournalMigration(journal: journal))
        #expect(try migration.run())
        #expect(!FileManager.default.fileExists(atPath: state.journalFile.path), "the old file is removed")
        #expect(!FileManager.default.fileExists(atPath: files.migrationFile.path), "then the record")
        #expect(try JournalMigration(journal: journal) == nil, "nothing is left to migrate")
        let all = files.events(after: 0, limit: 1_000_000)
        #expect(all.map(\.seq) == (1...UInt64(all.count)).map { $0 }, "seq goes on without a hole")
        #expect(JournalSegmentsTests.withoutSeq(all) == events, "every event once, in order")
        #expect(JournalSegmentsTests.allReports(journal) == JournalTimeline(events).reports(), "every window once, as measured from the old file")
        let summaries = (JournalDirectory.read(files.windowsFile).map(JournalDirectory.lines) ?? []).compactMap { JournalDirectory.windowID(ofSummary: $0) }
        #expect(Set(summaries).count == summaries.count, "no window is summarised twice: \(summaries)")
        return all
    }

    @Test("stopped after 1, 3 or 6 batches, the next start goes on from its record", arguments: [1, 3, 6])
    func resumesAfterBatches(batches: Int) throws {
        let (state, events) = try Self.legacy(windows: 12)
        defer { try? FileManager.default.removeItem(at: state.root) }
        let journal = try Journal(files: JournalDirectory(state: state), segmentBytes: 16_384, grace: 5)
        let migration = try #require(try JournalMigration(journal: journal))
        for _ in 0..<batches { #expect(try !migration.step(limit: 97)) }
        let done = migration.progress
        #expect(done.events == 97 * batches && done.totalEvents == events.count && done.bytes < done.totalBytes)
        journal.close()
        // Before this fix the next start left the rest of the old file behind: this finds it.
        try Self.finishAndCheck(state, events, segmentBytes: 16_384)
    }

    @Test("a batch written but not recorded (killed in between) is not written again")
    func batchWithoutItsRecord() throws {
        let (state, events) = try Self.legacy(windows: 12)
        defer { try? FileManager.default.removeItem(at: state.root) }
        let files = JournalDirectory(state: state)
        let journal = try Journal(files: files, segmentBytes: 16_384, grace: 5)
        let migration = try #require(try JournalMigration(journal: journal))
        try migration.step(limit: 150)
        let record = try Data(contentsOf: files.migrationFile)
        try migration.step(limit: 150)
        try migration.step(limit: 150)
        journal.close()
        try record.write(to: files.migrationFile)
        try Self.finishAndCheck(state, events, segmentBytes: 16_384)
    }

    @Test("killed in the middle of a batch, its last line cut short: no event twice, none lost, no false gap", arguments: [0, 1, 57])
    func batchCutShort(written: Int) throws {
        let (state, events) = try Self.legacy(windows: 12)
        defer { try? FileManager.default.removeItem(at: state.root) }
        let files = JournalDirectory(state: state)
        let journal = try Journal(files: files, grace: 5)
        let migration = try #require(try JournalMigration(journal: journal))
        try migration.step(limit: 200)
        let record = try Data(contentsOf: files.migrationFile)
        // The next batch got `written` events into the segment, and half of the one after them;
        // its record was not saved.
        if written > 0 { try migration.step(limit: written) }
        journal.close()
        try record.write(to: files.migrationFile)
        let handle = try FileHandle(forWritingTo: files.segmentURL(1))
        try handle.seekToEnd()
        var next = events[200 + written]
        next.seq = UInt64(200 + written + 1)
        let line = try JournalCodec().encodeLine(next)
        handle.write(line.prefix(line.count / 2))
        try handle.close()
        let all = try Self.finishAndCheck(state, events)
        #expect(!all.contains { $0.kind == .gap })
    }

    @Test("the last record is gone with the old file (killed before removing it): the next start removes it")
    func recordLeftAfterTheOldFile() throws {
        let (state, events) = try Self.legacy(windows: 3)
        defer { try? FileManager.default.removeItem(at: state.root) }
        let files = JournalDirectory(state: state)
        var journal = try Journal(files: files, grace: 5)
        let migration = try #require(try JournalMigration(journal: journal))
        while try !migration.step(limit: 1_000) {}
        journal.close()
        try Data(#"{"events":1,"next_seq":1,"offset":10}"#.utf8).write(to: files.migrationFile)
        journal = try Journal(files: files, grace: 5)
        defer { journal.close() }
        #expect(try JournalMigration(journal: journal) == nil)
        #expect(!FileManager.default.fileExists(atPath: files.migrationFile.path))
        #expect(JournalSegmentsTests.withoutSeq(files.events(after: 0, limit: 100_000)) == events)
    }

    @Test("an earlier build's migration stopped halfway, with no record: the events it wrote are found and not written again")
    func halfwayWithoutARecord() throws {
        let (state, events) = try Self.legacy(windows: 12)
        defer { try? FileManager.default.removeItem(at: state.root) }
        let files = JournalDirectory(state: state)
        let journal = try Journal(files: files, grace: 5)
        let migration = try #require(try JournalMigration(journal: journal))
        try migration.step(limit: 333)
        journal.close()
        try FileManager.default.removeItem(at: files.migrationFile)
        try Self.finishAndCheck(state, events)
    }

    @Test("a record that cannot be read: what was migrated is found from the start and not written again")
    func unreadableRecord() throws {
        let (state, events) = try Self.legacy(windows: 12)
        defer { try? FileManager.default.removeItem(at: state.root) }
        let files = JournalDirectory(state: state)
        let journal = try Journal(files: files, segmentBytes: 16_384, grace: 5)
        let migration = try #require(try JournalMigration(journal: journal))
        for _ in 0..<3 { try migration.step(limit: 100) }
        journal.close()
        try Data(#"{"events":3"#.utf8).write(to: files.migrationFile)
        try Self.finishAndCheck(state, events, segmentBytes: 16_384)
    }

    @Test("progress reads as the user sees it")
    func progressDescription() {
        let progress = JournalMigrationProgress(events: 412_000, totalEvents: 1_000_000, bytes: 41_000_000, totalBytes: 100_000_000)
        #expect(progress.description == "migrating the journal of an earlier version: 412,000 of 1,000,000 events (41%)")
        #expect(JournalMigrationProgress(events: 0, totalEvents: 7, bytes: 0, totalBytes: 0).description.hasSuffix(": 0 of 7 events (100%)"))
    }
}
