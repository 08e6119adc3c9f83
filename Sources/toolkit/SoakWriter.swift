import Agent
import Foundation
import Glibc
import Infrastructure
import Measurements
import Runner
import Soak

/// Writes a soak's outputs into its report directory, at every checkpoint and at the end. The
/// reports are replaced whole (written aside, then renamed), so a reader never sees half a
/// report; `history.jsonl` and `events.jsonl` grow by what is new since the last checkpoint,
/// appended in whole lines, so that a week's soak does not write its whole history again every
/// ten minutes (and keeps the events the journal's budget later deletes).
final class SoakWriter: @unchecked Sendable {
    let directory: URL
    let state: StateDirectory
    /// The soak's writes, whose whole history the final report is written with (set before the soak starts).
    var workload: HistoryLoad?
    /// The two growing files, opened (and emptied) at the first write.
    private var appended: (history: Int32, events: Int32)?
    /// History operations written so far, and the last journal event written (nil: none yet).
    private var historyWritten = 0
    private var lastEventSeq: UInt64?

    init(directory: URL, state: StateDirectory) {
        self.directory = directory
        self.state = state
    }

    deinit {
        if let appended { close(appended.history); close(appended.events) }
    }

    /// Writes the six files; returns the report with its artifacts listed. A file that cannot be
    /// written is said on stderr and the others are still written (what was not appended is
    /// appended at the next write).
    @discardableResult
    func write(_ report: SoakReport, history: [SoakOperation]) -> SoakReport {
        var report = report
        report.artifacts = SoakOutputs.files
        let files: [(String, String)] = [
            ("soak.md", SoakOutputs.markdown(report)),
            ("junit.xml", SoakOutputs.junit(report)),
            ("result.json", JSONOutput.line(report, pretty: true) + "\n"),
            ("report.html", SoakOutputs.html(report)),
        ]
        for (name, text) in files {
            do { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) } catch {
                writeError("soak: could not write \(directory.appendingPathComponent(name).path): \(error)")
            }
        }
        guard let files = openAppended() else { return report }
        let newOperations = history.dropFirst(historyWritten)
        if append(newOperations.map { JSONOutput.line($0) + "\n" }.joined(), to: files.history, "history.jsonl") {
            historyWritten += newOperations.count
        }
        let events = newEvents(from: report.started - 1, through: report.finished + 1)
        if let last = events.last, append(events.map { JSONOutput.line($0) + "\n" }.joined(), to: files.events, "events.jsonl") {
            lastEventSeq = last.seq ?? lastEventSeq
        }
        return report
    }

    /// The journal's events after the last one written (the first time: from `start`), up to the
    /// first stamped after `end`, oldest first.
    private func newEvents(from start: Double, through end: Double) -> [JournalEvent] {
        let journal = JournalDirectory(state: state)
        let events = lastEventSeq.map { journal.events(after: $0, limit: .max) } ?? journal.events(from: start)
        return Array(events.prefix { $0.at <= end })
    }

    private func append(_ text: String, to descriptor: Int32, _ name: String) -> Bool {
        guard !text.isEmpty else { return true }
        do { try AppendOnlyFile(descriptor: descriptor).append(Array(text.utf8)) } catch {
            writeError("soak: could not append to \(directory.appendingPathComponent(name).path): \(error)")
            return false
        }
        return true
    }

    private func openAppended() -> (history: Int32, events: Int32)? {
        if let appended { return appended }
        func open(_ name: String) -> Int32? {
            let path = directory.appendingPathComponent(name).path
            // Never through a link another account put there: the soak may run as root.
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if fd < 0 { writeError("soak: could not write \(path): \(String(cString: strerror(errno)))") }
            return fd < 0 ? nil : fd
        }
        guard let history = open("history.jsonl") else { return nil }
        guard let events = open("events.jsonl") else { close(history); return nil }
        appended = (history, events)
        return appended
    }
}

/// `toolkit soak --status`: the running soak's pid, report directory and where it stands.
struct SoakStatus: Codable {
    var pid: Int32
    var report: String?
    var progress: SoakProgress?
}
