import Foundation
import Infrastructure
import Measurements

/// The journal on disk, in `$TOOLKIT_HOME/journal/`:
/// - `000001.jsonl`, `000002.jsonl`, ...: segments of JSON lines, one `JournalEvent` each with
///   its `seq`, a new segment when the current one reaches `segmentBytes`; the oldest are
///   deleted beyond the budget.
/// - `windows.jsonl`: one `WindowReport` per line for every finished window, appended, kept for ever.
/// - `tail.json`: where the unfinished windows' events start (`from`, a seq) and the earlier
///   events they still read (`carried`), rewritten whenever that moves.
/// - `migration.json`: while a `journal.jsonl` of an earlier version (beside the directory, the
///   single file of earlier versions) is being migrated, how far it is done (`JournalMigration`).
/// Reads open with O_NOFOLLOW: the files are the agent's, in directories only it can write.
public struct JournalDirectory: Sendable {
    public let url: URL
    public let legacyFile: URL
    public static let segmentBytes = 16 << 20
    public static let defaultBudgetMiB = 512

    public init(state: StateDirectory) {
        url = state.journalDirectory
        legacyFile = state.journalFile
    }

    public var windowsFile: URL { url.appendingPathComponent("windows.jsonl") }
    public var tailFile: URL { url.appendingPathComponent("tail.json") }
    public var migrationFile: URL { url.appendingPathComponent("migration.json") }

    public func segmentURL(_ number: Int) -> URL {
        url.appendingPathComponent(String(format: "%06d.jsonl", number))
    }

    /// Segment numbers present, oldest first.
    public func segmentNumbers() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasSuffix(".jsonl"), name.count == 12 else { return nil }
            return Int(name.dropLast(6))
        }.sorted()
    }

    /// What `tail.json` holds.
    public struct Tail: Codable, Sendable {
        public var from: UInt64
        public var carried: [JournalEvent]
        public init(from: UInt64, carried: [JournalEvent]) { self.from = from; self.carried = carried }
    }

    // MARK: - Reading

    /// The file from byte `offset` on; nil if it cannot be opened (or is a symlink) or read from there.
    public static func read(_ url: URL, from offset: UInt64 = 0) -> Data? {
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            // A failed seek must not turn into a read of the whole file from its start.
            if offset > 0 { try handle.seek(toOffset: offset) }
            return try handle.readToEnd() ?? Data()
        } catch {
            return nil
        }
    }

    /// The `seq` of one journal line, without decoding it; nil in lines written before seq existed.
    /// Keys are sorted and strings escape their quotes, so `,"seq":` is only ever the key.
    public static func seq(ofLine line: Data.SubSequence) -> UInt64? {
        let key = Array(#","seq":"#.utf8)
        return line.withUnsafeBytes { raw -> UInt64? in
            guard let base = raw.baseAddress else { return nil }
            var index = 0
            var found = false
            while !found && index + key.count <= raw.count {
                guard let comma = memchr(base + index, Int32(key[0]), raw.count - index - key.count + 1) else { return nil }
                index = base.distance(to: UnsafeRawPointer(comma))
                found = memcmp(base + index, key, key.count) == 0
                index += found ? key.count : 1
            }
            guard found else { return nil }
            var value: UInt64 = 0
            var digits = 0
            while index < raw.count, raw[index] >= 0x30 && raw[index] <= 0x39 {
                value = value &* 10 &+ UInt64(raw[index] - 0x30)
                digits += 1
                index += 1
            }
            return digits > 0 ? value : nil
        }
    }

    /// The complete lines of `data` (a last line without "\n" is a write cut short: left out).
    public static func lines(_ data: Data) -> [Data.SubSequence] {
        var ranges: [Range<Int>] = []
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var start = 0
            while start < raw.count, let newline = memchr(base + start, 0x0A, raw.count - start) {
                let end = base.distance(to: UnsafeRawPointer(newline))
                if end > start { ranges.append(start..<end) }
                start = end + 1
            }
        }
        return ranges.map { data[(data.startIndex + $0.lowerBound)..<(data.startIndex + $0.upperBound)] }
    }

    /// The top-level `"window":N` of a `windows.jsonl` line: its last key (keys are sorted), read from the end.
    public static func windowID(ofSummary line: Data.SubSequence) -> Int? {
        var end = line.endIndex
        while end > line.startIndex, [UInt8(ascii: "}"), UInt8(ascii: " "), UInt8(ascii: "\r")].contains(line[end - 1]) { end -= 1 }
        var start = end
        while start > line.startIndex, line[start - 1] >= 0x30 && line[start - 1] <= 0x39 { start -= 1 }
        let key = Array(#","window":"#.utf8)
        guard start < end, start - line.startIndex >= key.count, line[(start - key.count)..<start].elementsEqual(key) else { return nil }
        return Int(String(decoding: line[start..<end], as: UTF8.self))
    }

    /// The finished window `id`'s summary from `windows.jsonl`.
    public func summary(window id: Int) -> WindowReport? {
        guard let data = Self.read(windowsFile) else { return nil }
        let line = Self.lines(data).last { Self.windowID(ofSummary: $0) == id }
        return line.flatMap { try? JSONDecoder().decode(WindowReport.self, from: Data($0)) }
    }

    /// The first seq of a segment (its first line).
    public func firstSeq(ofSegment number: Int) -> UInt64? {
        let fd = open(segmentURL(number).path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        guard let head = try? handle.read(upToCount: 8192), let newline = head.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        return Self.seq(ofLine: head[head.startIndex..<newline])
    }

    /// Events with seq > `after`, oldest first, at most `limit`, read from the segments that hold them.
    public func events(after: UInt64, limit: Int) -> [JournalEvent] {
        let numbers = segmentNumbers()
        let start = numbers.lastIndex { firstSeq(ofSegment: $0).map { $0 <= after || $0 - 1 <= after } ?? false } ?? 0
        var events: [JournalEvent] = []
        let codec = JournalCodec()
        for number in numbers.dropFirst(start) {
            guard let data = Self.read(segmentURL(number)) else { continue }
            for line in Self.lines(data) {
                guard let seq = Self.seq(ofLine: line), seq > after, let event = try? codec.decodeLine(line) else { continue }
                events.append(event)
                if events.count >= limit { return events }
            }
        }
        return events
    }

    /// The events stamped from `start` on, reading segments from the newest back only as far as
    /// that time.
    public func events(from start: Double) -> [JournalEvent] {
        var files = segmentNumbers().map(segmentURL)
        if files.isEmpty, FileManager.default.fileExists(atPath: legacyFile.path) { files = [legacyFile] }
        let codec = JournalCodec()
        var chunks: [[JournalEvent]] = []
        for file in files.reversed() {
            guard let data = Self.read(file) else { continue }
            let events = Self.lines(data).compactMap { try? codec.decodeLine($0) }
            chunks.append(events)
            if let first = events.first, first.at < start { break }
        }
        return chunks.reversed().flatMap { $0 }.filter { $0.at >= start }
    }

    /// The last `count` events (0: all), read from the newest segments back only as far as needed.
    /// Includes a `journal.jsonl` of an earlier version that was not migrated yet.
    public func lastEvents(_ count: Int) -> [JournalEvent] {
        var files = segmentNumbers().map(segmentURL)
        if files.isEmpty, FileManager.default.fileExists(atPath: legacyFile.path) { files = [legacyFile] }
        var chunks: [[Data.SubSequence]] = []
        var lineCount = 0
        for file in files.reversed() {
            guard let data = Self.read(file) else { continue }
            let lines = Self.lines(data)
            chunks.append(lines)
            lineCount += lines.count
            if count > 0 && lineCount >= count { break }
        }
        var lines = chunks.reversed().flatMap { $0 }
        if count > 0 { lines = Array(lines.suffix(count)) }
        let codec = JournalCodec()
        return lines.compactMap { try? codec.decodeLine($0) }
    }
}
