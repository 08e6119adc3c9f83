import Foundation
import Measurements
import NIOCore
import Logging
import Synchronization
import Gateway
import MySQLProtocol
import MariaDB
import Source

/// Follows the MySQL protocol of one gateway connection and writes what matters to the journal:
/// who logged in, what a binlog reader asked for, the first event it got, its progress, and how
/// the connection ended. Called on the connection's event loop only.
final class ProtocolTap: ConnectionTap {
    private var observer = MySQLConnectionObserver()
    private let journal: Journal
    private let conn: UInt64
    private let client: String
    private var user: String?
    /// The database the login named: what an unqualified table name in a SELECT means.
    private var database: String?
    /// The tables of the SELECT waiting for its answer.
    private var pendingRead: [String]?
    /// When each set of tables was last journaled as read on this connection (epoch seconds).
    private var lastReadJournaled: [String: Double] = [:]
    /// A binlog status query waiting for its answer, and when one was last journaled (epoch seconds).
    private var pendingBinlogStatus = false
    private var lastBinlogStatusJournaled: Double = 0
    private var slaveConnectState: String?
    private var dumpServerID: UInt32?
    private var sawFirstEvent = false
    private var lastProgressAt: Double = 0
    private var lastProgressPosition: UInt64?
    private var chunksSinceProgressCheck = 0
    /// Where each replication client stands, across its connections.
    private let positions: ForwardedPositions
    /// This connection's replication client, once it asked for a binlog dump.
    private var clientKey: String?
    /// `schema.table` of each table id the stream mapped.
    private var tables: [UInt64: String] = [:]
    /// What this connection re-sends of what the client's previous connection was sent.
    private var reread: RereadCount?
    /// The binlog file the stream is in, from the last rotate event.
    private var streamFile: String?
    /// What the client's TCP acknowledged; nil until the client socket is connected.
    private var delivery: ClientDelivery?
    /// Bytes tapped towards the client so far.
    private var sentBytes: UInt64 = 0
    /// Where each forwarded event ends in those bytes, until the client acknowledged it.
    private var ledger = DeliveryLedger<BinlogCoordinates>()
    /// Where the client asked to start: what it stands at before it received any event.
    private var requested: ResumePoint?
    /// The tables (`schema.table`) of the row events of the transaction being streamed.
    private var openTransactionTables: [String] = []
    /// This connection's resume verdict, waiting for the re-read to be counted; and the window
    /// whose report judges it.
    private var pendingResume: (report: ResumeReport, window: Int?)?
    /// Fault windows opened while this connection streamed and not yet closed.
    private var windowsWhileStreaming: Set<Int> = []
    /// A window closed on this streaming connection: its first event received after it is journaled.
    private var awaitingResume: Int?
    private let live: LiveTaps

    /// Reads what the source's binlog holds of a transaction a client skipped the rest of.
    private let counter: TransactionCounter?

    init(journal: Journal, conn: UInt64, client: String, positions: ForwardedPositions, live: LiveTaps,
         counter: TransactionCounter? = nil) {
        self.counter = counter
        self.journal = journal
        self.conn = conn
        self.client = client
        self.positions = positions
        self.live = live
    }

    func delivering(to delivery: ClientDelivery) {
        self.delivery = delivery
        live.add(self, conn: conn, on: delivery.eventLoop)
    }

    var isReplication: Bool { observer.isReplication }

    /// The gateway decrypts this connection: the login and everything after it are observed.
    func tlsTerminated() {
        observer.sessionIsDecrypted = true
        record(.note) { $0.detail = "tls terminated by the gateway" }
    }

    func clientToServer(_ bytes: UnsafeRawBufferPointer) {
        guard observer.observable else { return }
        for observation in observer.clientToServer(bytes) { handle(observation) }
    }

    func serverToClient(_ bytes: UnsafeRawBufferPointer) {
        let start = sentBytes
        sentBytes += UInt64(bytes.count)
        guard observer.observable else { return }
        let observations = observer.serverToClient(bytes)
        for (end, coordinates) in observer.forwardedInChunk {
            ledger.wrote(endingAt: start + UInt64(end), position: coordinates)
        }
        for observation in observations { handle(observation) }
        if awaitingResume != nil, !observer.forwardedInChunk.isEmpty { watchForResume() }
        if sawFirstEvent {
            chunksSinceProgressCheck += 1
            if chunksSinceProgressCheck >= 16 {
                chunksSinceProgressCheck = 0
                recordProgress(force: false)
            }
        }
    }

    /// A successful read, journaled at most once a second per set of tables: a sync that issues a
    /// query per row (10,000 point selects) does not flood the journal.
    private func readSucceeded(_ tables: [String]) {
        let key = tables.joined(separator: ",")
        let now = Date().timeIntervalSince1970
        if let last = lastReadJournaled[key], now - last < 1 { return }
        lastReadJournaled[key] = now
        record(.tablesRead) { $0.detail = key }
    }

    func closed(by cause: CloseCause, at: Date) {
        live.remove(conn: conn)
        if let tables = pendingRead {
            pendingRead = nil
            record(.tablesRead) { event in
                event.detail = tables.joined(separator: ",")
                event.message = "no answer: the connection closed"
            }
        }
        finishReread()
        // A kernel reset was journaled at the time of the client's packet (FaultController).
        // Both dated when the close came: a graceful one may have waited for the client's acknowledgement since.
        let closedAt = JournalEvent.timestamp(at)
        if case .fault(let kind) = cause, kind != .kernelReset {
            record(.connReset) { event in
                event.at = min(event.at, closedAt)
                event.detail = kind.rawValue
            }
        }
        let detail: String
        switch cause {
        case .client: detail = "client"
        case .server: detail = "server"
        case .fault: detail = "fault"
        case .error(let message): detail = "error: \(message)"
        }
        let receipt = self.receipt()
        if let written = observer.lastForwarded, let received = receipt.received?.filePosition, let key = clientKey,
           !written.file.isEmpty {
            // A next connection of this client re-reads from what this one received, not from what it was written.
            positions.replace(BinlogFilePosition(file: written.file, position: written.position), with: received, of: key)
        }
        record(.connClosed) { event in
            event.at = min(event.at, closedAt)
            event.detail = detail
            self.fillPosition(&event, receipt)
        }
        noteStand(receipt)
    }

    // MARK: - Fault windows

    /// A fault window opened: where this dump connection's client stands, written and received.
    func faultWindowOpened(_ window: Int) {
        guard observer.isReplication, observer.lastForwarded != nil || requested != nil else { return }
        windowsWhileStreaming.insert(window)
        recordPosition(.binlogProgress, window: window)
    }

    /// A fault window closed. If this connection streamed when it opened, it stayed open through
    /// it: the first event its client receives from now on is replication resuming on it.
    func faultWindowClosed(_ window: Int) {
        guard windowsWhileStreaming.remove(window) != nil else { return }
        recordPosition(.binlogProgress, window: window)
        awaitingResume = window
        watchForResume()
    }

    /// Journals `binlog_resumed` for the first event written but not yet received (one held in
    /// the socket through the fault counts), once the client's TCP acknowledges it; when that
    /// cannot be known, at the first event written after the restore.
    private func watchForResume() {
        guard let window = awaitingResume, let delivery else { return }
        let acknowledged = delivery.acknowledged()
        guard case .bytes(let bytes) = acknowledged else {
            // Not known when it is received: dated by the first event written from now on.
            guard case .unknown(let reason) = acknowledged, !observer.forwardedInChunk.isEmpty,
                  let written = observer.forwardedInChunk.first?.coordinates else { return }
            awaitingResume = nil
            record(.binlogResumed) { event in
                event.window = window
                self.fill(&event, written)
                event.receipt = "written, not known to be received: \(reason)"
            }
            return
        }
        _ = ledger.received(acknowledged: bytes)
        guard let next = ledger.firstUnreceived else { return }
        awaitingResume = nil
        delivery.whenAcknowledged(next.end) { [self] answer in
            record(.binlogResumed) { event in
                event.window = window
                self.fill(&event, next.position)
                if case .unknown(let reason) = answer {
                    event.receipt = "written, not known to be received: \(reason)"
                }
            }
        }
    }

    private func handle(_ observation: ProtocolObservation) {
        switch observation {
        case .serverGreeting:
            break
        case .handshake(let user, let database):
            self.user = user
            self.database = database
            record(.handshake)
        case .authSucceeded:
            record(.authOK)
        case .authFailed(let code, let message):
            record(.authFailed) { $0.code = Int(code); $0.message = message }
        case .unobservable(let reason):
            record(.note) { $0.detail = "connection not observable: \(reason)" }
        case .query(let text):
            let selected = SelectedTables.parse(text)
            pendingRead = selected.flatMap { names in
                names.isEmpty ? nil : names.map { $0.utf8.contains(UInt8(ascii: ".")) || database == nil ? $0 : "\(database!).\($0)" }
            }
            // Not a SELECT: perhaps a binlog reader asking where its stream will start.
            pendingBinlogStatus = selected == nil && BinlogStatusQuery.matches(text)
        case .queryAnswered(let ok):
            if pendingBinlogStatus {
                pendingBinlogStatus = false
                let now = Date().timeIntervalSince1970
                if ok, now - lastBinlogStatusJournaled >= 1 {
                    lastBinlogStatusJournaled = now
                    record(.binlogStatus)
                }
            }
            guard let tables = pendingRead else { return }
            pendingRead = nil
            if ok { readSucceeded(tables) } // a failure is journaled with its error, below
        
        case .slaveConnectState(let state):
            slaveConnectState = state
        case .binlogDump(let file, let position, let serverID):
            dumpServerID = serverID
            startCountingReread(file: file, position: position)
            // A MariaDB replica in GTID mode asks from file "" and says where in @slave_connect_state.
            let gtid = file.isEmpty ? slaveConnectState : nil
            requested = ResumePoint(file: file, position: position, gtid: gtid)
            record(.binlogDump) { event in
                event.file = file
                event.position = position
                event.serverID = serverID
                event.gtid = gtid
            }
            judgeResume()
        case .binlogDumpGTID(let file, let position, let serverID, let gtidSet):
            dumpServerID = serverID
            startCountingReread(file: file, position: position)
            requested = ResumePoint(file: file, position: position, gtid: gtidSet)
            record(.binlogDump) { event in
                event.file = file
                event.position = position
                event.serverID = serverID
                event.gtid = gtidSet
            }
            judgeResume()
        case .registerSlave:
            break
        case .binlogEvent(let summary):
            if let map = summary.tableMap { tables[map.tableID] = map.qualifiedName }
            if let rotation = summary.rotate { streamFile = rotation.file }
            guard !summary.isArtificial, !summary.isHeartbeat, summary.logPos > 0 else { return }
            forwarded(summary)
            if !sawFirstEvent {
                sawFirstEvent = true
                recordPosition(.binlogFirstEvent)
                lastProgressAt = JournalEvent.timestamp(Date())
                lastProgressPosition = observer.lastForwarded?.position
            }
        case .serverError(let code, let message):
            record(.serverError) { $0.code = Int(code); $0.message = message }
            if let tables = pendingRead {
                record(.tablesRead) { event in
                    event.detail = tables.joined(separator: ",")
                    event.code = Int(code)
                    event.message = message
                }
            }
        }
    }

    // MARK: - Re-reads

    /// A resuming client that asks for an earlier position than the last one its previous
    /// connection was sent re-reads what lies between; count it. A GTID request names no
    /// file position: count from wherever the server starts, which may be nothing.
    private func startCountingReread(file: String, position: UInt64) {
        let key = ReplicationClientKey.of(serverID: dumpServerID, user: user, client: client)
        clientKey = key
        guard let last = positions.last(of: key) else { return }
        if !file.isEmpty, BinlogFilePosition(file: file, position: position).compare(to: last) != .behind { return }
        reread = RereadCount(upTo: last)
    }

    /// Observations come a chunk at a time and the observer's `lastForwarded` is where the whole
    /// chunk ends: an event's own position is its file (from the last rotate) and its `log_pos`.
    private func forwarded(_ summary: BinlogEventSummary) {
        if summary.gtid != nil { openTransactionTables.removeAll() }
        if summary.isRowEvent, let id = summary.rowsTableID {
            let table = tables[id] ?? "table id \(id)"
            if !openTransactionTables.contains(table) { openTransactionTables.append(table) }
        }
        guard let key = clientKey, let file = streamFile else { return }
        let position = BinlogFilePosition(file: file, position: UInt64(summary.logPos))
        if var count = reread {
            let table = summary.isRowEvent ? summary.rowsTableID.map { tables[$0] ?? "table id \($0)" } : nil
            let completed = count.forwarded(endingAt: position, rowsOf: table)
            reread = count
            if completed { finishReread() }
        }
        positions.record(position, of: key)
    }

    /// Journals what was re-sent (if anything) once the stream went past the old position, or
    /// when the connection closes before that.
    private func finishReread() {
        guard let count = reread else { return }
        reread = nil
        if count.events > 0 {
            record(.binlogReread) { event in
                event.file = count.upTo.file
                event.position = count.upTo.position
                event.count = count.rowEvents
                event.detail = count.tables.joined(separator: ", ")
            }
        }
        guard var pending = pendingResume else { return }
        pendingResume = nil
        if count.events > 0 {
            pending.report = pending.report.counting(rowEvents: count.rowEvents, tables: count.tables, upTo: count.upTo)
        }
        journalResume(pending.report, window: pending.window)
    }

    // MARK: - Resume verdicts

    /// Judges this binlog dump against what the client's previous connections were sent and
    /// received, as a fault window's report does, and journals the verdict (once the re-read is
    /// counted): every reconnect is judged, also between faults.
    private func judgeResume() {
        guard let key = clientKey, let requested, let stand = positions.stand(of: key) else { return }
        let verdict = requested.verdict(after: stand.received, written: stand.written)
        var report = ResumeReport(client: key, serverID: dumpServerID, lastForwarded: stand.written, requested: requested,
                                  requestedAfter: nil, verdict: verdict.verdict, note: verdict.note)
        if stand.received != stand.written { report.lastReceived = stand.received }
        report.receipt = stand.receipt
        report.conn = conn
        report.requestedAt = JournalEvent.timestamp(Date())
        let window = live.claimWindow(for: key)
        if let transaction = report.skippedTransaction, let counter {
            // How much of it the client never got is in the source's binlog: read off the event loop.
            let journal = self.journal, stamp = self.stamp, report = report
            DispatchQueue.global().async {
                let counted: ResumeReport
                do {
                    let events = try counter(transaction)
                    counted = report.countingSkippedRest(total: events.rowEvents, tables: events.tables, complete: events.complete)
                } catch {
                    counted = report.skippedRestNotCounted("\(error)")
                }
                journal.record(.binlogResume) { event in
                    stamp.apply(to: &event)
                    event.window = window
                    event.resume = counted
                }
            }
            return
        }
        // What a re-read sends again is counted once the stream passes the old position; a skip is known now.
        if reread != nil, verdict.verdict == .reread || verdict.verdict == .maintained {
            pendingResume = (report, window)
        } else {
            journalResume(report, window: window)
        }
    }

    private func journalResume(_ report: ResumeReport, window: Int?) {
        record(.binlogResume) { event in
            event.window = window
            event.resume = report
        }
    }

    /// Keeps where this connection's client stands, written and received, for its next connection's verdict.
    private func noteStand(_ receipt: (received: ResumePoint?, receipt: String?)) {
        guard let key = clientKey, let last = observer.lastForwarded else { return }
        let written = point(last)
        positions.keep(ClientStand(written: written, received: receipt.received ?? written, receipt: receipt.receipt), of: key)
    }

    /// A `binlog_progress` sample at most once a second, when the position moved.
    private func recordProgress(force: Bool) {
        let now = JournalEvent.timestamp(Date())
        guard force || now - lastProgressAt >= 1, let position = observer.lastForwarded?.position,
              position != lastProgressPosition else { return }
        lastProgressAt = now
        lastProgressPosition = position
        recordPosition(.binlogProgress)
    }

    private func recordPosition(_ kind: JournalEventKind, window: Int? = nil) {
        let receipt = self.receipt()
        record(kind) { event in
            event.window = window
            self.fillPosition(&event, receipt)
        }
        noteStand(receipt)
    }

    /// What the client received of what was written to it: `received` when behind the last
    /// position written, `receipt` when that cannot be known. Reads the socket once.
    private func receipt() -> (received: ResumePoint?, receipt: String?) {
        guard let written = observer.lastForwarded else { return (nil, nil) }
        guard let delivery else { return (nil, "written, not known to be received: the client socket was never connected") }
        switch delivery.acknowledged() {
        case .unknown(let reason):
            return (nil, "written, not known to be received: \(reason)")
        case .bytes(let bytes):
            switch ledger.received(acknowledged: bytes) {
            case .position(let position):
                return (position == written ? nil : point(position), nil)
            case .nothing:
                return (requested ?? ResumePoint(), nil)
            case .unknown:
                return (nil, "written, not known to be received: more events were unacknowledged than the gateway keeps track of")
            }
        }
    }

    /// The last position written on this connection, and what of it was received.
    private func fillPosition(_ event: inout JournalEvent, _ receipt: (received: ResumePoint?, receipt: String?)) {
        guard let last = observer.lastForwarded else { return }
        fill(&event, last)
        event.received = receipt.received
        event.receipt = receipt.receipt
    }

    private func fill(_ event: inout JournalEvent, _ coordinates: BinlogCoordinates) {
        let point = point(coordinates)
        event.file = point.file
        event.position = point.position
        event.gtid = point.gtid
        event.transaction = point.transaction
    }

    /// Where a client standing at `coordinates` is: its GTID state is the last transaction sent
    /// whole, or what it asked for before any was; a transaction sent in part is named.
    private func point(_ coordinates: BinlogCoordinates) -> ResumePoint {
        let transaction = coordinates.openTransaction.map {
            PartialTransaction(gtid: $0.gtid, file: $0.file, start: $0.start, rowEvents: $0.rowEvents,
                               tables: openTransactionTables)
        }
        return ResumePoint(file: coordinates.file, position: coordinates.position,
                           gtid: coordinates.gtid ?? requested?.gtid, transaction: transaction)
    }

    private func record(_ kind: JournalEventKind, _ fill: (inout JournalEvent) -> Void = { _ in }) {
        let stamp = self.stamp
        journal.record(kind) { event in
            stamp.apply(to: &event)
            fill(&event)
        }
    }

    /// What every event of this connection carries, as it stands now.
    private var stamp: ConnectionStamp {
        ConnectionStamp(conn: conn, client: client, user: user, serverID: dumpServerID)
    }
}

/// The connection an event belongs to, taken along where an event is journaled off the event loop.
private struct ConnectionStamp: Sendable {
    let conn: UInt64
    let client: String
    let user: String?
    let serverID: UInt32?

    func apply(to event: inout JournalEvent) {
        event.conn = conn
        event.client = client
        event.user = user
        event.serverID = serverID
    }
}

/// Hands every accepted connection a `ProtocolTap` and journals the acceptance.
struct JournalingObserver: GatewayObserver {
    let journal: Journal
    let positions = ForwardedPositions()
    /// The taps of the connections open now, told when fault windows open and close.
    let live = LiveTaps()
    /// Reads a skipped transaction's rest from the source's binlog; nil: not counted.
    var counter: TransactionCounter?
    let log = AgentLog.logger("agent.gateway")

    func accepted(connectionID: UInt64, client: String) -> (any ConnectionTap)? {
        journal.record(.connAccepted) { $0.conn = connectionID; $0.client = client }
        return ProtocolTap(journal: journal, conn: connectionID, client: client, positions: positions, live: live, counter: counter)
    }

    func upstreamFailed(connectionID: UInt64, error: String) {
        journal.record(.note) { $0.conn = connectionID; $0.detail = "upstream connect failed: \(error)" }
        log.warning("upstream connect failed", metadata: ["conn": "\(connectionID)", "error": "\(error)"])
    }
}

/// Reads the source's binlog for one transaction (blocking: called off the event loop).
typealias TransactionCounter = @Sendable (PartialTransaction) throws -> TransactionEvents

extension TransactionEvents {
    /// A counter that asks the source as its admin, each wait bounded.
    static func counter(_ options: ConnectionOptions) -> TransactionCounter {
        { transaction in
            var options = options
            options.readTimeoutSeconds = 10
            let connection = try MariaDBConnection(options)
            defer { connection.close() }
            return try read(file: transaction.file, start: transaction.start, on: connection)
        }
    }
}

/// The last binlog position forwarded to each replication client (by `ReplicationClientKey`),
/// across its connections, so that a new connection knows what its client was already sent.
final class ForwardedPositions: Sendable {
    private let positions = Mutex<[String: BinlogFilePosition]>([:])

    func last(of client: String) -> BinlogFilePosition? {
        positions.withLock { $0[client] }
    }

    func record(_ position: BinlogFilePosition, of client: String) {
        positions.withLock { $0[client] = position }
    }

    /// Sets `client`'s position back to `received` unless another connection moved it from `written` since.
    func replace(_ written: BinlogFilePosition, with received: BinlogFilePosition, of client: String) {
        positions.withLock { if $0[client] == written { $0[client] = received } }
    }

    private let stands = Mutex<[String: ClientStand]>([:])

    /// Where `client` stood when one of its connections last sampled it (a fault window, a progress
    /// sample, its close): what a resume is judged against, as a window's report judges it.
    func stand(of client: String) -> ClientStand? {
        stands.withLock { $0[client] }
    }

    func keep(_ stand: ClientStand, of client: String) {
        stands.withLock { $0[client] = stand }
    }
}

/// The last position written to a replication client, and of it what it received.
struct ClientStand: Sendable {
    var written: ResumePoint
    var received: ResumePoint
    var receipt: String?
}

/// The taps of the gateway's open connections, each on its event loop, so that the agent can
/// tell them that a fault window opened or closed.
final class LiveTaps: Sendable {
    private struct Entry: Sendable {
        let eventLoop: any EventLoop
        let tap: NIOLoopBound<ProtocolTap>
    }

    private let taps = Mutex<[UInt64: Entry]>([:])
    /// The last connection fault window opened, and the clients that sent a binlog dump since.
    private let claims = Mutex<(window: Int?, clients: Set<String>)>((nil, []))

    /// The window whose report judges `client`'s binlog dump now: the last one opened, if this
    /// is the client's first dump since. Nil for a dump between faults.
    func claimWindow(for client: String) -> Int? {
        claims.withLock { claims in
            guard let window = claims.window, claims.clients.insert(client).inserted else { return nil }
            return window
        }
    }

    func add(_ tap: ProtocolTap, conn: UInt64, on eventLoop: any EventLoop) {
        let entry = Entry(eventLoop: eventLoop, tap: NIOLoopBound(tap, eventLoop: eventLoop))
        taps.withLock { $0[conn] = entry }
    }

    func remove(conn: UInt64) {
        _ = taps.withLock { $0.removeValue(forKey: conn) }
    }

    /// Each open tap samples where its client stands; waits until all have journaled it.
    func windowOpened(_ window: Int) async {
        claims.withLock { $0 = (window, []) }
        await each { $0.faultWindowOpened(window) }
    }

    func windowClosed(_ window: Int) async {
        await each { $0.faultWindowClosed(window) }
    }

    private func each(_ body: @escaping @Sendable (ProtocolTap) -> Void) async {
        let entries = taps.withLock { Array($0.values) }
        for entry in entries {
            try? await entry.eventLoop.submit { body(entry.tap.value) }.get()
        }
    }
}
