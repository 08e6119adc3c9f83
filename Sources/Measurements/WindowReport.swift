import Faults

/// What the journal shows about one fault window: how fast the client noticed, how it
/// retried, how fast it came back, and where it resumed replication from.
/// Times are seconds; `started`/`ended` are seconds since 1970 like `JournalEvent.at`.
public struct WindowReport: Codable, Sendable, Hashable {
    public var window: Int
    public var fault: FaultSpec
    public var started: Double
    /// Nil while the fault is still active.
    public var ended: Double?
    /// `ended - started`; nil while the fault is still active.
    public var duration: Double?
    /// Why the window ended (the `detail` of `fault_ended`), when known.
    public var endReason: ClearReason?
    /// The client's first failed attempt (under `service`, its first reaction: the server closing
    /// its connection is `serverClosed`); nil if it noticed nothing while the fault lasted.
    public var detection: Detection?
    /// Under a `service` fault: when the stopping server closed a client's connection.
    public var serverClosed: ServerClose?
    /// Connection attempts from the fault start until the first successful reconnect after it
    /// (that attempt's connections included), or until the case's `recovery_within` after the restore.
    public var attempts: AttemptSeries
    /// Client connections open when the fault started, and how many of them outlived it.
    public var connections: ConnectionSurvival
    /// Seconds from restore to the first `auth_ok` on a connection accepted after it.
    public var reconnectedAfter: Double?
    /// Seconds from restore to the first binlog event after it: `binlog_first_event` on a
    /// connection accepted since the fault began, or the first event a connection that stayed open
    /// through the fault delivered (`binlog_resumed`), whichever came first.
    public var replicationResumedAfter: Double?
    /// Set when replication resumed on a connection that stayed open through the fault.
    public var resumedOnConnection: SameConnectionResume?
    /// One entry per replication client seen around the window.
    public var resume: [ResumeReport]
    /// Seconds from the restore to the first successful read of the source's tables with a query
    /// (`tables_read`, the toolkit's bookkeeping tables aside): a query-based sync running again.
    public var tablesReadAfter: Double?
    /// Read attempts of the source's tables with queries while the fault lasted.
    public var readsDuringFault: Int?
    /// A query-based sync's rhythm before the fault: the median seconds between the starts of its
    /// reads (reads less than a second apart are one); nil with fewer than two.
    public var readRhythm: Double?
    /// The journal's gaps (`JournalGap.description`) from the window's start to its horizon; nil when
    /// there are none. A window without an end before a gap is measured only up to the gap: its
    /// end, if it came, is among the events lost.
    public var journalGaps: [String]?

    public init(
        window: Int, fault: FaultSpec, started: Double, ended: Double?, endReason: ClearReason?,
        detection: Detection?, attempts: AttemptSeries, connections: ConnectionSurvival,
        reconnectedAfter: Double?, replicationResumedAfter: Double?, resume: [ResumeReport]
    ) {
        self.window = window
        self.fault = fault
        self.started = started
        self.ended = ended
        self.duration = ended.map { JournalEvent.timestamp($0 - started) }
        self.endReason = endReason
        self.detection = detection
        self.attempts = attempts
        self.connections = connections
        self.reconnectedAfter = reconnectedAfter
        self.replicationResumedAfter = replicationResumedAfter
        self.resume = resume
    }

    enum CodingKeys: String, CodingKey {
        case window, fault, started, ended, duration
        case endReason = "end_reason"
        case detection
        case serverClosed = "server_closed"
        case attempts, connections
        case reconnectedAfter = "reconnected_after"
        case replicationResumedAfter = "replication_resumed_after"
        case resumedOnConnection = "resumed_on_connection"
        case resume
        case journalGaps = "journal_gaps"
        case tablesReadAfter = "tables_read_after", readsDuringFault = "reads_during_fault", readRhythm = "read_rhythm"
    }
}

extension WindowReport {
    /// The report with the attempts that started later than `recoveryWithin` after the restore left out: a
    /// connect after that is not the client's reaction to this fault (a manual restart minutes later).
    public func boundingAttempts(recoveryWithin: Double) -> WindowReport {
        guard let duration else { return self }
        var report = self
        report.attempts = attempts.ending(at: duration + recoveryWithin)
        return report
    }
}

/// The stopping server closing a client's connection (a `service` fault): the server's doing, not
/// the client's detection.
public struct ServerClose: Codable, Sendable, Hashable, CustomStringConvertible {
    /// Seconds from the fault start.
    public var after: Double
    public var conn: UInt64?
    /// The error packet it sent as it went, if any.
    public var code: Int?
    public var message: String?

    public init(after: Double, conn: UInt64? = nil, code: Int? = nil, message: String? = nil) {
        self.after = after
        self.conn = conn
        self.code = code
        self.message = message
    }

    /// "the server closed the connection at 0.02 s (1053 Server shutdown in progress)".
    public var description: String {
        var text = String(format: "the server closed the connection at %.2f s", after)
        let error = [code.map(String.init), message].compactMap { $0 }.joined(separator: " ")
        if !error.isEmpty { text += " (\(error))" }
        return text
    }
}

/// Replication resumed without a reconnect: a dump connection open when the fault started
/// delivered again after the restore.
public struct SameConnectionResume: Codable, Sendable, Hashable {
    public var conn: UInt64
    /// True when the moment is when the client's TCP acknowledged the event; false when it is when
    /// the gateway wrote it (what the client acknowledged could not be known).
    public var received: Bool

    public init(conn: UInt64, received: Bool) {
        self.conn = conn
        self.received = received
    }

    /// "on the same connection (conn 7), when the client received its first event",
    public var words: String {
        "on the same connection (conn \(conn)), " + (received ? "the first event the client received" : "the first event written to it (when the client received it is not known)")
    }
}

/// The client's first failed attempt after a fault started.
///
/// Most failures are seen on the wire at the moment they happen (a reset, a refusal, a FIN).
/// A client that abandons a connect under a DROP sends nothing: the wire only bounds the moment,
/// after the abandoned attempt's last SYN and at or before the client's next attempt. Then
/// `earliest` and `latest` give that bound, `bound` says what its ends are, and `after` is
/// `latest` (a reader of `after` alone stays conservative). The client's own log can date it
/// further (`WindowReport.datingDetection(byLog:source:timeZone:)`): `log_line` is then the line, and `earliest` and
/// `latest` the part of the wire's bound that the line's timestamp allows.
public struct Detection: Codable, Sendable, Hashable {
    /// Seconds from the fault start; `latest` when the moment is bounded.
    public var after: Double
    /// conn_reset, conn_closed, conn_refused or auth_failed; for a timeout, conn_closed by the
    /// client, client_gave_up, or conn_accepted of a replica that gave up; for a service fault,
    /// conn_closed by the client or its next connect (conn_accepted, conn_refused), or, dated by
    /// the client's log line, the server's conn_closed it answered.
    public var event: JournalEventKind
    public var conn: UInt64?
    public var detail: String?
    public var code: Int?
    public var message: String?
    /// Seconds from the fault start: the earliest the moment can be. Nil when it is exact.
    public var earliest: Double?
    /// Seconds from the fault start: the latest the moment can be (= `after`). Nil when it is exact.
    public var latest: Double?
    /// What the bound's ends are, e.g. "after its last SYN retransmission at 3.0 s; its next attempt came at 5.4 s".
    public var bound: String?
    /// The client's own log line that dated the moment (its first failure line inside the bound).
    public var logLine: String?
    /// Where that line was read, e.g. "etl log /var/log/etl.log".
    public var logSource: String?

    public init(
        after: Double, event: JournalEventKind, conn: UInt64? = nil,
        detail: String? = nil, code: Int? = nil, message: String? = nil,
        earliest: Double? = nil, latest: Double? = nil, bound: String? = nil,
        logLine: String? = nil, logSource: String? = nil
    ) {
        self.after = after
        self.event = event
        self.conn = conn
        self.detail = detail
        self.code = code
        self.message = message
        self.earliest = earliest
        self.latest = latest
        self.bound = bound
        self.logLine = logLine
        self.logSource = logSource
    }

    /// The moment is known only within `earliest`…`latest`, not exactly.
    public var isBounded: Bool {
        guard let earliest, let latest else { return false }
        return earliest < latest
    }

    enum CodingKeys: String, CodingKey {
        case after, event, conn, detail, code, message, earliest, latest, bound
        case logLine = "log_line"
        case logSource = "log_source"
    }
}

/// Client connections (within the fault's scope) open when the fault started.
public struct ConnectionSurvival: Codable, Sendable, Hashable {
    public var openAtStart: Int
    /// Of those, still open when the fault ended (or at the end of the journal).
    public var survived: Int
    /// Those the client lost while the fault lasted.
    public var lost: [LostConnection]

    public init(openAtStart: Int, survived: Int, lost: [LostConnection] = []) {
        self.openAtStart = openAtStart
        self.survived = survived
        self.lost = lost
    }

    enum CodingKeys: String, CodingKey {
        case openAtStart = "open_at_start"
        case survived, lost
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        openAtStart = try container.decode(Int.self, forKey: .openAtStart)
        survived = try container.decode(Int.self, forKey: .survived)
        lost = try container.decodeIfPresent([LostConnection].self, forKey: .lost) ?? []
    }
}

/// A connection open when a fault started that its client lost during the fault.
public struct LostConnection: Codable, Sendable, Hashable {
    public var conn: UInt64
    public var client: String?
    /// It had asked for a binlog dump.
    public var replication: Bool
    /// Seconds from the fault start.
    public var after: Double
    /// The event that ended it and its detail, e.g. "conn_reset: kernel reset (iptables reject)".
    public var how: String

    public init(conn: UInt64, client: String?, replication: Bool, after: Double, how: String) {
        self.conn = conn
        self.client = client
        self.replication = replication
        self.after = after
        self.how = how
    }
}
