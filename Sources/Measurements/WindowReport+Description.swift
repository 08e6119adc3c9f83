import Foundation

extension WindowReport: CustomStringConvertible {
    /// A few aligned lines, e.g.
    ///
    ///     reject window 3: 60.0 s, ended (up)
    ///       detected     after 0.002 s (conn_reset)
    ///       attempts     7, fixed every ~1.0 s
    ///       reconnected  0.8 s after restore
    ///       replication  resumed 0.9 s after restore
    ///       resume       server_id 2: maintained (mysql-bin.000003:1234)
    public var description: String {
        var lines = [headline]
        lines.append(Self.line("detected", detectionText))
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
                return "gave up after \(Self.seconds(detection.after)), dated by \(detection.bound ?? "its own log"): \"\(line)\""
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
    /// "none", "1 (at 2.0 s)", "7, fixed every ~1.0 s", "5, backoff 1.0 s → 16.0 s",
    /// "6, irregular (median 2.3 s)".
    var summary: String {
        let estimated = estimatedTimes ? " (estimated from refused counts)" : ""
        let unseen = unobserved.map { "; refused connects not observed: \($0)" } ?? ""
        return plainSummary(estimated: estimated) + unseen
    }

    private func plainSummary(estimated: String) -> String {
        switch pattern {
        case .none:
            return "none"
        case .single:
            return "1 (at \(WindowReport.seconds(attempts.first?.after ?? 0)) after start)"
        case .fixed:
            return "\(total), fixed every ~\(WindowReport.seconds(medianInterval ?? 0))" + estimated
        case .backoff:
            return "\(total), backoff \(WindowReport.seconds(intervals.first ?? 0)) → \(WindowReport.seconds(intervals.last ?? 0))"
                + estimated
        case .irregular:
            return "\(total), irregular (median \(WindowReport.seconds(medianInterval ?? 0)))" + estimated
        }
    }
}

extension ResumeReport {
    /// "server_id 2: maintained (mysql-bin.000003:1234)".
    var summary: String {
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
