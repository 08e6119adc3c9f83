import Measurements
import Foundation

/// `junit.xml`: one testcase per checklist item. FAIL → `failure` with the evidence, NOT
/// OBSERVED and NOT APPLICABLE → `skipped` with what was missing or why, BLOCKED → `error`; an INTERRUPTED or INCONCLUSIVE
/// run adds a testcase "run" with an `error` saying why.
public enum JUnitReport {
    public static func render(_ run: RunReport) -> String {
        let time = String(format: "%.3f", max(0, run.finished - run.started))
        let failures = run.items.filter { $0.verdict == .fail }.count
        let skipped = run.items.filter { $0.verdict == .notObserved || $0.verdict == .notApplicable }.count
        let errors = run.items.filter { $0.verdict == .blocked }.count
        let interrupted = run.verdict == .interrupted || run.verdict == .inconclusive ? 1 : 0
        var lines = ["<?xml version=\"1.0\" encoding=\"UTF-8\"?>"]
        lines.append("<testsuites name=\"toolkit run\" tests=\"\(run.items.count)\" failures=\"\(failures)\" errors=\"\(errors + interrupted)\" skipped=\"\(skipped)\" time=\"\(time)\">")
        lines.append("  <testsuite name=\"\(escape("\(run.caseID) \(run.title)"))\" tests=\"\(run.items.count)\" failures=\"\(failures)\" errors=\"\(errors + interrupted)\" skipped=\"\(skipped)\" time=\"\(time)\" timestamp=\"\(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: run.started)))\">")
        lines.append("    <properties>")
        lines.append("      <property name=\"verdict\" value=\"\(run.verdict.rawValue)\"/>")
        lines.append("      <property name=\"pipeline\" value=\"\(escape(run.pipeline))\"/>")
        lines.append("      <property name=\"etl_tool\" value=\"\(escape(run.etlTool))\"/>")
        lines.append("    </properties>")
        for item in run.items {
            let open = "    <testcase classname=\"\(escape(run.caseID))\" name=\"\(escape(item.text))\" time=\"0\""
            switch item.verdict {
            case .pass:
                lines.append(open + ">")
                lines.append("      <system-out>\(escape(item.evidence))</system-out>")
                lines.append("    </testcase>")
            case .fail:
                lines.append(open + ">")
                lines.append("      <failure message=\"\(escape(item.evidence))\" type=\"FAIL\">\(escape(item.evidence))</failure>")
                lines.append("    </testcase>")
            case .notObserved, .notApplicable:
                lines.append(open + ">")
                lines.append("      <skipped message=\"\(item.verdict.rawValue): \(escape(item.evidence))\"/>")
                lines.append("    </testcase>")
            case .blocked:
                lines.append(open + ">")
                lines.append("      <error message=\"BLOCKED: \(escape(item.evidence))\" type=\"BLOCKED\"/>")
                lines.append("    </testcase>")
            }
        }
        if run.verdict == .interrupted || run.verdict == .inconclusive {
            let kind = run.verdict.rawValue
            lines.append("    <testcase classname=\"\(escape(run.caseID))\" name=\"run\" time=\"\(time)\">")
            lines.append("      <error message=\"\(kind): \(escape(run.reason ?? kind.lowercased()))\" type=\"\(kind)\"/>")
            lines.append("    </testcase>")
        }
        lines.append("  </testsuite>")
        lines.append("</testsuites>")
        return lines.joined(separator: "\n") + "\n"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n": out += "&#10;"
            default:
                // XML 1.0 forbids most control characters.
                if scalar.value < 0x20 && scalar != "\t" { out += " " } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}

/// `report.html`: one self-contained page with the verdicts and an SVG timeline — fault
/// windows, every connection attempt and reconnect, rows at the source against rows at the
/// destination. No script, no external resource.
public enum TimelinePage {
    public static func render(_ run: RunReport) -> String {
        let escape = JUnitReport.escape
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape("\(run.caseID) \(run.title)")) — \(run.verdict.rawValue)</title>
            <style>
            body{font-family:sans-serif;margin:24px;color:#222;background:#fff}
            .verdict{display:inline-block;padding:4px 12px;border-radius:4px;color:#fff;font-weight:bold}
            .PASS{background:#2e7d32}.FAIL{background:#c62828}.BLOCKED{background:#6d4c41}.INTERRUPTED{background:#ef6c00}.INCONCLUSIVE{background:#8e24aa}
            .NOTOBSERVED{background:#757575}.NOTAPPLICABLE{background:#9e9e9e}
            table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
            </style></head><body>
            <h1>\(escape(run.caseID)): \(escape(run.title))</h1>
            <p><span id="verdict" class="verdict \(run.verdict.rawValue.replacingOccurrences(of: " ", with: ""))">\(run.verdict.rawValue)</span>
             \(escape(run.reason ?? "")) — pipeline \(escape(run.pipeline)), \(escape(run.etlTool)), run \(run.run) on \(run.date)</p>

            """
        html += timeline(run)
        html += "<h2>Verification checklist</h2><table id=\"checklist\"><tr><th>Item</th><th>Verdict</th><th>Evidence</th></tr>\n"
        for item in run.items {
            let css = item.verdict.rawValue.replacingOccurrences(of: " ", with: "")
            html += "<tr><td>\(escape(item.text))</td><td><span class=\"verdict \(css)\">\(item.verdict.rawValue)</span></td><td>\(escape(item.evidence))</td></tr>\n"
        }
        html += "</table><h2>Steps</h2><ol>\n"
        for step in run.steps {
            html += "<li>\(RunReport.clock(step.at)) UTC — \(escape(step.line))</li>\n"
        }
        html += "</ol>\n"
        // What a person attached (`toolkit report --attach`): screenshots shown, other files linked.
        let attached = run.artifacts.filter { $0.hasPrefix("attachments/") }
        if !attached.isEmpty {
            html += "<h2>Screenshots/Logs</h2><ul id=\"attachments\">\n"
            for file in attached {
                let link = escape(file.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }
                    .joined(separator: "/"))
                let isImage = ["png", "jpg", "jpeg", "gif", "webp"].contains((file as NSString).pathExtension.lowercased())
                html += "<li><a href=\"\(link)\">\(escape(file))</a>" + (isImage ? "<br><img src=\"\(link)\" alt=\"\(escape(file))\" style=\"max-width:100%\">" : "") + "</li>\n"
            }
            html += "</ul>\n"
        }
        html += "</body></html>\n"
        return html
    }

    /// The SVG: time across; a band per fault window; attempt marks (accepted ▲ / refused ✕);
    /// reconnect and replication-resumed lines; source and destination row counts as two lines.
    static func timeline(_ run: RunReport) -> String {
        let width = 960.0, height = 320.0, left = 60.0, right = 20.0, top = 20.0
        let laneTop = top, laneHeight = 60.0, chartTop = laneTop + laneHeight + 30, chartHeight = height - chartTop - 30
        let start = run.started, end = max(run.finished, start + 1)
        func x(_ t: Double) -> Double { left + (min(max(t, start), end) - start) / (end - start) * (width - left - right) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"#fafafa\" stroke=\"#ddd\"/>\n"
        svg += "<text x=\"4\" y=\"\(f(laneTop + 34))\" font-size=\"11\">client</text>\n"
        svg += "<text x=\"4\" y=\"\(f(chartTop + 12))\" font-size=\"11\">rows</text>\n"
        for window in run.observations.windows {
            let x0 = x(window.started), x1 = x(window.ended ?? end)
            svg += "<rect class=\"fault-window\" data-window=\"\(window.window)\" x=\"\(f(x0))\" y=\"\(f(top))\" width=\"\(f(max(1, x1 - x0)))\" height=\"\(f(height - top - 30))\" fill=\"#ffcdd2\" fill-opacity=\"0.6\"><title>fault window \(window.window): \(window.fault.type.rawValue)</title></rect>\n"
            svg += "<text x=\"\(f(x0 + 2))\" y=\"\(f(top + 10))\" font-size=\"10\" fill=\"#b71c1c\">\(window.fault.type.rawValue)</text>\n"
            for attempt in window.attempts.attempts {
                let ax = x(window.started + attempt.after)
                let y = laneTop + 30
                if attempt.kind == .refused {
                    svg += "<path class=\"attempt refused\" d=\"M\(f(ax - 4)) \(f(y - 4)) L\(f(ax + 4)) \(f(y + 4)) M\(f(ax - 4)) \(f(y + 4)) L\(f(ax + 4)) \(f(y - 4))\" stroke=\"#c62828\" stroke-width=\"2\"><title>refused ×\(attempt.count) at +\(f(attempt.after)) s</title></path>\n"
                } else {
                    let ok = attempt.outcome.map { "\($0)" } ?? "accepted"
                    svg += "<path class=\"attempt accepted\" d=\"M\(f(ax)) \(f(y - 6)) L\(f(ax + 5)) \(f(y + 4)) L\(f(ax - 5)) \(f(y + 4)) Z\" fill=\"#1565c0\"><title>attempt at +\(f(attempt.after)) s: \(JUnitReport.escape(ok))</title></path>\n"
                }
            }
            if let ended = window.ended {
                if let reconnected = window.reconnectedAfter {
                    let rx = x(ended + reconnected)
                    svg += "<line class=\"reconnect\" x1=\"\(f(rx))\" y1=\"\(f(top))\" x2=\"\(f(rx))\" y2=\"\(f(height - 30))\" stroke=\"#2e7d32\" stroke-dasharray=\"4 3\"><title>reconnected +\(f(reconnected)) s after the restore</title></line>\n"
                }
                if let resumed = window.replicationResumedAfter {
                    let rx = x(ended + resumed)
                    svg += "<line class=\"replication-resumed\" x1=\"\(f(rx))\" y1=\"\(f(top))\" x2=\"\(f(rx))\" y2=\"\(f(height - 30))\" stroke=\"#1b5e20\"><title>replication resumed +\(f(resumed)) s after the restore</title></line>\n"
                }
            }
        }
        let counts = run.samples.flatMap { [$0.sourceRows, $0.destinationRows].compactMap { $0 } }
        if let low = counts.min(), let high = counts.max() {
            let span = Double(max(high - low, 1))
            func y(_ rows: Int) -> Double { chartTop + chartHeight - Double(rows - low) / span * chartHeight }
            for (name, color, value) in [("source-rows", "#6a1b9a", \Sample.sourceRows), ("destination-rows", "#ef6c00", \Sample.destinationRows)] {
                let points = run.samples.compactMap { sample in sample[keyPath: value].map { "\(f(x(sample.at))),\(f(y($0)))" } }
                guard !points.isEmpty else { continue }
                svg += "<polyline class=\"\(name)\" points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            }
            svg += "<text x=\"\(f(width - 300))\" y=\"\(f(chartTop + 12))\" font-size=\"11\" fill=\"#6a1b9a\">source rows</text>"
            svg += "<text x=\"\(f(width - 170))\" y=\"\(f(chartTop + 12))\" font-size=\"11\" fill=\"#ef6c00\">destination rows</text>\n"
            svg += "<text x=\"4\" y=\"\(f(chartTop + chartHeight))\" font-size=\"10\">\(low)</text><text x=\"4\" y=\"\(f(chartTop + 24))\" font-size=\"10\">\(high)</text>\n"
        }
        svg += "<text x=\"\(f(left))\" y=\"\(f(height - 10))\" font-size=\"10\">\(RunReport.clock(start)) UTC</text>"
        svg += "<text x=\"\(f(width - right - 70))\" y=\"\(f(height - 10))\" font-size=\"10\">\(RunReport.clock(end)) UTC</text>\n"
        svg += "</svg>\n"
        return svg
    }
}
