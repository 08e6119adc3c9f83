import Foundation
import Measurements
import Verification

/// The soak's human outputs: `soak.md` (read first), `junit.xml` (a test case per checkpoint)
/// and `report.html` (one timeline). Pure: a report in, text out.
public enum SoakOutputs {
    public static let files = ["soak.md", "junit.xml", "result.json", "report.html", "history.jsonl", "events.jsonl"]

    /// "14:03:07" in UTC.
    static func clock(_ epoch: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: epoch))
    }

    static func seconds(_ value: Double?) -> String { value.map { String(format: "%.2f s", $0) } ?? "—" }

    public static func headline(_ report: SoakReport) -> String {
        let verdict = report.running ? "RUNNING" : report.verdict.rawValue.uppercased()
        return verdict + (report.interrupted.map { " (INTERRUPTED by \($0))" } ?? "")
    }

    // MARK: soak.md

    public static func markdown(_ report: SoakReport) -> String {
        let options = report.schedule.options
        var lines = [
            "# Soak: \(headline(report))",
            "",
            report.running ? "Still running: written at checkpoint \(report.checkpoints.count)." : report.reason,
            "",
            "| | |", "|---|---|",
            "| Pipeline | \(report.pipeline) |",
            "| ETL tool | \(report.etlTool ?? "—") |",
            "| Started | \(clock(report.started)) UTC |",
            "| Finished | \(clock(report.finished)) UTC (\(SoakLength.text(Int((report.finished - report.started).rounded()))) of \(SoakLength.text(options.durationSeconds))) |",
            "| Seed | \(options.seed) (`toolkit soak --replay result.json` runs this schedule again) |",
            "| Faults drawn from | \(options.faults.map(\.rawValue).joined(separator: ", ")); length \(options.faultLength), gap \(options.gap) |",
            "| Writes | \(report.history.total): \(report.history.ok) ok, \(report.history.failed) failed, \(report.history.indeterminate) indeterminate (\(report.history.indeterminateCommitted) of them committed at the source) |",
            "| Lag at the destination | " + (report.lag.unknown.map { "unknown: \($0)" }
                ?? "p50 \(seconds(report.lag.p50)), p99 \(seconds(report.lag.p99)), max \(seconds(report.lag.max)) (\(report.lag.samples) samples)") + " |",
            "| Toolkit | \(report.toolkitVersion) |",
            "",
        ]
        if !report.preconditions.isEmpty {
            lines += ["## Preconditions", ""] + report.preconditions.map { "- \($0)" } + [""]
        }
        if !report.causes.isEmpty {
            lines += ["## Why the soak cannot vouch for its verdict", ""] + report.causes.map { "- \($0)" } + [""]
        }
        if !report.placed.isEmpty {
            lines += ["## Rows that differ at the last comparison (the first of each class)", "",
                      "| Row | Class | Last write | Blamed on |", "|---|---|---|---|"]
            for row in report.placed {
                let write = row.operation.map { "op \($0) (\(row.outcome?.rawValue ?? "?"))" + (row.at.map { " at \(clock($0))" } ?? "") } ?? "—"
                lines.append("| \(row.row) | \(row.kind.rawValue) | \(write) | \(row.blame) |")
            }
            lines.append("")
        }
        lines += ["## Checkpoints", "", "| # | At | Outcome |", "|---|---|---|"]
        for checkpoint in report.checkpoints {
            lines.append("| \(checkpoint.final ? "final" : String(checkpoint.number)) | \(SoakLength.clock(checkpoint.offsetSeconds)) | \(checkpoint.outcome) |")
        }
        lines.append("")
        if !report.types.isEmpty {
            lines += ["## Per fault type", "",
                      "| Type | Count | Detected (p50) | Attempts | Recovery p50 / p95 / max | Never recovered | Fresh again p50 / max | Resumes |",
                      "|---|---|---|---|---|---|---|---|"]
            for stats in report.types {
                let resumes = stats.resumes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                lines.append("| \(stats.type.rawValue) | \(stats.count) | \(stats.detected) (\(seconds(stats.detectionP50))) | \(stats.attempts) | "
                    + "\(seconds(stats.recoveryP50)) / \(seconds(stats.recoveryP95)) / \(seconds(stats.recoveryMax)) | \(stats.neverRecovered) | "
                    + "\(seconds(stats.freshP50)) / \(seconds(stats.freshMax)) | \(resumes.isEmpty ? "—" : resumes) |")
            }
            lines.append("")
        }
        if !report.faults.isEmpty {
            lines += ["## Faults", "", "| # | At | Type | Length | Done | Windows | Fresh again after |", "|---|---|---|---|---|---|---|"]
            for fault in report.faults {
                lines.append("| \(fault.number) | \(SoakLength.clock(fault.scheduled.offsetSeconds)) | \(fault.scheduled.type.rawValue) | "
                    + (fault.scheduled.lengthSeconds.map(SoakLength.text) ?? "instant") + " | "
                    + (fault.problem.map { "not applied: \($0)" } ?? fault.applied ?? "") + " | "
                    + (fault.windows.isEmpty ? "—" : fault.windows.map(String.init).joined(separator: ", ")) + " | \(seconds(fault.freshAfter)) |")
            }
            lines.append("")
        }
        if !report.reconnects.isEmpty {
            lines += ["## Reconnects between faults", ""]
            lines += report.reconnects.map { "- \(clock($0.requestedAt ?? report.started)) UTC \($0.client): \($0.verdict.rawValue)" + ($0.note.map { " — \($0)" } ?? "") }
            lines.append("")
        }
        if !report.artifacts.isEmpty {
            lines += ["## Files", ""] + report.artifacts.map { "- [\($0)](\($0))" } + [""]
        }
        return lines.joined(separator: "\n")
    }

    // MARK: junit.xml

    public static func junit(_ report: SoakReport) -> String {
        var cases: [String] = []
        var failures = 0, errors = 0
        for checkpoint in report.checkpoints {
            let name = checkpoint.final ? "final comparison" : "checkpoint \(checkpoint.number) at \(SoakLength.clock(checkpoint.offsetSeconds))"
            var body = ""
            switch checkpoint.data.verdict {
            case .match: break
            case .differences:
                failures += 1
                body = "<failure message=\"\(escape(checkpoint.outcome))\">\(escape(checkpoint.data.description))</failure>"
            case .error:
                errors += 1
                body = "<error message=\"\(escape(checkpoint.outcome))\"/>"
            }
            cases.append("    <testcase classname=\"soak\" name=\"\(escape(name))\" time=\"\(String(format: "%.3f", checkpoint.waitedSeconds))\">\(body)</testcase>")
        }
        if report.verdict == .blocked {
            errors += 1
            cases.append("    <testcase classname=\"soak\" name=\"preconditions\"><error message=\"\(escape(report.reason))\"/></testcase>")
        } else if !report.causes.isEmpty {
            errors += 1
            cases.append("    <testcase classname=\"soak\" name=\"the soak's own tooling\"><error message=\"\(escape(report.causes.joined(separator: "; ")))\"/></testcase>")
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites>
              <testsuite name="soak seed \(report.schedule.options.seed)" tests="\(cases.count)" failures="\(failures)" errors="\(errors)" time="\(String(format: "%.3f", report.finished - report.started))">
            \(cases.joined(separator: "\n"))
                <system-out>\(escape(headline(report) + ": " + report.reason))</system-out>
              </testsuite>
            </testsuites>

            """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    // MARK: report.html

    /// Points of the lag curve drawn at most (an 8-hour soak samples about 14,000 times).
    public static let maxCurvePoints = 600

    /// Every fault on one timeline (a row per type), the checkpoints, the lag curve; one SVG,
    /// downsampled so that a long soak stays a light page.
    public static func html(_ report: SoakReport) -> String {
        let width = 1000.0, rowHeight = 18.0
        let span = max(Double(report.schedule.options.durationSeconds), report.finished - report.started, 1)
        func x(_ epoch: Double) -> Double { 120 + (epoch - report.started) / span * (width - 130) }
        let types = SoakFault.allCases.filter { type in report.faults.contains { $0.scheduled.type == type } }
        var svg: [String] = []
        for (row, type) in types.enumerated() {
            let y = 10 + Double(row) * rowHeight
            svg.append("<text x=\"4\" y=\"\(y + 12)\" class=\"label\">\(type.rawValue)</text>")
            for fault in report.faults where fault.scheduled.type == type {
                guard let started = fault.started else { continue }
                let end = max(fault.healed ?? started, started)
                let w = max(2, x(end) - x(started))
                let title = "\(fault.name): \(fault.applied ?? fault.problem ?? "")" + (fault.freshAfter.map { String(format: "; fresh again %.1f s after", $0) } ?? "")
                let blamed = report.placed.contains { $0.fault == fault.number }
                svg.append("<rect class=\"fault-window\(blamed ? " blamed" : "")\" x=\"\(fmt(x(started)))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(fmt(rowHeight - 4))\"><title>\(escape(title))</title></rect>")
            }
        }
        let laneBottom = 10 + Double(max(types.count, 1)) * rowHeight
        let curveTop = laneBottom + 20, curveHeight = 120.0
        let lags = report.lagSamples.compactMap { sample in sample.lag.map { (sample.at, $0) } }
        let maxLag = max(lags.map(\.1).max() ?? 1, 1)
        let stride = max(1, Int((Double(lags.count) / Double(maxCurvePoints)).rounded(.up)))
        var points: [String] = []
        var index = 0
        while index < lags.count {
            // The worst lag of each bucket: downsampling never hides a peak.
            let bucket = lags[index..<min(index + stride, lags.count)]
            let worst = bucket.max { $0.1 < $1.1 }!
            points.append("\(fmt(x(worst.0))),\(fmt(curveTop + curveHeight - worst.1 / maxLag * curveHeight))")
            index += stride
        }
        svg.append("<text x=\"4\" y=\"\(fmt(curveTop + 12))\" class=\"label\">lag (max \(String(format: "%.1f", maxLag)) s)</text>")
        svg.append("<rect class=\"curve-frame\" x=\"120\" y=\"\(fmt(curveTop))\" width=\"\(fmt(width - 130))\" height=\"\(fmt(curveHeight))\"/>")
        if !points.isEmpty { svg.append("<polyline class=\"lag-curve\" points=\"\(points.joined(separator: " "))\"/>") }
        let bottom = curveTop + curveHeight
        for checkpoint in report.checkpoints {
            let cx = x(checkpoint.at)
            svg.append("<line class=\"checkpoint \(checkpoint.data.verdict == .match ? "match" : "differ")\" x1=\"\(fmt(cx))\" y1=\"4\" x2=\"\(fmt(cx))\" y2=\"\(fmt(bottom))\"><title>\(escape((checkpoint.final ? "final comparison" : "checkpoint \(checkpoint.number)") + ": " + checkpoint.outcome))</title></line>")
        }
        let height = bottom + 10
        let rows = report.checkpoints.map { "<tr><td>\($0.final ? "final" : String($0.number))</td><td>\(SoakLength.clock($0.offsetSeconds))</td><td>\(escape($0.outcome))</td></tr>" }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Soak \(headline(report))</title>
            <style>
            body { font-family: sans-serif; margin: 1.5em; color: #222; }
            .verdict { font-size: 1.4em; font-weight: bold; }
            .verdict.VALID { color: #1a7f37; } .verdict.INVALID { color: #b42318; } .verdict.UNKNOWN, .verdict.BLOCKED, .verdict.RUNNING { color: #9a6700; }
            .label { font-size: 11px; fill: #444; }
            .fault-window { fill: #f2a33a; } .fault-window.blamed { fill: #b42318; }
            .curve-frame { fill: none; stroke: #ccc; } .lag-curve { fill: none; stroke: #2f6feb; stroke-width: 1.5; }
            .checkpoint { stroke-width: 2; } .checkpoint.match { stroke: #1a7f37; } .checkpoint.differ { stroke: #b42318; }
            table { border-collapse: collapse; margin-top: 1em; } td, th { border: 1px solid #ddd; padding: 3px 8px; font-size: 13px; }
            </style></head><body>
            <div id="verdict" class="verdict \(report.running ? "RUNNING" : report.verdict.rawValue.uppercased())">\(escape(headline(report)))</div>
            <p>\(escape(report.running ? "still running" : report.reason))</p>
            <p>\(escape(report.pipeline)) · seed \(report.schedule.options.seed) · \(clock(report.started)) UTC to \(clock(report.finished)) UTC · \(report.faults.count) faults</p>
            <svg id="timeline" width="\(fmt(width))" height="\(fmt(height))" viewBox="0 0 \(fmt(width)) \(fmt(height))" xmlns="http://www.w3.org/2000/svg">
            \(svg.joined(separator: "\n"))
            </svg>
            <table><tr><th>#</th><th>At</th><th>Outcome</th></tr>\(rows.joined())</table>
            </body></html>

            """
    }

    static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
}
