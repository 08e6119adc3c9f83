import AgentAPI
import Foundation
import Infrastructure
import Measurements
import Synchronization

/// Moves a `journal.jsonl` of an earlier version into the journal's segments a batch at a time, so
/// that it can be stopped anywhere (killed, told to stop) and the next start finishes it, with
/// every event of the old file in the segments exactly once.
///
/// `migration.json` records how far the old file is done (`offset`, `events`: its lines) and the
/// seq the next migrated event takes (`next_seq`). It is saved after each batch, under the
/// journal's lock (nothing else is numbered between a batch and its record), synced and renamed
/// into place. A start that finds the old file's next events already in the segments from
/// `next_seq` on (a batch written, its record not: killed in between) counts them as done instead
/// of writing them again; with no record yet (a version that migrated without one and was stopped
/// halfway), or one that cannot be read, it compares from seq 1. Once done the old file is
/// removed, then the record.
public final class JournalMigration: Sendable {
    struct Record: Codable, Equatable {
        var offset: UInt64
        var events: Int
        var nextSeq: UInt64
        enum CodingKeys: String, CodingKey { case offset, events, nextSeq = "next_seq" }
    }

    public static let batchEvents = 10_000
    let journal: Journal
    let totalBytes: UInt64
    let totalEvents: Int
    private let record: Mutex<Record>
    private let legacy: LegacyJournalFile
    private let log = AgentLog.logger("agent.journal")

    /// The migration of `journal`'s old file, resumed where it was left; nil when there is none
    /// (a record left by one that had finished is removed).
    public init?(journal: Journal) throws {
        let files = journal.files
        guard FileManager.default.fileExists(atPath: files.legacyFile.path) else {
            if unlink(files.migrationFile.path) != 0 && errno != ENOENT {
                throw ToolkitError("cannot remove \(files.migrationFile.path): \(String(cString: strerror(errno)))")
            }
            return nil
        }
        self.journal = journal
        legacy = LegacyJournalFile(url: files.legacyFile)
        (totalBytes, totalEvents) = try legacy.size()
        var saved = Record(offset: 0, events: 0, nextSeq: 1)
        if let data = JournalDirectory.read(files.migrationFile) {
            // One that cannot be read is as good as none: what was migrated is found from seq 1.
            do { saved = try JSONDecoder().decode(Record.self, from: data) } catch {
                AgentLog.logger("agent.journal").warning("the journal migration's record cannot be read; the events already migrated are looked for from the journal's start",
                                                         metadata: ["file": "\(files.migrationFile.path)", "error": "\(error)"])
            }
        }
        record = Mutex(saved)
        try skipWritten()
    }

    /// How far it is.
    public var progress: JournalMigrationProgress {
        let done = record.withLock { $0 }
        return JournalMigrationProgress(events: done.events, totalEvents: totalEvents, bytes: done.offset, totalBytes: totalBytes)
    }

    /// Counts the old file's events that are already in the segments from the record's `next_seq`
    /// on (in the same order, equal but for their seq) as done, and records where it now stands.
    private func skipWritten() throws {
        var done = record.withLock { $0 }
        var after = done.nextSeq - 1
        var written = journal.files.events(after: after, limit: Self.batchEvents)[...]
        var lines: ArraySlice<LegacyJournalFile.Line> = []
        var skipped = 0
        matching: while let next = written.first {
            if lines.isEmpty { lines = try legacy.lines(from: done.offset, limit: Self.batchEvents)[...] }
            guard let line = lines.popFirst() else { break }
            guard let event = line.event else {
                done.offset = line.end
                done.events += 1
                continue
            }
            guard Self.same(event, next) else { break matching }
            done.offset = line.end
            done.events += 1
            skipped += 1
            after = next.seq ?? after
            written.removeFirst()
            if written.isEmpty { written = journal.files.events(after: after, limit: Self.batchEvents)[...] }
        }
        if skipped > 0 {
            log.notice("events of the old journal found migrated already are not written again", metadata: ["count": "\(skipped)"])
        }
        try journal.appendMigrated([]) { _, nextSeq in
            done.nextSeq = nextSeq
            try save(done)
        }
    }

    private static func same(_ old: JournalEvent, _ migrated: JournalEvent) -> Bool {
        var old = old
        var migrated = migrated
        old.seq = nil
        migrated.seq = nil
        return old == migrated
    }

    /// Migrates the next `limit` lines of the old file; true once it is done (and removed).
    @discardableResult
    public func step(limit: Int = JournalMigration.batchEvents) throws -> Bool {
        let start = record.withLock { $0 }
        let lines = try legacy.lines(from: start.offset, limit: limit)
        if !lines.isEmpty {
            try journal.appendMigrated(lines.compactMap(\.event)) { written, nextSeq in
                var done = start
                var readable = 0
                var unreadable = 0
                for line in lines {
                    if line.event != nil {
                        guard readable < written else { break }
                        readable += 1
                    } else {
                        unreadable += 1
                    }
                    done.offset = line.end
                    done.events += 1
                }
                done.nextSeq = nextSeq
                try save(done)
                if unreadable > 0 {
                    log.warning("lines of the old journal that cannot be read are not migrated", metadata: ["file": "\(legacy.url.path)", "count": "\(unreadable)"])
                }
            }
        }
        guard record.withLock({ $0.offset }) >= totalBytes else { return false }
        try finish()
        return true
    }

    /// Migrates batch after batch until done (true) or `stop` says so between two (false).
    public func run(until stop: () -> Bool = { false }, progress: (JournalMigrationProgress) -> Void = { _ in }) throws -> Bool {
        while !stop() {
            if try step() { return true }
            progress(self.progress)
        }
        return false
    }

    private func finish() throws {
        let files = journal.files
        guard unlink(files.legacyFile.path) == 0 || errno == ENOENT,
              syncDirectory(files.legacyFile.deletingLastPathComponent()),
              unlink(files.migrationFile.path) == 0 || errno == ENOENT else {
            throw ToolkitError("cannot remove the migrated journal's files: \(String(cString: strerror(errno)))")
        }
        log.notice("the journal of an earlier version is migrated", metadata: ["file": "\(files.legacyFile.path)", "events": "\(totalEvents)"])
    }

    /// Writes the record to a new file, synced, and renames it over the old one.
    private func save(_ done: Record) throws {
        let url = journal.files.migrationFile
        let temporary = url.path + ".new"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(done)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw Self.failure("cannot create \(temporary)") }
        let ok = (try? AppendOnlyFile(descriptor: fd).append(Array(data))) != nil && fsync(fd) == 0
        let error = errno
        close(fd)
        guard ok else {
            unlink(temporary)
            errno = error
            throw Self.failure("cannot write \(temporary)")
        }
        guard rename(temporary, url.path) == 0, syncDirectory(journal.files.url) else {
            throw Self.failure("cannot rename \(temporary) to \(url.lastPathComponent)")
        }
        record.withLock { $0 = done }
    }

    private func syncDirectory(_ url: URL) -> Bool {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return fsync(fd) == 0
    }

    private static func failure(_ what: String) -> ToolkitError {
        ToolkitError("\(what): \(String(cString: strerror(errno)))")
    }
}

/// The single `journal.jsonl` of earlier versions, read a batch of lines at a time from a byte offset.
struct LegacyJournalFile: Sendable {
    /// One line: its event (nil if it cannot be read, or is a last line cut short) and the offset after it.
    struct Line {
        var event: JournalEvent?
        var end: UInt64
    }

    let url: URL

    private func handle() throws -> FileHandle {
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ToolkitError("cannot open \(url.path): \(String(cString: strerror(errno)))") }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Its bytes and lines (a last line without "\n" counts).
    func size() throws -> (bytes: UInt64, lines: Int) {
        let file = try handle()
        var bytes: UInt64 = 0
        var lines = 0
        var last: UInt8 = UInt8(ascii: "\n")
        while let chunk = try file.read(upToCount: 8 << 20), !chunk.isEmpty {
            bytes += UInt64(chunk.count)
            chunk.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                var index = 0
                while index < raw.count, let newline = memchr(base + index, 0x0A, raw.count - index) {
                    lines += 1
                    index = base.distance(to: UnsafeRawPointer(newline)) + 1
                }
            }
            last = chunk.last!
        }
        return (bytes, lines + (last == UInt8(ascii: "\n") ? 0 : 1))
    }

    /// Up to `limit` lines from byte `offset` on; none at the end of the file.
    func lines(from offset: UInt64, limit: Int) throws -> [Line] {
        let file = try handle()
        let codec = JournalCodec()
        var chunkSize = 4 << 20
        while true {
            try file.seek(toOffset: offset)
            let data = try file.read(upToCount: chunkSize) ?? Data()
            guard !data.isEmpty else { return [] }
            var lines: [Line] = []
            var start = data.startIndex
            while lines.count < limit, let newline = data[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let event = try? codec.decodeLine(data[start..<newline])
                start = newline + 1
                lines.append(Line(event: event, end: offset + UInt64(start - data.startIndex)))
            }
            if !lines.isEmpty { return lines }
            // No whole line: the last one, cut short, or one longer than the chunk.
            if data.count < chunkSize { return [Line(event: nil, end: offset + UInt64(data.count))] }
            chunkSize *= 2
        }
    }
}
