import Agent
import Foundation
import Infrastructure
import Runner
import Soak

/// Writes a soak's outputs into its report directory, at every checkpoint and at the end; each
/// file replaced whole (written aside, then renamed), so a reader never sees half a report.
final class SoakWriter: @unchecked Sendable {
    let directory: URL
    let state: StateDirectory
    /// The soak's writes, whose whole history the final report is written with (set before the soak starts).
    var workload: HistoryLoad?

    init(directory: URL, state: StateDirectory) {
        self.directory = directory
        self.state = state
    }

    /// Writes the six files; returns the report with its artifacts listed. A file that cannot be
    /// written is said on stderr and the others are still written.
    @discardableResult
    func write(_ report: SoakReport, history: [SoakOperation]) -> SoakReport {
        var report = report
        report.artifacts = SoakOutputs.files
        let events = JournalDirectory(state: state).events(from: report.started - 1).filter { $0.at <= report.finished + 1 }
        let files: [(String, String)] = [
            ("soak.md", SoakOutputs.markdown(report)),
            ("junit.xml", SoakOutputs.junit(report)),
            ("result.json", JSONOutput.line(report, pretty: true) + "\n"),
            ("report.html", SoakOutputs.html(report)),
            ("history.jsonl", history.map { JSONOutput.line($0) + "\n" }.joined()),
            ("events.jsonl", events.map { JSONOutput.line($0) + "\n" }.joined()),
        ]
        for (name, text) in files {
            do { try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) } catch {
                writeError("soak: could not write \(directory.appendingPathComponent(name).path): \(error)")
            }
        }
        return report
    }
}

/// `toolkit soak --status`: the running soak's pid, report directory and where it stands.
struct SoakStatus: Codable {
    var pid: Int32
    var report: String?
    var progress: SoakProgress?
}
