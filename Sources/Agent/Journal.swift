import Foundation
import Infrastructure
import Measurements
import Logging
import Synchronization

/// The agent's journal: every event, numbered (`seq`) and appended as one JSON line to the current
/// segment of a `JournalDirectory`. In memory it keeps only the unfinished windows' events
/// (a `JournalTail`); a window's report is written to `windows.jsonl` once, when it is final,
/// so the measurements cost the same after a week as after a minute, and start-up reads the
/// summaries and the tail, never the history. Safe to call from any thread; writes are unbuffered.
public final class Journal: Sendable {
    public let files: JournalDirectory
    /// Segments are deleted, oldest first, while all of them together exceed this.
    public let budgetBytes: Int
    /// A segment this big is closed and the next one started.
    public let segmentBytes: Int
    private let state: Mutex<State>
    private let codec = JournalCodec()
    private let log = AgentLog.logger("agent.journal")
    /// Windows `status()` shows.
    public static let recentWindows = 20

    private struct State {
        /// The current segment, opened with O_APPEND; -1 once closed.
        var segment: Int32
        var segmentNumber: Int
        var segmentSize: Int
        var nextSeq: UInt64
        var tail: JournalTail
        var tailSaved: UInt64?
        var windowsFile: Int32
        var recent: [WindowReport]
        var finishedCount: Int
        var lastWindowID: Int
        var live: (seq: UInt64, reports: [WindowReport])?
        /// The files whose last write failed (logged once, until a write works again).
        var failingWrites: Set<String> = []
        /// Events not written since the last write that worked (a full disk): journaled as a gap.
        var loss = JournalLoss()
        /// Finished windows' summaries not yet written to `windows.jsonl`; `tail.json` does not
        /// move past them until they are.
        var pendingSummaries: [[UInt8]] = []
        var lastFailure: WholeLines.Failure?
        /// The last `recentReconnects` verdicts on reconnects no fault window judges.
        var reconnects: [ResumeReport] = []
    }

    /// Reconnects between faults `status()` shows.
    public static let recentReconnects = 20

    public init(files: JournalDirectory, budgetBytes: Int = JournalDirectory.defaultBudgetMiB << 20,
                segmentBytes: Int = JournalDirectory.segmentBytes, grace: Double = 60) throws {
        self.files = files
        self.budgetBytes = budgetBytes
        self.segmentBytes = segmentBytes
        try OwnedPath.prepareDirectory(files.url, owner: geteuid(), group: getegid(), mode: 0o755)

        // Finished windows: their ids, how many, the last few.
        var finishedIDs = Set<Int>()
        var finishedLines: [Data.SubSequence] = []
        let finishedData = JournalDirectory.read(files.windowsFile)
        if let data = finishedData {
            finishedLines = JournalDirectory.lines(data)
            for line in finishedLines { if let id = JournalDirectory.windowID(ofSummary: line) { finishedIDs.insert(id) } }
        }
        let decoder = JSONDecoder()
        let recentLines = finishedLines.suffix(Self.recentWindows)
        let recent = recentLines.compactMap { try? decoder.decode(WindowReport.self, from: Data($0)) }
        if recent.count < recentLines.count {
            log.warning("window summaries that cannot be read are left out", metadata: ["file": "\(files.windowsFile.path)", "count": "\(recentLines.count - recent.count)"])
        }

        // The unfinished windows' events: from the tail's start to the end of the newest segment.
        var saved: JournalDirectory.Tail?
        if let data = JournalDirectory.read(files.tailFile) {
            do { saved = try decoder.decode(JournalDirectory.Tail.self, from: data) } catch {
                log.warning("the journal's tail cannot be read; unfinished windows are measured from the start", metadata: ["file": "\(files.tailFile.path)", "error": "\(error)"])
            }
        }
        var numbers = files.segmentNumbers()
        var lastSeq: UInt64 = 0
        var events: [JournalEvent] = []
        var unreadable = 0
        let from = saved?.from ?? 0
        let first = numbers.lastIndex { files.firstSeq(ofSegment: $0).map { $0 <= from } ?? false } ?? 0
        for number in numbers.dropFirst(first) {
            guard let data = JournalDirectory.read(files.segmentURL(number)) else { continue }
            for line in JournalDirectory.lines(data) {
                guard let seq = JournalDirectory.seq(ofLine: line) else { continue }
                lastSeq = max(lastSeq, seq)
                guard seq >= from else { continue }
                if let event = try? codec.decodeLine(line) { events.append(event) } else { unreadable += 1 }
            }
        }
        if unreadable > 0 { log.warning("journal lines that cannot be read are left out", metadata: ["count": "\(unreadable)"]) }
        if numbers.isEmpty { numbers = [1] }
        let current = numbers.last!
        let segment = try Self.openAppending(files.segmentURL(current))
        // A predecessor that wrote half a line (a full disk, a crash): the torn line is cut off, so
        // that no event is glued onto it, and journaled as a gap below. Cutting needs no space.
        let torn = AppendOnlyFile(descriptor: segment).cutTornLastLine()
        // While an earlier version's journal is migrated nothing else is journaled: a line cut
        // short is a migrated event, which the migration writes again. Nothing is lost.
        let migrating = FileManager.default.fileExists(atPath: files.migrationFile.path)
        let startGap = torn.flatMap { migrating ? nil : JournalGap.tornLine($0, lastWhole: events.last?.at, foundAt: JournalEvent.timestamp(Date())) }
        if let startGap { log.warning("the journal's last line was cut short; it is cut off", metadata: ["gap": "\(startGap)"]) }
        if torn != nil && migrating { log.notice("a migrated event cut short is cut off; the migration writes it again") }
        let windowsFile: Int32
        do { windowsFile = try Self.openAppending(files.windowsFile) } catch {
            Glibc.close(segment)
            throw error
        }
        // A summary cut short is measured again from the tail.
        _ = AppendOnlyFile(descriptor: windowsFile).cutTornLastLine()
        let windowIDs = (saved?.carried ?? []).compactMap(\.window) + events.compactMap(\.window) + Array(finishedIDs)
        state = Mutex(State(
            segment: segment, segmentNumber: current, segmentSize: AppendOnlyFile(descriptor: segment).size() ?? 0,
            nextSeq: max(lastSeq + 1, from),
            tail: JournalTail(carried: saved?.carried ?? [], events: events, finished: finishedIDs, grace: grace),
            tailSaved: saved?.from, windowsFile: windowsFile, recent: recent, finishedCount: finishedIDs.count,
            lastWindowID: windowIDs.max() ?? 0, live: nil))
        state.withLock { state in
            keep(state.tail.settle(), in: &state)
            for event in state.tail.events { Self.noteReconnect(event, in: &state) }
        }
        if let startGap { append(startGap.event) }
    }

    /// One of the journal's files, for appending whole lines: never through a symlink, created 0640.
    private static func openAppending(_ url: URL) throws -> Int32 {
        let fd = open(url.path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw ToolkitError("cannot open \(url.path): \(String(cString: strerror(errno)))") }
        return fd
    }

    /// Appends events of a `journal.jsonl` of an earlier version, in order, and stops at the first
    /// that cannot be written (it is not counted as lost: the migration tries it again). Then,
    /// under the same lock, so that nothing else is numbered in between, the segment is synced
    /// and `saved` is told how many were written and the seq the next one would take.
    func appendMigrated(_ events: [JournalEvent], saved: (_ written: Int, _ nextSeq: UInt64) throws -> Void) throws {
        try state.withLock { state in
            var written = 0
            for event in events {
                guard write(event, in: &state) else { break }
                if let window = event.window { state.lastWindowID = max(state.lastWindowID, window) }
                written += 1
            }
            if fsync(state.segment) != 0 {
                throw ToolkitError("cannot sync the journal segment \(state.segmentNumber): \(String(cString: strerror(errno)))")
            }
            try saved(written, state.nextSeq)
            if written < events.count {
                throw ToolkitError("cannot write the journal: \(state.lastFailure.map { "\($0)" } ?? "unknown error")")
            }
        }
    }

    /// The seq the next event takes.
    var nextSeq: UInt64 { state.withLock { $0.nextSeq } }

    /// Appends the event as one whole line, or not at all: an event that cannot be written (a full
    /// disk) is left out of the tail too, so that the windows measured now are those a restarted
    /// agent measures, and is counted; once writing works again a `gap` event says how many events
    /// were lost and when, before the event that got written.
    public func append(_ event: JournalEvent) {
        state.withLock { state in
            if let window = event.window { state.lastWindowID = max(state.lastWindowID, window) }
            if let gap = state.loss.gap(now: event.at) {
                guard write(gap.event, in: &state) else { return lost(event, in: &state) }
                log.notice("writing the journal works again", metadata: ["gap": "\(gap)"])
                state.loss.reset()
            }
            if !write(event, in: &state) { lost(event, in: &state) }
        }
    }

    /// Counts an event that could not be written, for the gap journaled once writing works again.
    private func lost(_ event: JournalEvent, in state: inout State) {
        let failure = state.lastFailure
        state.loss.failed(at: event.at, diskFull: failure?.isDiskFull ?? true, error: failure.map { "\($0)" } ?? "")
    }

    /// Numbers `event`, writes it whole to the current segment and adds it to the tail; false (and
    /// nothing numbered or kept) when it could not be written.
    private func write(_ event: JournalEvent, in state: inout State) -> Bool {
        var event = event
        event.seq = state.nextSeq
        let line: Data
        do { line = try codec.encodeLine(event) } catch {
            log.error("a journal event cannot be encoded; it is not written", metadata: ["kind": "\(event.kind)", "error": "\(error)"])
            return true
        }
        guard write(Array(line), to: state.segment, "the journal segment", in: &state) else { return false }
        state.nextSeq += 1
        state.segmentSize += line.count
        Self.noteReconnect(event, in: &state)
        keep(state.tail.append(event), in: &state)
        if state.segmentSize >= segmentBytes { rotate(&state) }
        return true
    }

    /// Writes finished reports to `windows.jsonl`, and where the tail now starts to `tail.json`.
    private func keep(_ finished: [WindowReport], in state: inout State) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for report in finished {
            guard var line = encoded(report, encoder, "window \(report.window)'s summary") else { continue }
            line.append(UInt8(ascii: "\n"))
            state.pendingSummaries.append(Array(line))
            state.recent.append(report)
            state.finishedCount += 1
        }
        while let line = state.pendingSummaries.first, write(line, to: state.windowsFile, "windows.jsonl", in: &state) {
            state.pendingSummaries.removeFirst()
        }
        if state.recent.count > 2 * Self.recentWindows { state.recent.removeFirst(state.recent.count - Self.recentWindows) }
        // A restarted agent measures a window whose summary is not written yet from the tail again.
        guard state.pendingSummaries.isEmpty else { return }
        let from = state.tail.firstSeq ?? state.nextSeq
        guard from != state.tailSaved else { return }
        let tail = JournalDirectory.Tail(from: from, carried: state.tail.carried)
        guard let data = encoded(tail, encoder, "the journal's tail") else { return }
        let temporary = files.url.appendingPathComponent("tail.json.new")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data, attributes: [.posixPermissions: 0o640]),
              rename(temporary.path, files.tailFile.path) == 0 else {
            // Tried again when the tail next moves; until then a restarted agent reads from an older start.
            log.warning("cannot write the journal's tail", metadata: ["file": "\(files.tailFile.path)", "error": "\(String(cString: strerror(errno)))"])
            return
        }
        state.tailSaved = from
    }

    private func encoded<T: Encodable>(_ value: T, _ encoder: JSONEncoder, _ what: String) -> Data? {
        do { return try encoder.encode(value) } catch {
            log.error("\(what) cannot be encoded; it is not written", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Appends one whole line to one of the journal's files, or nothing (`WholeLines`); a failure is
    /// logged once, until a write works again.
    private func write(_ line: [UInt8], to fd: Int32, _ what: String, in state: inout State) -> Bool {
        guard fd >= 0 else { return false }
        do throws(WholeLines.Failure) {
            try AppendOnlyFile(descriptor: fd).append(line)
            if state.failingWrites.remove(what) != nil { log.notice("writing \(what) works again") }
            return true
        } catch {
            state.lastFailure = error
            if state.failingWrites.insert(what).inserted {
                log.error("writing \(what) failed; what it should hold is lost until a write works again", metadata: ["error": "\(error)"])
            }
            return false
        }
    }

    /// Starts the next segment and deletes the oldest ones beyond the budget (never one the
    /// unfinished windows still read from).
    private func rotate(_ state: inout State) {
        let next = state.segmentNumber + 1
        let url = files.segmentURL(next)
        let handle: Int32
        do {
            handle = try Self.openAppending(url)
        } catch {
            // Tried again at the next event: the current segment grows past its size meanwhile.
            log.error("cannot start the next journal segment", metadata: ["file": "\(url.path)", "error": "\(error)"])
            return
        }
        // Synced before it is closed: what a migration saved as done is on disk.
        fsync(state.segment)
        close(state.segment, "the journal segment \(state.segmentNumber)")
        state.segment = handle
        state.segmentNumber = next
        state.segmentSize = 0
        let numbers = files.segmentNumbers()
        var sizes = numbers.map { number in
            ((try? FileManager.default.attributesOfItem(atPath: files.segmentURL(number).path)[.size]) as? Int) ?? 0
        }
        let tailStart = state.tail.firstSeq ?? state.nextSeq
        for (index, number) in numbers.enumerated() where sizes.reduce(0, +) > budgetBytes {
            guard index + 1 < numbers.count, let nextFirst = files.firstSeq(ofSegment: numbers[index + 1]),
                  nextFirst <= tailStart else { break }
            do { try FileManager.default.removeItem(at: files.segmentURL(number)) } catch {
                log.warning("cannot delete an old journal segment; the journal exceeds its budget", metadata: ["file": "\(files.segmentURL(number).path)", "error": "\(error)"])
            }
            sizes[index] = 0
        }
    }

    /// Appends an event stamped now.
    public func record(_ kind: JournalEventKind, _ fill: (inout JournalEvent) -> Void = { _ in }) {
        var event = JournalEvent(at: JournalEvent.timestamp(Date()), kind: kind)
        fill(&event)
        append(event)
    }

    /// Events with seq > `since`, oldest first, at most `limit`; `next` is what to pass as `since` next time
    /// (never beyond the last seq journaled).
    public func events(since: UInt64, limit: Int = 10_000) -> (events: [JournalEvent], next: UInt64) {
        let inMemory: [JournalEvent]? = state.withLock { state in
            guard let first = state.tail.firstSeq, first <= since || first - 1 <= since else {
                return since >= state.nextSeq - 1 ? [] : nil
            }
            let events = state.tail.events
            let start = events.partitionPoint { ($0.seq ?? 0) <= since }
            return Array(events[start..<min(events.count, start + limit)])
        }
        let events = inMemory ?? files.events(after: since, limit: limit)
        let last = state.withLock { $0.nextSeq - 1 }
        return (events, events.last?.seq ?? min(since, last))
    }

    /// The last `Journal.recentWindows` windows (finished summaries, then the unfinished ones
    /// measured from the tail) and how many windows the journal has recorded.
    public func windows() -> (recent: [WindowReport], total: Int) {
        state.withLock { state in
            let seq = state.nextSeq
            let live: [WindowReport]
            if let cached = state.live, cached.seq == seq {
                live = cached.reports
            } else {
                live = state.tail.liveReports()
                state.live = (seq, live)
            }
            return (Array((state.recent + live).suffix(Self.recentWindows)), state.finishedCount + live.count)
        }
    }

    /// The last verdicts on reconnects between faults (binlog dumps no fault window judges), oldest first.
    public func reconnects() -> [ResumeReport] {
        state.withLock { $0.reconnects }
    }

    private static func noteReconnect(_ event: JournalEvent, in state: inout State) {
        guard event.kind == .binlogResume, event.window == nil, let report = event.resume else { return }
        state.reconnects.append(report)
        if state.reconnects.count > recentReconnects { state.reconnects.removeFirst() }
    }

    /// Any window ever recorded: its summary, or its live measurement.
    public func report(window id: Int) -> WindowReport? {
        if let live = windows().recent.first(where: { $0.window == id }) { return live }
        return files.summary(window: id)
    }

    /// The highest window id recorded, so that new windows continue after it.
    public var lastWindowID: Int { state.withLock { $0.lastWindowID } }

    public func close() {
        state.withLock { state in
            close(state.segment, "the journal segment \(state.segmentNumber)")
            state.segment = -1
            close(state.windowsFile, "windows.jsonl")
            state.windowsFile = -1
        }
    }

    /// A close that fails may have lost the last writes: logged.
    private func close(_ fd: Int32, _ what: String) {
        guard fd >= 0 else { return }
        if Glibc.close(fd) != 0 {
            log.warning("closing \(what) failed", metadata: ["error": "\(String(cString: strerror(errno)))"])
        }
    }
}

extension Array {
    /// The index of the first element for which `belongs` is false (elements that satisfy it come first).
    func partitionPoint(_ belongs: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
