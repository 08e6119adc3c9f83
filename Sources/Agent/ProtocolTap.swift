import Foundation
import Measurements
import Logging
import Synchronization
import Gateway
import MySQLProtocol

/// Follows the MySQL protocol of one gateway connection and writes what matters to the journal:
/// who logged in, what a binlog reader asked for, the first event it got, its progress, and how
/// the connection ended. Called on the connection's event loop only.
final class ProtocolTap: ConnectionTap {
    private var observer = MySQLConnectionObserver()
    private let journal: Journal
    private let conn: UInt64
    private let client: String
    private var user: String?
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

    init(journal: Journal, conn: UInt64, client: String, positions: ForwardedPositions) {
        observer.reportsQueryText = false
        self.journal = journal
        self.conn = conn
        self.client = client
        self.positions = positions
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
        guard observer.observable else { return }
        for observation in observer.serverToClient(bytes) { handle(observation) }
        if sawFirstEvent {
            chunksSinceProgressCheck += 1
            if chunksSinceProgressCheck >= 16 {
                chunksSinceProgressCheck = 0
                recordProgress(force: false)
            }
        }
    }

    func closed(by cause: CloseCause) {
        finishReread()
        // A kernel reset was journaled at the time of the client's packet (FaultController).
        if case .fault(let kind) = cause, kind != .kernelReset {
            record(.connReset) { $0.detail = kind.rawValue }
        }
        let detail: String
        switch cause {
        case .client: detail = "client"
        case .server: detail = "server"
        case .fault: detail = "fault"
        case .error(let message): detail = "error: \(message)"
        }
        record(.connClosed) { event in
            event.detail = detail
            if let last = self.observer.lastForwarded {
                event.file = last.file
                event.position = last.position
                event.gtid = last.gtid
            }
        }
    }

    private func handle(_ observation: ProtocolObservation) {
        switch observation {
        case .serverGreeting:
            break
        case .handshake(let user, _):
            self.user = user
            record(.handshake)
        case .authSucceeded:
            record(.authOK)
        case .authFailed(let code, let message):
            record(.authFailed) { $0.code = Int(code); $0.message = message }
        case .unobservable(let reason):
            record(.note) { $0.detail = "connection not observable: \(reason)" }
        case .query:
            break
        case .slaveConnectState(let state):
            slaveConnectState = state
        case .binlogDump(let file, let position, let serverID):
            dumpServerID = serverID
            startCountingReread(file: file, position: position)
            record(.binlogDump) { event in
                event.file = file
                event.position = position
                event.serverID = serverID
                // A MariaDB replica in GTID mode asks from file "" and says where in @slave_connect_state.
                if let state = self.slaveConnectState, file.isEmpty { event.gtid = state }
            }
        case .binlogDumpGTID(let file, let position, let serverID, let gtidSet):
            dumpServerID = serverID
            startCountingReread(file: file, position: position)
            record(.binlogDump) { event in
                event.file = file
                event.position = position
                event.serverID = serverID
                event.gtid = gtidSet
            }
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
        guard count.events > 0 else { return }
        record(.binlogReread) { event in
            event.file = count.upTo.file
            event.position = count.upTo.position
            event.count = count.rowEvents
            event.detail = count.tables.joined(separator: ", ")
        }
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

    private func recordPosition(_ kind: JournalEventKind) {
        record(kind) { event in
            if let last = self.observer.lastForwarded {
                event.file = last.file
                event.position = last.position
                event.gtid = last.gtid
            }
        }
    }

    private func record(_ kind: JournalEventKind, _ fill: @escaping (inout JournalEvent) -> Void = { _ in }) {
        journal.record(kind) { event in
            event.conn = self.conn
            event.client = self.client
            event.user = self.user
            event.serverID = self.dumpServerID
            fill(&event)
        }
    }
}

/// Hands every accepted connection a `ProtocolTap` and journals the acceptance.
struct JournalingObserver: GatewayObserver {
    let journal: Journal
    let positions = ForwardedPositions()
    let log = AgentLog.logger("agent.gateway")

    func accepted(connectionID: UInt64, client: String) -> (any ConnectionTap)? {
        journal.record(.connAccepted) { $0.conn = connectionID; $0.client = client }
        return ProtocolTap(journal: journal, conn: connectionID, client: client, positions: positions)
    }

    func upstreamFailed(connectionID: UInt64, error: String) {
        journal.record(.note) { $0.conn = connectionID; $0.detail = "upstream connect failed: \(error)" }
        log.warning("upstream connect failed", metadata: ["conn": "\(connectionID)", "error": "\(error)"])
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
}
