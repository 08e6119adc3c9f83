import Faults

/// A journal's events in time order, with its fault windows and client connections
/// indexed, from which each window's `WindowReport` is measured.
///
/// Ranges used for a window (by event order, so events with equal timestamps keep their
/// journal order):
/// - *during*: after `fault_started`, before `fault_ended` (or the journal's end). For a
///   `reset`, whose window has no length, until the horizon instead.
/// - *horizon*: the next connection-fault window's start (or the journal's end). A
///   reconnect or resume later than that belongs to the next window.
/// - *attempts*: from the start to the reconnect (the connects less than
///   `AttemptSeries.groupingGap` after it included: one attempt), or to `recoveryWithin` after
///   the restore when there was none; never past the horizon.
/// - *scope*: for a `replication` (`queries`) fault only connections that did (did not)
///   issue a binlog dump count; `conn_refused` and `conn_dropped` (not tied to a connection)
///   always count.
public struct JournalTimeline: Sendable {
    /// The events, sorted by time; ties keep their journal order.
    public let events: [JournalEvent]
    /// Windows in the order they started.
    public let windows: [FaultWindow]
    private let records: [ConnectionRecord]
    /// For each event, the index of its connection record.
    private let recordOfEvent: [Int?]
    /// For each record, `clientKey`.
    private let recordKeys: [String]
    /// Indices of the `gap` events: a window is not measured across a gap it has no end before.
    private let gapIndices: [Int]
    /// Seconds after the restore that a window's attempts can still come (a case's `recovery_within`).
    public let recoveryWithin: Double

    /// A case's `recovery_within` when nothing says otherwise.
    public static let defaultRecoveryWithin = 300.0

    public init(_ events: [JournalEvent], recoveryWithin: Double = Self.defaultRecoveryWithin) {
        self.recoveryWithin = recoveryWithin
        let sorted = events.enumerated()
            .sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
            .map(\.element)
        self.events = sorted
        (records, recordOfEvent) = Self.connectionRecords(sorted)
        recordKeys = records.map(\.clientKey)
        windows = Self.faultWindows(sorted)
        gapIndices = sorted.indices.filter { sorted[$0].kind == .gap }
    }

    /// A report for every window, in the order they started.
    public func reports() -> [WindowReport] {
        windows.map(report(for:))
    }

    public func report(window id: Int) -> WindowReport? {
        windows.first { $0.id == id }.map(report(for:))
    }

    public func report(for window: FaultWindow) -> WindowReport {
        let start = window.startIndex
        let horizon = horizonIndex(after: window)
        let during = window.fault.type == .reset
            ? (start + 1)..<max(start + 1, horizon)
            : (start + 1)..<(window.endIndex ?? firstGap(after: start) ?? events.count)
        let reconnect = window.endIndex.flatMap {
            firstIndex(after: $0, before: horizon, kind: .authOK, scope: window.fault.scope, openedAfter: start)
        }
        let attemptsEnd = reconnect.flatMap { recordOfEvent[$0].flatMap { records[$0].acceptedIndex } }
        var report = WindowReport(
            window: window.id,
            fault: window.fault,
            started: window.started,
            ended: window.ended,
            endReason: window.endReason,
            detection: detection(window, during: during),
            attempts: attempts(window, through: attemptsEnd ?? horizon - 1, before: horizon),
            connections: survival(window, during: during),
            reconnectedAfter: reconnect.flatMap { index in window.ended.map { Self.seconds(from: $0, to: events[index].at) } },
            replicationResumedAfter: nil,
            resume: resumeReports(window, horizon: horizon))
        (report.replicationResumedAfter, report.resumedOnConnection) = replicationResumed(window, horizon: horizon)
        let gaps = gapIndices.filter { $0 > start && $0 <= horizon }.map { events[$0].detail ?? "\(events[$0].count ?? 0) events lost" }
        report.journalGaps = gaps.isEmpty ? nil : gaps
        report.serverClosed = serverClosed(window, during: during)
        if window.ended != nil, let end = window.endIndex {
            report.tablesReadAfter = ((end + 1)..<max(end + 1, horizon)).first { Self.isSuccessfulRead(events[$0]) }
                .map { Self.seconds(from: window.ended!, to: events[$0].at) }
        }
        let reads = during.filter { events[$0].kind == .tablesRead && Self.readsSourceTables(events[$0]) }.count
        report.readsDuringFault = reads > 0 ? reads : nil
        report.readRhythm = readRhythm(before: start)
        return report.boundingAttempts(recoveryWithin: recoveryWithin)
    }

    // MARK: - Query-based reads

    /// A `tables_read` that names a table other than the toolkit's bookkeeping.
    static func readsSourceTables(_ event: JournalEvent) -> Bool {
        (event.detail ?? "").split(separator: ",").contains { name in
            !["_toolkit_meta", "_toolkit_heartbeat"].contains(String(name.split(separator: ".").last ?? "").lowercased())
        }
    }

    public static func isSuccessfulRead(_ event: JournalEvent) -> Bool {
        event.kind == .tablesRead && event.code == nil && event.message == nil && readsSourceTables(event)
    }

    /// How far back from a window's start its read rhythm looks: 15 minutes.
    static let readRhythmSpan = 900.0

    /// The median interval between the starts of successful reads in the `readRhythmSpan` before
    /// `index` (reads less than a second after the previous one belong to the same run of the sync).
    private func readRhythm(before index: Int) -> Double? {
        var starts: [Double] = []
        var last: Double?
        let since = index < events.count ? events[index].at - Self.readRhythmSpan : -Double.infinity
        for event in events[0..<index] where Self.isSuccessfulRead(event) && event.at >= since {
            if last.map({ event.at - $0 >= 1 }) ?? true { starts.append(event.at) }
            last = event.at
        }
        guard starts.count >= 2 else { return nil }
        let intervals = zip(starts.dropFirst(), starts).map { $0 - $1 }.sorted()
        return JournalEvent.timestamp(intervals[intervals.count / 2])
    }

    // MARK: - Measurements

    /// Seconds from the restore to the first event of a binlog dump after it: on a connection opened
    /// since the fault began, or on one that stayed open through it (`binlog_resumed`, dated when the
    /// client received the event), whichever came first.
    private func replicationResumed(_ window: FaultWindow, horizon: Int) -> (Double?, SameConnectionResume?) {
        guard let end = window.endIndex, let ended = window.ended else { return (nil, nil) }
        let reconnected = firstIndex(after: end, before: horizon, kind: .binlogFirstEvent, scope: .replication,
                                     openedAfter: window.startIndex)
        let stayed = ((end + 1)..<max(end + 1, horizon)).first { index in
            events[index].kind == .binlogResumed && events[index].window == window.id
        }
        guard let first = [reconnected, stayed].compactMap({ $0 }).min() else { return (nil, nil) }
        let after = Self.seconds(from: ended, to: events[first].at)
        guard first == stayed, let conn = events[first].conn else { return (after, nil) }
        return (after, SameConnectionResume(conn: conn, received: events[first].receipt == nil))
    }

    /// The first failed attempt while the fault lasts. In a timeout nothing fails: the
    /// client notices when it gives up, so only closes by the client and `client_gave_up` count
    /// (a dropped connect is no detection: the client is still waiting).
    /// In a timeout, a frozen gateway cannot see a client close its old connection until the
    /// network is back; a new connection that turns out to be the same replica (same server id)
    /// as one streaming when the fault began shows that the replica gave up on the old one.
    /// A server error is never detection: under a network fault it answers the client's own query
    /// (pg_chameleon's 1305 on a poll), under `service` it is the stopping server's goodbye, and the
    /// client's next connect (or its own close) is its reaction.
    private func detection(_ window: FaultWindow, during: Range<Int>) -> Detection? {
        let isTimeout = window.fault.type == .timeout
        // A stopped server closes the connections itself (`serverClosed`).
        let isService = window.fault.type == .service
        let streamingAtStart = Set(records.filter { record in
            record.isOpen(at: window.startIndex) && (record.firstDumpIndex ?? .max) < window.startIndex
        }.compactMap(\.serverID).filter { $0 != 0 })
        for index in during {
            let event = events[index]
            guard inScope(index, window.fault.scope) else { continue }
            let counts: Bool
            switch event.kind {
            case .connClosed:
                counts = !(isTimeout || isService) || Self.closedByClient(event)
            case .connAccepted:
                counts = isService
                    || isTimeout && recordOfEvent[index].flatMap { records[$0].serverID }.map(streamingAtStart.contains) == true
            case .clientGaveUp:
                counts = isTimeout
            case .connRefused, .connReset, .authFailed:
                counts = !isTimeout
            default:
                counts = false
            }
            if counts {
                var detection = Detection(
                    after: Self.seconds(from: window.started, to: event.at), event: event.kind, conn: event.conn,
                    detail: event.detail, code: event.code, message: event.message)
                if let bound = giveUpBound(index, window: window), bound.earliest < bound.latest {
                    detection.earliest = bound.earliest
                    detection.latest = bound.latest
                    detection.bound = bound.words
                }
                return detection
            }
        }
        return nil
    }

    /// Under a `service` fault, the first time the stopping server closed a client's connection
    /// (`conn_closed` by the server, or an error packet it sent as it went).
    private func serverClosed(_ window: FaultWindow, during: Range<Int>) -> ServerClose? {
        guard window.fault.type == .service else { return nil }
        guard let index = during.first(where: { index in
            guard inScope(index, window.fault.scope) else { return false }
            return events[index].kind == .serverError || events[index].kind == .connClosed && events[index].detail == "server"
        }) else { return nil }
        let event = events[index]
        return ServerClose(after: Self.seconds(from: window.started, to: event.at), conn: event.conn, code: event.code, message: event.message)
    }

    /// When the client of the `client_gave_up` at `index` gave up, in seconds from the window's
    /// start: exactly at a FIN or RST; else after the abandoned attempt's last SYN (`last_seen`;
    /// its first SYN in journals from before it) and at or before the next attempt (the event's time).
    private func giveUpBound(_ index: Int, window: FaultWindow) -> (earliest: Double, latest: Double, words: String?)? {
        let event = events[index]
        guard event.kind == .clientGaveUp else { return nil }
        let latest = Self.seconds(from: window.started, to: event.at)
        guard event.detail?.hasPrefix("new attempt") == true else { return (latest, latest, nil) }
        let firstSYN = (window.startIndex..<index).last { events[$0].kind == .connDropped && events[$0].client == event.client }
            .map { events[$0].at }
        guard let seen = event.lastSeen ?? firstSYN else { return nil }
        let earliest = min(Self.seconds(from: window.started, to: seen), latest)
        let which: String
        if event.lastSeen == nil {
            which = "after its first SYN (this journal does not record its retransmissions)"
        } else if let firstSYN, seen > firstSYN {
            which = "after its last SYN retransmission"
        } else {
            which = "after its SYN, never retransmitted"
        }
        return (earliest, latest, "\(which); its next attempt came at \(WindowReport.seconds(latest))")
    }

    private static func closedByClient(_ event: JournalEvent) -> Bool {
        guard let detail = event.detail else { return false }
        return detail == "client" || detail.hasPrefix("error")
    }

    /// The connects from the window's start through `last`, and after it those less than
    /// `AttemptSeries.groupingGap` after the previous one (the rest of the same attempt), before `limit`.
    private func attempts(_ window: FaultWindow, through last: Int, before limit: Int) -> AttemptSeries {
        var attempts: [ConnectionAttempt] = []
        for index in (window.startIndex + 1)..<max(window.startIndex + 1, limit) {
            let event = events[index]
            if index > last {
                guard let previous = attempts.last,
                      Self.seconds(from: window.started, to: event.at) - previous.after < AttemptSeries.groupingGap else { break }
            }
            switch event.kind {
            case .connAccepted where inScope(index, window.fault.scope):
                attempts.append(ConnectionAttempt(
                    after: Self.seconds(from: window.started, to: event.at), kind: .accepted, conn: event.conn,
                    client: event.client, outcome: recordOfEvent[index].map { records[$0].outcome() }))
            case .connRefused, .connDropped:
                var attempt = ConnectionAttempt(
                    after: Self.seconds(from: window.started, to: event.at),
                    kind: event.kind == .connRefused ? .refused : .dropped, count: max(event.count ?? 1, 1),
                    client: event.client)
                if event.kind == .connDropped {
                    let given = gaveUp(event, within: window)
                    attempt.outcome = given == nil ? .dropped : .gaveUp
                    if let given, let bound = giveUpBound(given, window: window) {
                        attempt.gaveUpEarliest = bound.earliest
                        attempt.gaveUpLatest = bound.latest
                    }
                }
                attempts.append(attempt)
            default:
                continue
            }
        }
        let unobserved = events[(window.startIndex + 1)..<(window.endIndex ?? events.count)].contains {
            $0.kind == .note && $0.window == window.id && $0.detail == AttemptSeries.unobservedNote
        }
        return AttemptSeries(attempts: attempts, unobserved: unobserved ? "the agent cannot log packets (needs root or CAP_NET_ADMIN)" : nil,
                             agentDown: agentDown(window, before: limit))
    }

    /// Times in the window no agent observed: each restart, from the last event its predecessor
    /// journaled (it died some time after that) to the restart.
    private func agentDown(_ window: FaultWindow, before limit: Int) -> [AgentDownSpan] {
        ((window.startIndex + 1)..<max(window.startIndex + 1, limit)).compactMap { index in
            guard events[index].kind == .agentRestarted else { return nil }
            return AgentDownSpan(from: Self.seconds(from: window.started, to: events[index - 1].at),
                                 to: Self.seconds(from: window.started, to: events[index].at), detail: events[index].detail)
        }
    }

    /// The index of the `client_gave_up` of a dropped attempt, if the journal has one before the window's horizon.
    private func gaveUp(_ attempt: JournalEvent, within window: FaultWindow) -> Int? {
        let horizon = horizonIndex(after: window)
        return ((window.startIndex + 1)..<horizon).first { index in
            events[index].kind == .clientGaveUp && events[index].client == attempt.client && events[index].window == attempt.window
        }
    }

    /// Connections open at the start, and those the client lost while the fault lasted —
    /// closed, reset (by the gateway or by the kernel), or given up — with when and how.
    private func survival(_ window: FaultWindow, during: Range<Int>) -> ConnectionSurvival {
        let open = records.filter { $0.isOpen(at: window.startIndex) && $0.inScope(window.fault.scope) }
        let lost = open.compactMap { record -> LostConnection? in
            guard let closed = record.closedIndex, during.contains(closed) else { return nil }
            let event = events[closed]
            return LostConnection(
                conn: record.conn, client: record.client, replication: record.isReplication,
                after: Self.seconds(from: window.started, to: event.at),
                how: event.kind.rawValue + (event.detail.map { ": \($0)" } ?? ""))
        }
        return ConnectionSurvival(openAtStart: open.count, survived: open.count - lost.count, lost: lost)
    }

    /// First event of `kind` on a connection accepted after `restore`, before `horizon`.
    /// The first `kind` event after the restore on a connection opened since the fault began: a
    /// connect attempt the fault held (timeout) that goes through after the restore is a reconnect too.
    private func firstIndex(after restore: Int, before horizon: Int, kind: JournalEventKind, scope: FaultScope,
                            openedAfter start: Int) -> Int? {
        guard restore + 1 < horizon else { return nil }
        return ((restore + 1)..<horizon).first { index in
            guard events[index].kind == kind, let record = recordOfEvent[index] else { return false }
            return records[record].isAccepted(after: start) && records[record].inScope(scope)
        }
    }

    private func resumeReports(_ window: FaultWindow, horizon: Int) -> [ResumeReport] {
        let start = window.startIndex
        var clients: [String] = []
        for (index, record) in records.enumerated()
        where record.isOpen(at: start) && (record.firstDumpIndex ?? .max) < start {
            if !clients.contains(recordKeys[index]) { clients.append(recordKeys[index]) }
        }
        for index in (start + 1)..<max(start + 1, horizon) where events[index].kind == .binlogDump {
            if let record = recordOfEvent[index], !clients.contains(recordKeys[record]) {
                clients.append(recordKeys[record])
            }
        }
        return clients.map { resumeReport(client: $0, window: window, horizon: horizon) }
    }

    private func resumeReport(client: String, window: FaultWindow, horizon: Int) -> ResumeReport {
        let start = window.startIndex
        let request = ((start + 1)..<max(start + 1, horizon)).first { index in
            events[index].kind == .binlogDump && key(of: index) == client
        }
        let lastIndex = (0..<(request ?? horizon)).last { index in
            switch events[index].kind {
            case .connClosed, .binlogProgress, .binlogFirstEvent, .binlogDump:
                return key(of: index) == client && ResumePoint(events[index]) != nil
            default:
                return false
            }
        }
        let lastForwarded = lastIndex.flatMap { ResumePoint(events[$0]) }
        // Judged against what the client's TCP acknowledged, not what was written into its socket.
        let lastReceived = lastIndex.flatMap { events[$0].receivedPoint }
        let requested = request.flatMap { ResumePoint(events[$0]) }
        let serverID = records.indices.first { recordKeys[$0] == client }.flatMap { records[$0].serverID }
        let verdict: (verdict: ResumeVerdict, note: String?)
        if let requested, let lastReceived, let lastForwarded {
            verdict = requested.verdict(after: lastReceived, written: lastForwarded)
        } else if request == nil {
            let connected = records.indices.contains { recordKeys[$0] == client && records[$0].isOpen(at: horizon - 1) }
            // The same stream went on after the restore: nothing was asked again, TCP kept the order.
            let wentOn = connected && ((window.endIndex ?? horizon)..<horizon).contains { index in
                events[index].kind == .binlogResumed && events[index].window == window.id && key(of: index) == client
            }
            verdict = wentOn ? (.maintained, "the replication connection stayed open and its stream went on after the restore: nothing was asked again")
                : (.unknown, connected ? "no new binlog dump: the replication connection stayed open" : "no binlog dump after the fault started")
        } else if requested == nil {
            verdict = (.unknown, "the binlog dump carried no position")
        } else {
            verdict = (.unknown, "no position was forwarded to this client before the fault")
        }
        var report = ResumeReport(
            client: client, serverID: serverID, lastForwarded: lastForwarded, requested: requested,
            requestedAfter: request.map { Self.seconds(from: window.started, to: events[$0].at) },
            verdict: verdict.verdict, note: verdict.note)
        if lastReceived != lastForwarded { report.lastReceived = lastReceived }
        report.receipt = lastIndex.flatMap { events[$0].receipt }
        if let request, let reread = rereadEvent(after: request),
           let file = events[reread].file, let position = events[reread].position {
            let tables = (events[reread].detail ?? "").split(separator: ", ").map(String.init)
            report = report.counting(rowEvents: events[reread].count ?? 0, tables: tables,
                                     upTo: BinlogFilePosition(file: file, position: position))
        }
        let lostMidStream = records.indices.contains { index in
            recordKeys[index] == client && records[index].isReplication
                && (records[index].resetIndex.map { $0 > start && $0 < (request ?? horizon) } ?? false)
        }
        if lostMidStream && report.verdict != .skipped { report.caveat = ResumeReport.resetCaveat }
        // The agent's own verdict on this dump counted, in the source's binlog, what a skip never sent.
        if let request, let conn = events[request].conn, report.skippedTransaction != nil,
           let judged = ((request + 1)..<max(request + 1, horizon)).lazy.compactMap({ index -> ResumeReport? in
               self.events[index].kind == .binlogResume && self.events[index].conn == conn ? self.events[index].resume : nil
           }).first, judged.verdict == .skipped, judged.skippedRowEvents != nil {
            report.skippedRowEvents = judged.skippedRowEvents
            report.skippedTables = judged.skippedTables
            report.note = judged.note
        }
        return report
    }

    /// The `binlog_reread` journaled on the connection of the binlog dump at `request`.
    private func rereadEvent(after request: Int) -> Int? {
        guard let conn = events[request].conn else { return nil }
        return ((request + 1)..<events.endIndex).first { index in
            events[index].kind == .binlogReread && events[index].conn == conn
        }
    }

    // MARK: - Carrying context past a cut

    /// The events before `cut` that the reports of windows starting at or after it still read:
    /// the defining events (accept, handshake, first login result, dumps, first close) of every
    /// connection not closed before `cut`, and, per replication client, the last event that carried
    /// a binlog position, with its connection's defining events. In timeline order.
    /// `JournalTimeline(carried + events from cut on)` measures those windows as the whole journal does.
    func carriedEvents(before cut: Int) -> [JournalEvent] {
        var needed = Set<Int>()
        var keep = Set<Int>()
        var lastPosition: [String: Int] = [:]
        for index in 0..<cut {
            switch events[index].kind {
            case .connClosed, .binlogProgress, .binlogFirstEvent, .binlogDump:
                if let key = key(of: index), ResumePoint(events[index]) != nil { lastPosition[key] = index }
            default:
                continue
            }
        }
        for index in lastPosition.values {
            keep.insert(index)
            if let record = recordOfEvent[index] { needed.insert(record) }
        }
        for (index, record) in records.enumerated() where record.openedIndex < cut && (record.closedIndex ?? .max) >= cut {
            needed.insert(index)
        }
        var firstOfKind = Set<String>()
        for index in 0..<cut {
            guard let record = recordOfEvent[index], needed.contains(record) else { continue }
            let event = events[index]
            switch event.kind {
            case .connAccepted, .binlogDump:
                keep.insert(index)
            case .authOK, .authFailed, .connReset, .connClosed, .clientGaveUp:
                if firstOfKind.insert("\(record) \(event.kind.rawValue)").inserted { keep.insert(index) }
            default:
                if event.user != nil { keep.insert(index) }
            }
        }
        // A later window's read rhythm looks back `readRhythmSpan` from its start (at or after the
        // cut): those reads are carried for their times only, off their connections (which may be closed).
        var reads: Set<Int> = []
        if cut > 0, cut <= events.count {
            let since = events[cut - 1].at - Self.readRhythmSpan
            for index in (0..<cut).reversed() {
                guard events[index].at >= since else { break }
                if Self.isSuccessfulRead(events[index]), !keep.contains(index) { reads.insert(index) }
            }
        }
        return keep.union(reads).sorted().map { index in
            guard reads.contains(index) else { return events[index] }
            var read = events[index]
            read.conn = nil
            read.client = nil
            return read
        }
    }

    // MARK: - Indexing

    /// Seconds between two journal times, rounded to the journal's microsecond.
    static func seconds(from start: Double, to end: Double) -> Double {
        JournalEvent.timestamp(end - start)
    }

    private func key(of index: Int) -> String? {
        recordOfEvent[index].map { recordKeys[$0] }
    }

    private func inScope(_ index: Int, _ scope: FaultScope) -> Bool {
        recordOfEvent[index].map { records[$0].inScope(scope) } ?? true
    }

    /// Index of the next connection fault's `fault_started`, or of the first `gap` after the
    /// window's end (after its start while it has none), or the journal's end: what comes after a
    /// gap may belong to a window whose start was lost in it.
    func horizonIndex(after window: FaultWindow) -> Int {
        let next = windows
            .filter { $0.startIndex > window.startIndex && $0.fault.type.isConnectionFault }
            .map(\.startIndex)
            .min() ?? events.count
        return min(next, firstGap(after: window.endIndex ?? window.startIndex) ?? events.count)
    }

    /// The first `gap` event after `index`.
    private func firstGap(after index: Int) -> Int? {
        gapIndices.first { $0 > index }
    }

    private static func faultWindows(_ events: [JournalEvent]) -> [FaultWindow] {
        var windows: [FaultWindow] = []
        var position: [Int: Int] = [:]
        for (index, event) in events.enumerated() {
            guard let id = event.window else { continue }
            switch event.kind {
            case .faultStarted:
                guard let fault = event.fault, position[id] == nil else { continue }
                position[id] = windows.count
                windows.append(FaultWindow(
                    id: id, fault: fault, started: event.at, ended: nil, endReason: nil,
                    startIndex: index, endIndex: nil))
            case .faultEnded:
                guard let slot = position[id], windows[slot].endIndex == nil else { continue }
                windows[slot].ended = event.at
                windows[slot].endIndex = index
                windows[slot].endReason = event.detail.flatMap(ClearReason.init(rawValue:))
            default:
                continue
            }
        }
        return windows
    }

    private static func connectionRecords(_ events: [JournalEvent]) -> ([ConnectionRecord], [Int?]) {
        var records: [ConnectionRecord] = []
        var recordOfEvent: [Int?] = []
        var current: [UInt64: Int] = [:]
        for (index, event) in events.enumerated() {
            guard let conn = event.conn else {
                recordOfEvent.append(nil)
                continue
            }
            let slot: Int
            if event.kind == .connAccepted || current[conn] == nil {
                slot = records.count
                records.append(ConnectionRecord(conn: conn, acceptedIndex: event.kind == .connAccepted ? index : nil))
                current[conn] = slot
            } else {
                slot = current[conn]!
            }
            recordOfEvent.append(slot)
            var record = records[slot]
            record.client = event.client ?? record.client
            record.user = event.user ?? record.user
            switch event.kind {
            case .authOK: record.authOKIndex = record.authOKIndex ?? index
            case .authFailed: record.authFailedIndex = record.authFailedIndex ?? index
            case .connReset:
                record.resetIndex = record.resetIndex ?? index
                record.closedIndex = record.closedIndex ?? index
            case .connClosed, .clientGaveUp: record.closedIndex = record.closedIndex ?? index
            case .binlogDump:
                record.firstDumpIndex = record.firstDumpIndex ?? index
                record.serverID = event.serverID ?? record.serverID
            default: break
            }
            records[slot] = record
        }
        return (records, recordOfEvent)
    }
}
