import Foundation
import Measurements
import Verification

/// PASS, FAIL or NOT OBSERVED for one checklist item; NOT APPLICABLE for one that does not apply
/// to this kind of pipeline (a binlog position of a query-based sync); BLOCKED for every item of a
/// run whose preconditions failed.
public enum ItemVerdict: String, Codable, Sendable, Hashable {
    case pass = "PASS"
    case fail = "FAIL"
    case notObserved = "NOT OBSERVED"
    case notApplicable = "NOT APPLICABLE"
    case blocked = "BLOCKED"
}

/// How the pipeline read the source during the run.
public enum SyncMode: String, Codable, Sendable, Hashable {
    /// A binlog reader: it opened a binlog dump (after an initial snapshot with queries, too).
    case binlog
    /// A query-based sync: it read the source's tables with SELECTs and opened no binlog dump.
    case queries
}

public struct ItemResult: Codable, Sendable, Hashable {
    public var text: String
    public var measure: Measure
    public var verdict: ItemVerdict
    /// What was measured (PASS/FAIL), or what is missing (NOT OBSERVED).
    public var evidence: String
    /// The person whose verdict this is, when one gave it (`--item`, `toolkit report`).
    public var person: TesterAnswer?

    public init(text: String, measure: Measure, verdict: ItemVerdict, evidence: String, person: TesterAnswer? = nil) {
        self.text = text
        self.measure = measure
        self.verdict = verdict
        self.evidence = evidence
        self.person = person
    }
}

/// The message the ETL tool showed, and where it was read.
public struct ObservedMessage: Codable, Sendable, Hashable {
    public var text: String
    /// "replica Last_IO_Error", "etl log /path/file".
    public var source: String

    public init(text: String, source: String) {
        self.text = text
        self.source = source
    }
}

/// The pipeline's own account at the end of the run (for the replica: `SHOW SLAVE STATUS`).
public struct PipelineState: Codable, Sendable, Hashable {
    public var running: Bool
    public var detail: String

    public init(running: Bool, detail: String) {
        self.running = running
        self.detail = detail
    }
}

/// Everything a run measured, as the checklist needs it.
public struct RunObservations: Codable, Sendable, Hashable {
    /// The agent's fault windows opened by this run, oldest first.
    public var windows: [WindowReport]
    /// The first error the tool showed after the fault started.
    public var message: ObservedMessage?
    /// Other errors it showed later in the run (e.g. a 1236 after a refused reconnect), oldest first.
    public var laterMessages: [ObservedMessage]
    public var data: VerifyReport?
    public var pipeline: PipelineState?
    /// The case's `recovery_within`: a pipeline that resumes later has not recovered in time.
    public var recoveryWithin: Double?
    /// The ETL log's line saying the tool stopped for good ("Engine is stopped"), if it said so.
    public var toolStopped: ObservedMessage?
    /// The ETL log that was searched, and for what ("FILE, for /PATTERN/"); nil without --etl-log.
    public var etlLogSearched: String?
    /// The agent's verdicts on the run's reconnects that no fault window judges (a server-side
    /// reset, a reconnect after the first one), oldest first.
    public var reconnects: [ResumeReport] = []
    /// How the pipeline read the source; nil in runs from before it was told (binlog readers).
    public var syncMode: SyncMode?
    /// What people entered (`--observe`, `--item`, `toolkit report`), each marked as theirs.
    public var testerAnswers: TesterAnswers?

    var isQueryBased: Bool { syncMode == .queries }

    public init(windows: [WindowReport] = [], message: ObservedMessage? = nil, laterMessages: [ObservedMessage] = [],
                data: VerifyReport? = nil, pipeline: PipelineState? = nil, recoveryWithin: Double? = nil) {
        self.windows = windows
        self.recoveryWithin = recoveryWithin
        self.message = message
        self.laterMessages = laterMessages
        self.data = data
        self.pipeline = pipeline
    }

    enum CodingKeys: String, CodingKey {
        case windows, message, data, pipeline
        case laterMessages = "later_messages", recoveryWithin = "recovery_within", toolStopped = "tool_stopped"
        case etlLogSearched = "etl_log_searched"
        case reconnects
        case syncMode = "sync_mode"
        case testerAnswers = "tester_answers"
    }

    /// What the client was sent when it tried to connect during the first window, for a
    /// message item with no message ("TCP RST on connect → Connection refused / errno 111").
    public var clientWasSent: String? {
        guard let window = windows.first else { return nil }
        switch window.fault.type {
        case .reject: return "TCP RST on connect → \"Connection refused\" (errno 111, MySQL client error 2003)"
        case .timeout: return "no answer on connect (SYN unanswered or handshake never sent) → a client-side timeout"
        case .service: return "nothing listening → \"Connection refused\" (errno 111) while the server is down"
        default: return nil
        }
    }
}

/// Decides every checklist item from the observations. Pure.
public enum Checklist {
    /// Tables that are all the toolkit's own bookkeeping, `_toolkit_meta` and `_toolkit_heartbeat`
    /// (as "db.table" or "table").
    static func onlyBookkeeping(_ tables: [String]) -> Bool {
        !tables.isEmpty && tables.allSatisfy { BookkeepingTables.contains(String($0.split(separator: ".").last ?? "")) }
    }

    /// "1 row event", "3 row events", or "row events" when not counted.
    static func rowEvents(_ count: Int?) -> String {
        count.map(ResumeReport.rowEvents) ?? "row events"
    }

    enum RereadOutcome { case clean(String), damaged(String) }

    /// What the data check found in the tables a client re-read: no duplicated or changed row
    /// (the client or its destination de-duplicated), or the rows that were. Nil when the
    /// destination was not checked, or the check did not cover every table re-read.
    static func destinationAfter(rereadOf tables: [String]?, _ data: VerifyReport?) -> RereadOutcome? {
        guard let tables, let data, data.verdict != .error else { return nil }
        func bare(_ name: String) -> String { String(name.lowercased().split(separator: ".").last ?? "") }
        let reread = Set(tables.map(bare)).subtracting(BookkeepingTables.names)
        let checked = data.tables.filter { reread.contains(bare($0.table)) }
        guard !reread.isEmpty, Set(checked.map { bare($0.table) }) == reread else { return nil }
        let damaged = checked.filter { $0.duplicates > 0 || $0.changed > 0 }
        if damaged.isEmpty {
            let redelivered = checked.compactMap(\.redelivered).reduce(0, +)
            return .clean("no duplicate at the destination" + (redelivered > 0 ? " (\(redelivered) change-log lines delivered twice, folded)" : ""))
        }
        return .damaged(damaged.map { table in
            [(table.duplicates, "duplicated"), (table.changed, "changed")].filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
                .joined(separator: ", ") + " in \(table.table) at the destination"
        }.joined(separator: "; "))
    }

    public static func evaluate(_ items: [ChecklistItem], _ observations: RunObservations) -> [ItemResult] {
        items.map { evaluate($0, observations) }
    }

    public static func evaluate(_ item: ChecklistItem, _ observations: RunObservations) -> ItemResult {
        let (verdict, evidence) = judge(item, observations)
        return ItemResult(text: item.text, measure: item.measure, verdict: verdict, evidence: evidence)
    }

    /// The run's verdict: PASS when no item failed and the data and recovery items (those the
    /// case has) were observed; FAIL otherwise.
    public static func runVerdict(_ results: [ItemResult]) -> RunVerdict {
        if results.contains(where: { $0.verdict == .fail }) { return .fail }
        let essential: Set<Measure> = [.data, .recovery, .pipelineRunning]
        let unobserved = results.filter { essential.contains($0.measure) && $0.verdict != .pass }
        return unobserved.isEmpty ? .pass : .fail
    }

    private static func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }

    /// The fault's length when the client tried no connection while it lasted; nil when it did.
    private static func quietFault(_ window: WindowReport) -> Double? {
        guard let duration = window.duration, !window.attempts.attempts.contains(where: { $0.after < duration }) else { return nil }
        return duration
    }

    /// "; its next connect came 1.64 s after the restore" for a window `quietFault` holds, or "".
    private static func nextConnect(_ window: WindowReport, after restore: String) -> String {
        guard let duration = window.duration, let first = window.attempts.attempts.first else { return "" }
        return "; its next connect came \(seconds(first.after - duration)) after \(restore)"
    }

    /// A detection the wire only bounds (a client that abandoned a dropped connect sends nothing),
    /// or a reaction to a stopped server dated by the client's log line to its stamp's resolution:
    /// within N s passes when even the latest moment is, fails when even the earliest is not, and
    /// is not observed in between — the evidence says which side cannot be told, and why.
    private static func judgeBounded(_ detection: Detection, earliest: Double, latest: Double, within limit: Double?,
                                     serverClosed: ServerClose?) -> (ItemVerdict, String) {
        var evidence: String
        if let line = detection.logLine {
            evidence = (serverClosed.map { "\($0); " } ?? "")
                + "the client \(serverClosed == nil ? "gave up" : "reacted") \(seconds(detection.after)) after the fault started, dated by its own log line \"\(line)\""
                + (detection.logSource.map { " (\($0))" } ?? "")
            if latest - earliest >= 0.01 { evidence += " between \(seconds(earliest)) and \(seconds(latest))" }
            evidence += " (\(detection.event.rawValue)" + (detection.bound.map { "; \($0)" } ?? "") + ")"
        } else {
            evidence = "the client gave up between \(seconds(earliest)) and \(seconds(latest)) after the fault started ("
                + detection.event.rawValue + (detection.bound.map { ": \($0)" } ?? "") + ")"
        }
        guard let limit else { return (.pass, evidence) }
        if latest < limit { return (.pass, evidence + " < \(Int(limit)) s") }
        if earliest >= limit { return (.fail, evidence + ", not < \(Int(limit)) s") }
        let why = detection.logLine == nil
            ? "a client that abandons a dropped connect sends nothing, so the wire cannot tell which side of \(Int(limit)) s it was"
                + " (give --etl-log with the client's log, whose timestamps can)"
            : "its log's timestamps are too coarse to tell which side of \(Int(limit)) s it was"
        return (.notObserved, evidence + ": \(why)")
    }

    private static func judge(_ item: ChecklistItem, _ observations: RunObservations) -> (ItemVerdict, String) {
        var windows = observations.windows
        if let index = item.window {
            guard windows.indices.contains(index - 1) else {
                return (.notObserved, "no fault window \(index) in this run (it had \(windows.count))")
            }
            windows = [windows[index - 1]]
        }
        switch item.measure {
        case .detection:
            guard let window = windows.first else { return (.notObserved, "no fault window was opened") }
            guard let detection = window.detection else {
                let waiting = window.attempts.attempts.filter { $0.kind == .dropped && $0.outcome == .dropped }
                if let last = waiting.last {
                    // Under DROP a client that abandons a connect sends nothing: with no attempt after it, nothing shows it.
                    return (.notObserved, "no giving up was seen on the wire: \(waiting.count) dropped connect(s), the last \(seconds(last.after))"
                        + " after the fault started, none followed by another while the fault lasted; a client that abandons a dropped connect sends nothing")
                }
                // A stopped server closed the connection: the client met the fault, and waited (Debezium's keepalive).
                if let closed = window.serverClosed, let duration = quietFault(window) {
                    let log = observations.etlLogSearched != nil ? " and its log showed no failure" : ""
                    return (.notObserved, "\(closed); the client tried no connection while the server was down (\(seconds(duration)))"
                        + log + nextConnect(window, after: "the restart"))
                }
                // A query-based sync that did not run while the fault lasted never met it.
                if observations.isQueryBased, let duration = window.duration, window.readsDuringFault == nil,
                   !window.attempts.attempts.contains(where: { $0.after < duration }) {
                    let rhythm = window.readRhythm.map { " (it read every \(seconds($0)) before the fault; the fault lasted \(seconds(duration)))" }
                        ?? " (the fault lasted \(seconds(duration)))"
                    return (.notObserved, "not tested: the sync did not run during the fault\(rhythm)"
                        + (window.tablesReadAfter.map { "; it read again \(seconds($0)) after the restore" } ?? ""))
                }
                // A client whose rhythm is slower than the fault never met it.
                if let duration = quietFault(window) {
                    return (.notObserved, "the fault ended before the client noticed: it tried no connection in the fault's \(seconds(duration))")
                }
                return (.notObserved, "the client made no failed attempt while the fault lasted"
                    + (window.duration.map { " (\(seconds($0)))" } ?? "") + (window.serverClosed.map { "; \($0)" } ?? ""))
            }
            if detection.isBounded, let earliest = detection.earliest, let latest = detection.latest {
                return judgeBounded(detection, earliest: earliest, latest: latest, within: item.within, serverClosed: window.serverClosed)
            }
            var evidence: String
            if let closed = window.serverClosed {
                evidence = "\(closed); the client's first reaction \(seconds(detection.after)) after the fault started (\(detection.event.rawValue)"
            } else {
                evidence = "first failed attempt \(seconds(detection.after)) after the fault started (\(detection.event.rawValue)"
            }
            if let code = detection.code { evidence += ", error \(code)" }
            evidence += ")"
            guard let limit = item.within else { return (.pass, evidence) }
            return detection.after < limit ? (.pass, evidence + " < \(Int(limit)) s") : (.fail, evidence + ", not < \(Int(limit)) s")
        case .errorMessage:
            guard let message = observations.message else {
                var missing = observations.etlLogSearched.map { "no line of the ETL log \($0) came after the fault started" }
                    ?? "no error message was read from the ETL tool (give --etl-log FILE)"
                if let sent = observations.clientWasSent { missing += "; the client was sent: \(sent)" }
                return (.notObserved, missing)
            }
            let quoted = "\"\(message.text)\" (\(message.source))"
            guard let pattern = item.pattern else { return (.pass, quoted) }
            func matches(_ candidate: ObservedMessage) -> Bool {
                candidate.text.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil
            }
            if matches(message) { return (.pass, quoted) }
            if let later = observations.laterMessages.first(where: matches) {
                return (.pass, "\"\(later.text)\" (\(later.source)), after a first error \(quoted)")
            }
            let others = observations.laterMessages.isEmpty ? "" : " (nor do \(observations.laterMessages.count) later ones)"
            // A reject refuses new connections and resets open ones: a client that only had its
            // open connection reset, and tried no new one while the fault lasted, was never refused.
            if let window = windows.last, window.fault.type == .reject, window.attempts.unobserved == nil,
               let duration = quietFault(window) {
                let reset = window.connections.lost.first.map { "its open connection ended \(seconds($0.after)) after the fault started (\($0.how)), " } ?? ""
                return (.notObserved, "not tested: \(reset)and it tried no new connection in the fault's \(seconds(duration)), "
                    + "so nothing refused it\(nextConnect(window, after: "the restore")); its error: \(quoted)")
            }
            return (.fail, "\(quoted) does not match /\(pattern)/\(others)")
        case .recovery:
            guard let window = windows.last else { return (.notObserved, "no fault window was opened") }
            guard window.ended != nil else { return (.fail, "the fault never ended") }
            if observations.isQueryBased {
                // A query-based sync has recovered when it reads the source's tables again.
                guard let read = window.tablesReadAfter else {
                    let reconnected = window.reconnectedAfter.map { "it reconnected \(seconds($0)) after the restore but " } ?? ""
                    return (.fail, "the sync never read the source's tables after the restore: \(reconnected)no successful SELECT of them"
                        + (observations.recoveryWithin.map { " within recovery_within \(Int($0)) s" } ?? ""))
                }
                let evidence = "the sync read the source's tables again \(seconds(read)) after the restore"
                    + (window.reconnectedAfter.map { " (reconnected after \(seconds($0)))" } ?? "")
                if let limit = observations.recoveryWithin, read > limit {
                    return (.fail, evidence + ", later than recovery_within \(Int(limit)) s")
                }
                return (.pass, evidence)
            }
            if let resumed = window.replicationResumedAfter {
                let evidence: String
                if let same = window.resumedOnConnection {
                    // A connection that survived the fault and delivers again has recovered, without a reconnect.
                    evidence = "replication resumed \(same.words), \(seconds(resumed)) after the restore"
                } else {
                    evidence = "replication resumed \(seconds(resumed)) after the restore"
                        + (window.reconnectedAfter.map { " (reconnected after \(seconds($0)))" } ?? "")
                }
                if let limit = observations.recoveryWithin, resumed > limit {
                    return (.fail, evidence + ", later than recovery_within \(Int(limit)) s")
                }
                return (.pass, evidence)
            }
            if observations.pipeline?.running == false {
                return (.fail, "replication never resumed after the restore: \(observations.pipeline!.detail)")
            }
            if let stopped = observations.toolStopped {
                return (.fail, "replication never resumed after the restore: the ETL tool stopped for good (\"\(stopped.text)\", \(stopped.source))")
            }
            if let reconnected = window.reconnectedAfter {
                return (.fail, "reconnected \(seconds(reconnected)) after the restore but replication never resumed")
            }
            return (.fail, "replication never resumed after the restore: no reconnect")
        case .reconnectEveryCycle:
            guard !windows.isEmpty else { return (.notObserved, "no fault window was opened") }
            let missed = windows.filter { $0.ended != nil && $0.reconnectedAfter == nil }.map(\.window)
            if missed.isEmpty {
                return (.pass, "reconnected after each of \(windows.count) fault windows")
            }
            return (.fail, "no reconnect after fault window(s) \(missed.map(String.init).joined(separator: ", ")) of \(windows.count)")
        case .position where observations.isQueryBased:
            return (.notApplicable, "a query-based sync has no binlog position: it opened no binlog dump, and where its cursor "
                + "resumed is judged by the data at the destination")
        case .position:
            // The windows' verdicts, then the reconnects no window judged (a server-side reset, a
            // later reconnect): a skip between faults loses data as one in a window does.
            let between = observations.reconnects.map { reconnect in
                var report = reconnect
                report.client = "between faults, \(reconnect.client)"
                    + (reconnect.requestedAt.map { " at \(RunReport.clock($0)) UTC" } ?? "")
                return report
            }
            let reports = windows.flatMap(\.resume) + between
            guard !reports.isEmpty else { return (.notObserved, "no replication client asked to resume during the run's fault windows") }
            var passes: [String] = [], fails: [String] = [], unknown: [String] = []
            for report in reports {
                let before = (passes.count, fails.count, unknown.count)
                defer {
                    // Judged against what was written when what the client received is not known: say so.
                    if let receipt = report.receipt {
                        let words = " (judged against its last position, \(receipt))"
                        if passes.count > before.0 { passes[passes.count - 1] += words }
                        if fails.count > before.1 { fails[fails.count - 1] += words }
                        if unknown.count > before.2 { unknown[unknown.count - 1] += words }
                    }
                }
                let label = "\(report.client): \(report.verdict.rawValue)"
                switch report.verdict {
                case .maintained:
                    passes.append(label + (report.requested.map { " at \($0)" } ?? report.note.map { " (\($0))" } ?? ""))
                case .reread where report.rereadRowEvents == 0:
                    passes.append("\(report.client): re-read no row events" + (report.note.map { " (\($0))" } ?? ""))
                case .reread where report.rereadTables.map(Self.onlyBookkeeping) == true:
                    // A client that keeps its position at its last replicated event re-reads the
                    // toolkit's own bookkeeping written after it: nothing a destination is compared on.
                    let count = Self.rowEvents(report.rereadRowEvents)
                    let tables = Set((report.rereadTables ?? []).map { String($0.lowercased().split(separator: ".").last ?? "") }).sorted()
                    passes.append("\(report.client): re-read only \(count) of the toolkit's own \(tables.joined(separator: " and ")), which no data check compares"
                                  + (report.note.map { " (\($0))" } ?? ""))
                case .reread:
                    let count = Self.rowEvents(report.rereadRowEvents)
                    let tables = report.rereadTables.map { " of \($0.joined(separator: ", "))" } ?? ""
                    let reread = "\(report.client) re-read \(count)\(tables)"
                    // At-least-once delivery is judged by what it left at the destination.
                    switch Self.destinationAfter(rereadOf: report.rereadTables, observations.data) {
                    case .clean(let text)?: passes.append("\(reread); \(text)")
                    case .damaged(let text)?: fails.append("\(reread); \(text)")
                    case nil: fails.append(reread + (report.note.map { " (\($0))" } ?? ""))
                    }
                case .skipped:
                    fails.append("\(report.client) skipped ahead" + (report.note.map { " (\($0))" } ?? ""))
                case .unknown:
                    unknown.append(label + (report.note.map { " (\($0))" } ?? ""))
                }
            }
            if !fails.isEmpty { return (.fail, fails.joined(separator: "; ")) }
            if passes.isEmpty { return (.notObserved, unknown.joined(separator: "; ")) }
            return (.pass, (passes + unknown).joined(separator: "; "))
        case .data:
            guard let data = observations.data else { return (.notObserved, "the destination was not checked") }
            switch data.verdict {
            case .match:
                var evidence = "\(data.destinationRows) rows at the destination match the source's \(data.sourceRows)"
                if data.deletesNotPropagated > 0 {
                    evidence = "\(data.destinationRows - data.deletesNotPropagated) rows at the destination match the source's \(data.sourceRows); "
                        + "\(data.deletesNotPropagated) rows the run deleted are still there (deletes_not_propagated): a query-based sync "
                        + "reads with a cursor and cannot see a delete, reported, not a difference"
                }
                return (.pass, evidence)
            case .error:
                return (.notObserved, "the data check failed: \(data.error ?? "no reason given")")
            case .differences:
                var parts: [String] = []
                // Counts as verify made them; the rows it named, at most 10 of each class.
                func add(_ count: Int, _ kind: String, _ word: String) {
                    guard count > 0 else { return }
                    let named = data.named(kind)
                    let shown = named.prefix(10).joined(separator: ", ")
                    parts.append("\(count) \(word)" + (named.isEmpty ? "" : " (\(shown)\(count > min(named.count, 10) ? ", ..." : ""))"))
                }
                add(data.missing, "missing", "missing")
                add(data.extra, "extra", "extra")
                add(data.duplicates, "duplicates", "duplicated")
                add(data.changed, "changed", "changed")
                if parts.isEmpty { parts.append("differences") }
                for table in data.tables {
                    if let column = table.missingShareSecondIn {
                        parts.append("\(table.table): " + CursorPrecisionText.hint(missing: table.missing, column: column))
                    }
                }
                if data.deletesNotPropagated > 0 {
                    parts.append("\(data.deletesNotPropagated) rows the run deleted still there (deletes_not_propagated: a cursor cannot see deletes, not counted)")
                }
                return (.fail, "source \(data.sourceRows) rows, destination \(data.destinationRows): " + parts.joined(separator: "; "))
            }
        case .staysConnected:
            guard let window = windows.first else { return (.notObserved, "no fault window was opened") }
            let survival = window.connections
            if survival.openAtStart == 0 { return (.notObserved, "no client connection was open when the fault started") }
            if window.detection == nil && survival.survived == survival.openAtStart {
                return (.pass, "all \(survival.openAtStart) connections stayed open")
            }
            let detection = window.detection.map { ", first failure \(seconds($0.after)) in (\($0.event.rawValue))" } ?? ""
            return (.fail, "\(survival.survived) of \(survival.openAtStart) connections stayed open\(detection)")
        case .pipelineRunning:
            guard let pipeline = observations.pipeline else { return (.notObserved, "the pipeline's own state was not read") }
            return (pipeline.running ? .pass : .fail, pipeline.detail)
        case .manual:
            return (.notObserved, "the toolkit cannot measure this; a person must check it")
        }
    }
}

public enum RunVerdict: String, Codable, Sendable, CaseIterable {
    case pass = "PASS"
    case fail = "FAIL"
    case blocked = "BLOCKED"
    /// The run could not show what the case asks (`InconclusiveCause`): its own tooling failed
    /// or the scenario did not happen as written. Neither the pipeline's PASS nor its FAIL.
    case inconclusive = "INCONCLUSIVE"
    case interrupted = "INTERRUPTED"

    /// 0 PASS, 1 FAIL, 3 BLOCKED, 4 INCONCLUSIVE, 130 INTERRUPTED.
    public var exitCode: Int32 {
        switch self {
        case .pass: 0
        case .fail: 1
        case .blocked: 3
        case .inconclusive: 4
        case .interrupted: 130
        }
    }

    /// Which verdict wins when several apply: INTERRUPTED > INCONCLUSIVE > BLOCKED > FAIL > PASS
    /// (`RunReport.settle` puts a failed final restore above them all).
    var rank: Int {
        switch self {
        case .pass: 0
        case .fail: 1
        case .blocked: 2
        case .inconclusive: 3
        case .interrupted: 4
        }
    }

    /// The verdict that wins of these (PASS for none).
    public static func worst(_ verdicts: [RunVerdict]) -> RunVerdict {
        verdicts.max { $0.rank < $1.rank } ?? .pass
    }
}
