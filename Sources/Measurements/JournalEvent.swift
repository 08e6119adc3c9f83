import Faults
import Foundation

/// What happened. Raw values are the `kind` strings of the journal.
public enum JournalEventKind: String, Codable, Sendable, CaseIterable {
    /// A fault window opened (`window`, `fault`).
    case faultStarted = "fault_started"
    /// A fault window closed (`window`, `fault`, `detail`: the `ClearReason`).
    case faultEnded = "fault_ended"
    /// The gateway accepted a TCP connection (`conn`, `client`).
    case connAccepted = "conn_accepted"
    /// One connection attempt the kernel refused (RST to its SYN), at the SYN's time, with the
    /// client's "ip:port" (`client`). Journals written before packet observation carry `count`:
    /// attempts counted since the last 0.2 s sample, no client port, estimated times.
    case connRefused = "conn_refused"
    /// One connection attempt the kernel dropped (iptables DROP: no answer at all), at its
    /// first SYN's time, with `client` "ip:port"; SYN retransmissions are not new attempts.
    case connDropped = "conn_dropped"
    /// A client gave up on a dropped attempt or a frozen connection (`client`, `conn` when it
    /// was a gateway connection; `detail`: "FIN", "RST", or "new attempt from ip:port").
    /// A FIN or RST dates the moment exactly. A connect abandoned in SYN_SENT sends nothing: the
    /// event is then dated by the client's next attempt, and `last_seen` is the time of the
    /// abandoned attempt's last SYN (first or retransmitted) — the client gave up between the two.
    case clientGaveUp = "client_gave_up"
    /// A fault reset an established connection (`conn`; `detail`: "reject", "reset", or
    /// "kernel reset (iptables reject)" when the kernel answered the client's packet with RST
    /// and the gateway closed its side, at the time of that packet).
    case connReset = "conn_reset"
    /// A connection closed (`conn`; `detail`: "client", "server", "fault" or "error: …";
    /// the last binlog `file`/`position`/`gtid` forwarded on it, if any, and what of it was
    /// `received`).
    case connClosed = "conn_closed"
    /// The client's handshake response (`conn`, `user`).
    case handshake
    case authOK = "auth_ok"
    case authFailed = "auth_failed"
    /// COM_BINLOG_DUMP (`file`, `position`, `server_id`) or COM_BINLOG_DUMP_GTID / MariaDB
    /// `slave_connect_state` (`gtid`; `file` may be empty and `position` 4).
    case binlogDump = "binlog_dump"
    /// The first real event forwarded on a dump connection (`file`/`position`/`gtid`).
    case binlogFirstEvent = "binlog_first_event"
    /// Sample of the last position forwarded on a dump connection, and of what of it was
    /// `received`: at most once a second while it moves, and when a fault window opens or
    /// closes (`window`).
    case binlogProgress = "binlog_progress"
    /// A dump connection open when a fault window started delivered its first event after the
    /// window ended, without reconnecting (`window`; `file`/`position`/`gtid`: where that event
    /// left the stream). Dated when the client's TCP acknowledged the event; when that cannot be
    /// known, when it was written, and `receipt` says why.
    case binlogResumed = "binlog_resumed"
    /// A resumed replication client went past the last position forwarded on its previous
    /// connection: what it was sent again (`file`/`position`: that last position; `count`: the
    /// row events re-sent; `detail`: the tables they change, comma-separated, empty for none).
    case binlogReread = "binlog_reread"
    /// The agent's verdict on where a replication client resumed (`resume`), journaled for every
    /// binlog dump of a client that had been sent events on an earlier connection, once it is
    /// known (after the re-read is counted). `window`: the fault window whose report judges this
    /// dump (the client's first since that window started); nil for a reconnect between faults.
    case binlogResume = "binlog_resume"
    /// An error packet from the server (`code`, `message`).
    case serverError = "server_error"
    /// A SELECT on a connection read tables of the source (`detail`: their names, `db.table`,
    /// comma-separated; `user`), as a query-based sync reads: `code`/`message` when it failed
    /// (the connection closing before the answer is `message` "no answer: the connection closed").
    /// Journaled for every failure, and at most once a second per connection and set of tables
    /// while reads succeed.
    case tablesRead = "tables_read"
    /// A client asked where the binlog stands (`SHOW MASTER STATUS`, `SHOW BINARY LOG STATUS`,
    /// `SHOW BINLOG STATUS`) and got the answer (`user`): a binlog reader does so before its
    /// initial snapshot, to know where its stream will start. At most once a second per connection.
    case binlogStatus = "binlog_status"
    /// A fault command the agent carried out (`detail`: the command, e.g. "down reject for 20 s";
    /// `client`: who sent it, "pid N" on the control socket or "ip:port" over TCP; `holder`
    /// while a run held the source: whether that run, or a process it started, sent it).
    case faultCommand = "fault_command"
    /// The supervisor started the agent again (`detail`: how its predecessor ended, "the previous
    /// agent (pid N) was killed by signal 9").
    case agentRestarted = "agent_restarted"
    /// Free text, e.g. what another command did.
    case note
    /// Events the journal lost (`count`; `detail`: "N events lost: disk full from T1 to T2"), at
    /// the time the loss began; see `JournalGap`.
    case gap
}

/// One line of the agent's journal.
///
/// Binlog positions (`file`/`position`/`gtid`) name where the client stands *after* the
/// last forwarded event: `position` is the event header's next-position (what a client
/// would request to continue), and `gtid` is the client's whole GTID state — the MySQL
/// set it asked for plus every GTID forwarded since, or the MariaDB per-domain list
/// updated with every GTID forwarded since. Resume verdicts compare such positions with
/// what the client requests after a fault.
public struct JournalEvent: Codable, Sendable, Hashable {
    /// The journal's persistent, strictly increasing number of this event (from 1); nil in
    /// journals written before it existed and in events not yet journaled.
    public var seq: UInt64?
    /// Seconds since 1970, rounded to the microsecond.
    public var at: Double
    public var kind: JournalEventKind
    /// Fault window id, where relevant.
    public var window: Int?
    /// Gateway connection id.
    public var conn: UInt64?
    /// Client address "ip:port".
    public var client: String?
    public var user: String?
    public var fault: FaultSpec?
    public var file: String?
    public var position: UInt64?
    public var gtid: String?
    public var serverID: UInt32?
    /// E.g. refused attempts counted since the last sample.
    public var count: Int?
    public var code: Int?
    public var message: String?
    public var detail: String?
    /// `fault_command` while a run held the source: true when the holder sent it.
    public var holder: Bool?
    /// `client_gave_up` dated by a next attempt: seconds since 1970 of the last SYN (or SYN
    /// retransmission) of the attempt given up. Nil in journals written before it existed.
    public var lastSeen: Double?
    /// On an event carrying a binlog position written to a client: the last position of those
    /// its TCP acknowledged, when that is behind the one written. Nil when everything written was
    /// received, when it is not known (`receipt`), and in journals written before it existed.
    public var received: ResumePoint?
    /// Set when what the client received is not known: "written, not known to be received: why".
    public var receipt: String?
    /// On an event carrying a binlog position inside a transaction: that transaction, as far as it
    /// was written.
    public var transaction: PartialTransaction?
    /// `binlog_resume`: the verdict.
    public var resume: ResumeReport?

    public init(
        at: Double,
        kind: JournalEventKind,
        window: Int? = nil,
        conn: UInt64? = nil,
        client: String? = nil,
        user: String? = nil,
        fault: FaultSpec? = nil,
        file: String? = nil,
        position: UInt64? = nil,
        gtid: String? = nil,
        serverID: UInt32? = nil,
        count: Int? = nil,
        code: Int? = nil,
        message: String? = nil,
        detail: String? = nil,
        holder: Bool? = nil,
        lastSeen: Double? = nil
    ) {
        self.at = Self.timestamp(at)
        self.kind = kind
        self.window = window
        self.conn = conn
        self.client = client
        self.user = user
        self.fault = fault
        self.file = file
        self.position = position
        self.gtid = gtid
        self.serverID = serverID
        self.count = count
        self.code = code
        self.message = message
        self.detail = detail
        self.holder = holder
        self.lastSeen = lastSeen.map { Self.timestamp($0) }
    }

    /// Seconds since 1970 rounded to the microsecond, the journal's time format.
    public static func timestamp(_ secondsSince1970: Double) -> Double {
        (secondsSince1970 * 1_000_000).rounded() / 1_000_000
    }

    /// `timestamp(_:)` of a date.
    public static func timestamp(_ date: Date) -> Double {
        timestamp(date.timeIntervalSince1970)
    }

    public var date: Date { Date(timeIntervalSince1970: at) }

    enum CodingKeys: String, CodingKey {
        case seq, at, kind, window, conn, client, user, fault, file, position, gtid
        case serverID = "server_id"
        case count, code, message, detail, holder
        case lastSeen = "last_seen"
        case received, receipt, transaction, resume
    }

    /// The position the client received, for an event that carries one written to it: `received`
    /// when set, else the one written (all of it acknowledged, or not known: see `receipt`).
    public var receivedPoint: ResumePoint? {
        received ?? ResumePoint(self)
    }
}
