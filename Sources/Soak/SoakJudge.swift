import Measurements
import Verification

/// The soak's checker. The comparison of the destination with the source is the oracle; the
/// history only classifies what the comparison found (acknowledged or indeterminate writes, rows
/// nobody the soak knows wrote) and places it in time (the fault it is blamed on). Pure.
public enum SoakJudge {
    /// The fault a write answered at `at` is blamed on: the one open then, else the first that
    /// started after it; nil when none did (the loss happened between faults).
    public static func blame(_ at: Double, faults: [SoakFaultRun]) -> SoakFaultRun? {
        let ran = faults.filter { $0.started != nil }.sorted { $0.started! < $1.started! }
        if let open = ran.first(where: { $0.started! <= at && at < max($0.healed ?? $0.started!, $0.started!) }) { return open }
        return ran.first { $0.started! >= at }
    }

    /// The last write of each row the soak wrote (failed writes never reached the server), by key.
    /// An insert whose answer never came is found by its tag among `sourceIDs` (tag → id at the source).
    public static func lastWrites(_ history: [SoakOperation], sourceIDs: [String: Int]) -> [Int: SoakOperation] {
        var last: [Int: SoakOperation] = [:]
        for operation in history where operation.outcome != .failed {
            guard let id = operation.id ?? operation.tag.flatMap({ sourceIDs[$0] }) else { continue }
            if let known = last[id], known.seq > operation.seq { continue }
            last[id] = operation
        }
        return last
    }

    /// Every example row of the comparison's differences, placed: the soak's own table's rows by
    /// the history, other tables' as not written by the soak.
    public static func place(_ data: VerifyReport, table: String, history: [SoakOperation], sourceIDs: [String: Int],
                             faults: [SoakFaultRun]) -> [PlacedRow] {
        let writes = lastWrites(history, sourceIDs: sourceIDs)
        var placed: [PlacedRow] = []
        let classes: [(String, PlacedRow.Kind)] = [("missing", .lost), ("changed", .changed), ("extra", .unexpected), ("duplicates", .duplicated)]
        for report in data.tables {
            let ours = report.table.lowercased() == table.lowercased() && report.key == ["id"]
            for (name, kind) in classes {
                for example in report.examples[name] ?? [] {
                    let row = report.key.count == 1 && !example.contains("=") ? "\(report.table) \(report.key[0])=\(example)" : "\(report.table) \(example)"
                    guard ours, let id = Int(example), let write = writes[id] else {
                        placed.append(PlacedRow(kind: kind, row: row, blame: "not written by the soak"))
                        continue
                    }
                    let rowKind: PlacedRow.Kind = kind == .unexpected && write.kind == .delete ? .notDeleted : kind
                    let fault = blame(write.ended, faults: faults)
                    placed.append(PlacedRow(kind: rowKind, row: row, operation: write.seq, outcome: write.outcome, at: write.ended,
                                            fault: fault?.number, blame: fault?.name ?? "between faults"))
                }
            }
        }
        return placed
    }

    /// The verdict and its reason, from the last comparison, the rows it placed and what made
    /// the soak's own observation unreliable (`causes`: its tooling failed, a fault it did not
    /// start). A match is valid whatever the causes (they are said); differences with a cause are
    /// unknown, since the cause may be what lost them.
    public static func verdict(final: SoakCheckpoint?, placed: [PlacedRow], causes: [String], faults: [SoakFaultRun],
                               neverResumed: [SoakFaultRun] = []) -> (SoakVerdict, String) {
        let (verdict, reason) = judged(final: final, placed: placed, causes: causes, faults: faults)
        guard !neverResumed.isEmpty, verdict != .blocked else { return (verdict, reason) }
        return (verdict, reason + "; replication never resumed after " + neverResumed.map(\.name).joined(separator: ", "))
    }

    /// The faults after which the pipeline never read the binlog again while the soak watched: the
    /// last window each opened ended, and no binlog event reached a client after it. Latency and
    /// bandwidth break nothing to come back from.
    public static func neverResumed(faults: [SoakFaultRun], windows: [WindowReport]) -> [SoakFaultRun] {
        let byID = Dictionary(windows.map { ($0.window, $0) }, uniquingKeysWith: { $1 })
        return faults.filter { fault in
            guard !fault.scheduled.type.isShaping, let last = fault.windows.compactMap({ byID[$0] }).last else { return false }
            return last.ended != nil && last.replicationResumedAfter == nil
        }
    }

    private static func judged(final: SoakCheckpoint?, placed: [PlacedRow], causes: [String], faults: [SoakFaultRun]) -> (SoakVerdict, String) {
        guard let final else { return (.unknown, "no final comparison was made" + (causes.isEmpty ? "" : ": " + causes.joined(separator: "; "))) }
        let data = final.data
        switch data.verdict {
        case .error:
            return (.unknown, "the final comparison could not be made: \(data.error ?? "")")
        case .match:
            // Whatever else went on, the destination holds what the source committed: that is what valid claims.
            return (.valid, "the destination holds exactly the source's \(data.sourceRows) rows at the final comparison"
                + (causes.isEmpty ? "" : "; not the soak's doing: " + causes.joined(separator: "; ")))
        case .differences:
            var parts: [String] = []
            if data.missing > 0 { parts.append("\(data.missing) rows lost") }
            if data.changed > 0 { parts.append("\(data.changed) changed") }
            if data.extra > 0 { parts.append("\(data.extra) extra") }
            if data.duplicates > 0 { parts.append("\(data.duplicates) duplicated") }
            var reason = parts.joined(separator: ", ") + " at the final comparison"
            let blamed = blamedFaults(placed, faults: faults)
            if !blamed.isEmpty { reason += "; they went wrong after " + blamed.joined(separator: ", ") }
            if !causes.isEmpty { return (.unknown, reason + "; but the soak cannot vouch for what it tested: " + causes.joined(separator: "; ")) }
            return (.invalid, reason)
        }
    }

    /// The faults (and "between faults") the placed rows are blamed on, in order, each once.
    public static func blamedFaults(_ placed: [PlacedRow], faults: [SoakFaultRun]) -> [String] {
        var names: [String] = []
        let numbers = Set(placed.compactMap(\.fault))
        for fault in faults where numbers.contains(fault.number) { names.append(fault.name) }
        if placed.contains(where: { $0.fault == nil && $0.blame == "between faults" }) { names.append("between faults") }
        return names
    }

    /// Seconds from `healed` until a sample read a heartbeat written after it; nil when none did.
    public static func freshAfter(_ healed: Double, samples: [LagSample]) -> Double? {
        samples.first { $0.at >= healed && ($0.beat ?? -.infinity) >= healed }.map { $0.at - healed }
    }

    /// Per fault type, over the faults that ran and the agent's windows they opened.
    public static func typeStats(faults: [SoakFaultRun], windows: [WindowReport]) -> [SoakTypeStats] {
        let byID = Dictionary(windows.map { ($0.window, $0) }, uniquingKeysWith: { $1 })
        var stats: [SoakTypeStats] = []
        for type in SoakFault.allCases {
            let ran = faults.filter { $0.scheduled.type == type && $0.started != nil && $0.problem == nil }
            guard !ran.isEmpty else { continue }
            var detections: [Double] = [], recoveries: [Double] = [], fresh: [Double] = []
            var attempts = 0, never = 0
            var resumes: [String: Int] = [:]
            for fault in ran {
                let opened = fault.windows.compactMap { byID[$0] }
                if let detection = opened.first?.detection { detections.append(detection.after) }
                attempts += opened.reduce(0) { $0 + $1.attempts.total }
                // Latency and bandwidth slow a connection down, they do not break it: nothing to recover from.
                if let last = opened.last, !type.isShaping {
                    if let resumed = last.replicationResumedAfter { recoveries.append(resumed) } else if last.ended != nil { never += 1 }
                }
                for window in opened { for resume in window.resume { resumes[resume.verdict.rawValue, default: 0] += 1 } }
                if let seconds = fault.freshAfter { fresh.append(seconds) }
            }
            recoveries.sort()
            detections.sort()
            fresh.sort()
            stats.append(SoakTypeStats(
                type: type, count: ran.count, detected: detections.count, detectionP50: SoakStatistics.percentile(detections, 0.5),
                attempts: attempts, recoveryP50: SoakStatistics.percentile(recoveries, 0.5),
                recoveryP95: SoakStatistics.percentile(recoveries, 0.95), recoveryMax: recoveries.last, neverRecovered: never,
                resumes: resumes, freshP50: SoakStatistics.percentile(fresh, 0.5), freshMax: fresh.last))
        }
        return stats
    }
}
