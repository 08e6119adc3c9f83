import Faults
import Foundation
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

    init(journal: Journal, conn: UInt64, client: String) {
        observer.reportsQueryText = false
        self.journal = journal
        self.conn = conn
        self.client = client
    }

    var isReplication: Bool { observer.isReplication }

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
            record(.binlogDump) { event in
                event.file = file
                event.position = position
                event.serverID = serverID
                // A MariaDB replica in GTID mode asks from file "" and says where in @slave_connect_state.
                if let state = self.slaveConnectState, file.isEmpty { event.gtid = state }
            }
        case .binlogDumpGTID(let file, let position, let serverID, let gtidSet):
            dumpServerID = serverID
            record(.binlogDump) { event in
                event.file = file
                event.position = position
                event.serverID = serverID
                event.gtid = gtidSet
            }
        case .registerSlave:
            break
        case .binlogEvent(let summary):
            guard !summary.isArtificial, !summary.isHeartbeat, summary.logPos > 0 else { return }
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

    func accepted(connectionID: UInt64, client: String) -> (any ConnectionTap)? {
        journal.record(.connAccepted) { $0.conn = connectionID; $0.client = client }
        return ProtocolTap(journal: journal, conn: connectionID, client: client)
    }

    func upstreamFailed(connectionID: UInt64, error: String) {
        journal.record(.note) { $0.conn = connectionID; $0.detail = "upstream connect failed: \(error)" }
    }
}
