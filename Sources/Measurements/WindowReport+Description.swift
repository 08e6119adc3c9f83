import Foundation

extension WindowReport: CustomStringConvertible {
    /// A few aligned lines, e.g.
    ///
    ///     reject window 3: 60.0 s, ended (up)
    ///       detected     after 0.002 s (conn_reset)
    ///       attempts     3 attempts at 1.00 s, 2.00 s, 3.00 s, fixed every ~1.00 s
    ///       reconnected  0.8 s after restore
    ///       replication  resumed 0.9 s after restore
    ///       resume       server_id 2: maintained (mysql-bin.000003:1234)
    public var description: String {
        var lines = [headline]
        lines.append(Self.line("detected", detectionText + (serverClosed.map { "; \($0)" } ?? "")))
        lines.append(Self.line("attempts", attempts.summary))
        if connections.openAtStart > 0 {
            lines.append(Self.line(
                "connections", "\(connections.survived) of \(connections.openAtStart) open at start survived"))
        }
        for lost in connections.lost {
            lines.append(Self.line("lost", "conn \(lost.conn)" + (lost.client.map { " (\($0))" } ?? "")
                + " after \(Self.seconds(lost.after)) (\(lost.how))"))
        }
        lines.append(Self.line("reconnected", reconnectText))
        lines.append(Self.line("replication", replicationText))
        if resume.isEmpty {
            lines.append(Self.line("resume", "no replication client"))
        }
        for entry in resume {
            lines.append(Self.line("resume", entry.summary))
            if let caveat = entry.caveat { lines.append(Self.line("caveat", "\(entry.client): \(caveat)")) }
        }
        for gap in journalGaps ?? [] { lines.append(Self.line("gap", gap)) }
        return lines.joined(separator: "\n")
    }

    private var headline: String {
        let head = "\(fault) window \(window)"
        guard let duration else {
            return "\(head): " + (journalGaps == nil ? "still active" : "still active, or ended among events the journal lost")
        }
        return "\(head): \(Self.seconds(duration))" + (endReason.map { ", ended (\($0.rawValue))" } ?? "")
    }

    private var detectionText: String {
        guard let detection else {
            return ended == nil ? "not yet" : "not while the fault lasted"
        }
        if detection.isBounded, let earliest = detection.earliest, let latest = detection.latest {
            if let line = detection.logLine {
                return (serverClosed == nil ? "gave up" : "reacted") + " after \(Self.seconds(detection.after)), dated by \(detection.bound ?? "its own log"): \"\(line)\""
                    + (detection.logSource.map { " (\($0))" } ?? "")
            }
            return "gave up between \(Self.seconds(earliest)) and \(Self.seconds(latest))" + (detection.bound.map { " (\($0))" } ?? "")
        }
        var text = "after \(Self.seconds(detection.after)) (\(detection.event.rawValue)"
        if let code = detection.code { text += " \(code)" }
        if let detail = detection.detail { text += " \(detail)" }
        return text + ")"
    }

    private var reconnectText: String {
        if let reconnectedAfter { return "\(Self.seconds(reconnectedAfter)) after restore" }
        if ended == nil { return "- (fault still active)" }
        if connections.openAtStart > 0 && connections.lost.isEmpty && connections.survived == connections.openAtStart {
            return "not needed: every connection stayed open"
        }
        return "not yet"
    }

    private var replicationText: String {
        if let replicationResumedAfter {
            return "resumed \(Self.seconds(replicationResumedAfter)) after restore" + (resumedOnConnection.map { " \($0.words)" } ?? "")
        }
        if ended == nil { return "- (fault still active)" }
        if resume.isEmpty { return "no replication client" }
        if let lost = connections.lost.first(where: \.replication) {
            return "not yet: the replication connection was lost after \(Self.seconds(lost.after)) (\(lost.how))"
                + " and no binlog event was forwarded on a new connection"
        }
        return "not yet: no binlog event forwarded on a new connection, nor received on one that stayed open"
    }

    static func line(_ label: String, _ text: String) -> String {
        "  " + label.padding(toLength: 12, withPad: " ", startingAt: 0) + " " + text
    }

    /// "0.002 s" below 0.1 s, "0.8 s" above.
    static func seconds(_ value: Double) -> String {
        String(format: abs(value) < 0.1 ? "%.3f s" : "%.1f s", value)
    }
}

extension AttemptSeries {
    /// Attempts whose times the text lists; JSON has them all.
    static let listed = 10

    /// "none", "1 attempt at 2.00 s", "1 attempt (3 connections) at 10.98 s", "2 attempts at 2.00 s, 5.00 s",
    /// "3 attempts at 0.04 s, 1.05 s, 3.10 s, backoff 1.01 s → 2.05 s", "6 attempts at …, irregular (median 2.30 s)",
    /// "7 attempts at …, fixed every ~1.00 s"; times from the fault start.
    public var summary: String {
        let estimated = estimatedTimes ? " (estimated from refused counts)" : ""
        let unseen = unobserved.map { "; refused connects not observed: \($0)" } ?? ""
        let down = (agentDown ?? []).map { "; \($0)" }.joined()
        return plainSummary(estimated: estimated) + unseen + down
    }

    private func plainSummary(estimated: String) -> String {
        guard !groups.isEmpty else { return "none" }
        func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }
        var text = groups.count == 1 ? "1 attempt" : "\(groups.count) attempts"
        if total > groups.count { text += " (\(total) connections)" }
        text += " at " + groups.prefix(Self.listed).map { seconds($0.after) }.joined(separator: ", ")
        if groups.count > Self.listed { text += ", … (\(groups.count - Self.listed) more)" }
        // One interval is no pattern.
        guard intervals.count > 1 else { return text + estimated }
        switch pattern {
        case .none, .single:
            return text + estimated
        case .fixed:
            return text + ", fixed every ~\(seconds(medianInterval ?? 0))" + estimated
        case .backoff:
            return text + ", backoff \(seconds(intervals.first ?? 0)) → \(seconds(intervals.last ?? 0))" + estimated
        case .irregular:
            return text + ", irregular (median \(seconds(medianInterval ?? 0)))" + estimated
        }
    }
}

extension ResumeReport {
    /// "server_id 2: maintained (mysql-bin.000003:1234)".
    public var summary: String {
        var text = "\(client): \(verdict.rawValue)"
        switch verdict {
        case .maintained:
            if let requested { text += " (\(requested))" }
            if let note, rereadRowEvents == 0 { text += ": \(note)" }
        case .reread, .skipped, .unknown:
            if let note { text += ": \(note)" }
        }
        if let lastReceived, let lastForwarded { text += "; it had received up to \(lastReceived) of \(lastForwarded) written" }
        if let receipt { text += "; last position \(receipt)" }
        return text
    }
}
