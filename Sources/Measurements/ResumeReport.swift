/// Where a replication client resumed after a fault, against where it stood before.
public struct ResumeReport: Codable, Sendable, Hashable {
    /// "1 row event", "3 row events".
    public static func rowEvents(_ count: Int) -> String { "\(count) row event\(count == 1 ? "" : "s")" }

    /// "server_id 2", or "user@ip" for a client that sent no server id.
    public var client: String
    public var serverID: UInt32?
    /// The last position forwarded (written into its socket) to this client before its new binlog dump.
    public var lastForwarded: ResumePoint?
    /// Of that, the last position its TCP acknowledged, when behind `lastForwarded`: the verdict
    /// compares the request with this one. Nil when everything written was received, or when that
    /// is not known (`receipt`).
    public var lastReceived: ResumePoint?
    /// "written, not known to be received: why" when what the client received is not known: the
    /// verdict then compares with what was written.
    public var receipt: String?
    /// The position asked for in its first binlog dump after the fault started.
    public var requested: ResumePoint?
    /// Seconds from the fault start to that binlog dump.
    public var requestedAfter: Double?
    public var verdict: ResumeVerdict
    /// Why the verdict is unknown, or what was re-read / skipped.
    public var note: String?
    /// Row events the client was sent again up to `lastForwarded` (nil when not counted: the
    /// stream never got that far, or the comparison was by GTID alone).
    public var rereadRowEvents: Int?
    /// The tables (`schema.table`) those row events change.
    public var rereadTables: [String]?
    /// What the verdict cannot rule out, e.g. loss after a connection reset mid-stream.
    public var caveat: String?
    /// Of the transaction a skip resumed past, the row events the client was never sent and their
    /// tables, as the source's binlog holds them (nil when not counted).
    public var skippedRowEvents: Int?
    public var skippedTables: [String]?
    /// The connection of the binlog dump judged, and when it was sent (seconds since 1970): set
    /// on the verdicts the agent journals for every reconnect (`binlog_resume`).
    public var conn: UInt64?
    public var requestedAt: Double?

    public init(
        client: String, serverID: UInt32?, lastForwarded: ResumePoint?, requested: ResumePoint?,
        requestedAfter: Double?, verdict: ResumeVerdict, note: String?,
        rereadRowEvents: Int? = nil, rereadTables: [String]? = nil, caveat: String? = nil
    ) {
        self.client = client
        self.serverID = serverID
        self.lastForwarded = lastForwarded
        self.requested = requested
        self.requestedAfter = requestedAfter
        self.verdict = verdict
        self.note = note
        self.rereadRowEvents = rereadRowEvents
        self.rereadTables = rereadTables
        self.caveat = caveat
    }

    enum CodingKeys: String, CodingKey {
        case client
        case serverID = "server_id"
        case lastForwarded = "last_forwarded"
        case lastReceived = "last_received"
        case receipt
        case requested
        case requestedAfter = "requested_after"
        case verdict, note, caveat
        case rereadRowEvents = "reread_row_events"
        case rereadTables = "reread_tables"
        case conn
        case requestedAt = "requested_at"
        case skippedRowEvents = "skipped_row_events", skippedTables = "skipped_tables"
    }
}

public enum ResumeVerdict: String, Codable, Sendable {
    /// Resumed exactly where it stood, or a few events earlier without any row event among
    /// them: nothing can be duplicated.
    case maintained
    /// Asked for an earlier position and was sent row events again (or they could not be
    /// counted): at-least-once, duplicates possible.
    case reread
    /// Asked for a later position: a gap.
    case skipped
    case unknown
}

/// A replication position as the journal records it: binlog file and position, GTID
/// state, or both.
public struct ResumePoint: Codable, Sendable, Hashable, CustomStringConvertible {
    /// Empty in a GTID-mode MariaDB dump request (with position 4).
    public var file: String?
    public var position: UInt64?
    /// The client's GTID state: the transactions it was sent whole.
    public var gtid: String?
    /// The transaction this point is inside, sent only up to here.
    public var transaction: PartialTransaction?

    public init(file: String? = nil, position: UInt64? = nil, gtid: String? = nil, transaction: PartialTransaction? = nil) {
        self.file = file
        self.position = position
        self.gtid = gtid
        self.transaction = transaction
    }

    /// The point an event carries, if it carries one.
    init?(_ event: JournalEvent) {
        guard event.gtid != nil || event.file != nil else { return nil }
        self.init(file: event.file, position: event.position, gtid: event.gtid, transaction: event.transaction)
    }

    /// File and position, when a file is named.
    public var filePosition: BinlogFilePosition? {
        guard let file, !file.isEmpty else { return nil }
        return BinlogFilePosition(file: file, position: position ?? 4)
    }

    public var description: String {
        var parts: [String] = []
        if let filePosition { parts.append(filePosition.description) }
        if let gtid { parts.append("gtid \(gtid.isEmpty ? "(empty)" : gtid)") }
        if let transaction { parts.append("inside transaction \(transaction.gtid)") }
        return parts.isEmpty ? "first binary log" : parts.joined(separator: ", ")
    }

    /// The verdict for a client that requests `self` after `lastForwarded` was sent to it,
    /// by position alone (see `ResumeReport.counting(_:)` for what was re-sent).
    /// A GTID request is compared by GTID; a file request by file and position; a request
    /// with neither (empty file, no GTID) asks for the first binary log.
    public func verdict(after lastForwarded: ResumePoint) -> (verdict: ResumeVerdict, note: String?) {
        if let gtid {
            guard let lastGTID = lastForwarded.gtid else {
                return (.unknown, "requested a GTID position, but no GTID was journaled for the last forwarded one")
            }
            let requestedSet: GTIDSet
            let forwardedSet: GTIDSet
            do {
                requestedSet = try GTIDSet(parsing: gtid)
                forwardedSet = try GTIDSet(parsing: lastGTID)
            } catch {
                return (.unknown, error.description)
            }
            let verdict = Self.verdict(requestedSet, after: forwardedSet)
            if verdict.0 == .skipped, let transaction = lastForwarded.transaction,
               let skipped = transaction.skipped(by: requestedSet, beyond: forwardedSet) {
                return (.skipped, skipped)
            }
            return verdict
        }
        if let requested = filePosition {
            guard let forwarded = lastForwarded.filePosition else {
                return (.unknown, "requested a file position, but none was journaled for the last forwarded one")
            }
            switch requested.compare(to: forwarded) {
            case .same: return (.maintained, nil)
            case .behind: return (.reread, "re-reads from \(requested) up to \(forwarded)")
            case .ahead: return (.skipped, "skips from \(forwarded) to \(requested)")
            case .diverged, .incomparable:
                return (.unknown, "binlog files \(requested.file) and \(forwarded.file) cannot be compared")
            }
        }
        if lastForwarded.filePosition == nil && lastForwarded.gtid == nil {
            return (.maintained, nil)
        }
        return (.reread, "requested the first binary log")
    }

    /// The verdict for a client whose TCP acknowledged up to `received` of what was `written` to
    /// it. Acknowledgements trail what a client's kernel holds (an ACK may be delayed, or in
    /// flight when the connection ended): a request after `received` but not after `written` is
    /// what it had when the rest was in flight, maintained; only one after `written` skips.
    ///
    /// A file position proves what the client received: it names the end of an event it read. A
    /// GTID names a transaction once its GTID event was read, not its end: a request naming the
    /// transaction the client's receipt stands inside, more than `inFlightBytes` before what was
    /// written, is a skip of its rest (a client that had stopped reading, not an ACK in flight).
    public func verdict(after received: ResumePoint, written: ResumePoint) -> (verdict: ResumeVerdict, note: String?) {
        let byReceived = verdict(after: received)
        guard byReceived.verdict == .skipped, received != written else { return byReceived }
        let byWritten = verdict(after: written)
        if let transaction = received.transaction, transaction.isNamed(by: gtid), let note = byReceived.note {
            // Judged by the part it received; its end was never written, or written but not acknowledged.
            if byWritten.verdict == .skipped { return byReceived }
            if Self.unacknowledgedBytes(received, written).map({ $0 > Self.inFlightBytes }) ?? true {
                return (.skipped, note + "; its TCP had acknowledged up to \(received.filePosition.map(\.description) ?? "\(received)")"
                    + " of \(written.filePosition.map(\.description) ?? "\(written)") written when the connection ended")
            }
        }
        guard byWritten.verdict != .skipped else { return byWritten }
        return (.maintained, "asked for more than its TCP had acknowledged (\(received)) but no more than it was written (\(written)):"
            + " the rest was in flight")
    }

    /// What an acknowledgement in flight can cover: more unacknowledged than this is a client that
    /// had stopped reading.
    public static let inFlightBytes: UInt64 = 256 << 10

    /// Bytes of binlog between two points of the same file.
    static func unacknowledgedBytes(_ received: ResumePoint, _ written: ResumePoint) -> UInt64? {
        guard let from = received.filePosition, let to = written.filePosition, from.file == to.file,
              to.position >= from.position else { return nil }
        return to.position - from.position
    }

    private static func verdict(_ requested: GTIDSet, after forwarded: GTIDSet) -> (ResumeVerdict, String?) {
        switch requested.compare(to: forwarded) {
        case .same:
            return (.maintained, nil)
        case .behind:
            return (.reread, "re-reads \(forwarded.subtracting(requested).changeSummary)")
        case .ahead:
            return (.skipped, "skips \(requested.subtracting(forwarded).changeSummary)")
        case .diverged:
            return (.unknown, "GTID sets diverge: requested lacks \(forwarded.subtracting(requested).changeSummary)"
                + " and adds \(requested.subtracting(forwarded).changeSummary)")
        case .incomparable:
            return (.unknown, "GTID flavors differ: \(requested) against \(forwarded)")
        }
    }
}

/// A transaction a client was sent only in part: its GTID event was sent, its end was not.
public struct PartialTransaction: Codable, Sendable, Hashable {
    public var gtid: String
    /// Where its GTID event starts.
    public var file: String
    public var start: UInt64
    /// Its row events sent up to the point that names it.
    public var rowEvents: Int
    /// The tables (`schema.table`) of those row events.
    public var tables: [String]?

    public init(gtid: String, file: String, start: UInt64, rowEvents: Int, tables: [String]? = nil) {
        self.gtid = gtid
        self.file = file
        self.start = start
        self.rowEvents = rowEvents
        self.tables = tables
    }

    enum CodingKeys: String, CodingKey {
        case gtid, file, start, tables
        case rowEvents = "row_events"
    }

    /// Whether a GTID request asks to resume after this transaction.
    func isNamed(by requested: String?) -> Bool {
        guard let requested, let set = try? GTIDSet(parsing: requested) else { return false }
        return own(in: set) != nil
    }

    /// This transaction's GTID as a set, when `requested` includes it.
    private func own(in requested: GTIDSet) -> GTIDSet? {
        guard let own = try? GTIDSet(parsing: gtid), own.flavor == requested.flavor, own.isSubset(of: requested) else { return nil }
        return own
    }

    /// "transaction 0-1-12 (from mysql-bin.000001:4567), of which it had been sent 3 row events of testdb.users".
    public var words: String {
        let sent = rowEvents == 0 ? "none of its row events"
            : ResumeReport.rowEvents(rowEvents) + (tables.map { $0.isEmpty ? "" : " of \($0.joined(separator: ", "))" } ?? "")
        return "transaction \(gtid) (from \(BinlogFilePosition(file: file, position: start))), of which it had been sent \(sent)"
    }

    /// Why a request for `requested`, by a client sent the transactions of `forwarded` whole and
    /// this one in part, skips the rest of this one: nil when it does not name this one.
    func skipped(by requested: GTIDSet, beyond forwarded: GTIDSet) -> String? {
        guard let own = own(in: requested) else { return nil }
        let beyond = requested.subtracting(forwarded).subtracting(own)
        let more = beyond.isEmpty ? "" : "; it also skips \(beyond.changeSummary)"
        return "asked to resume after \(words): the server never sends the rest of it\(more)"
    }
}

extension GTIDSet {
    /// "uuid:6-9 (4 transactions)" for MySQL; "domain 0 up to 0-1-120" for MariaDB.
    var changeSummary: String {
        switch flavor {
        case .mysql:
            return "\(description) (\(count) transaction\(count == 1 ? "" : "s"))"
        case .mariadb:
            return mariaDBGTIDs.map { "domain \($0.domain) up to \($0)" }.joined(separator: ", ")
        case nil:
            return "nothing"
        }
    }
}

extension ResumeReport {
    /// The report with what the client was re-sent, as the gateway counted it: a re-read of no
    /// row events is `maintained` (nothing can be duplicated); one of row events says how many
    /// and of which tables.
    /// Counted up to a position the client had been written but had not received, the count holds
    /// events it now receives for the first time: a request for what it received is maintained,
    /// and an earlier one re-reads at most that many.
    public func counting(rowEvents: Int, tables: [String], upTo: BinlogFilePosition) -> ResumeReport {
        var report = self
        report.rereadRowEvents = rowEvents
        report.rereadTables = tables
        guard verdict == .reread || verdict == .maintained else { return report }
        if let received = lastReceived?.filePosition, received.compare(to: upTo) == .behind {
            if verdict == .maintained {
                report.rereadRowEvents = 0
                report.rereadTables = []
                report.note = "what it was sent again up to \(upTo) had been written to it but not acknowledged"
                    + " (it had acknowledged up to \(received)): nothing it is known to have received is sent twice"
                return report
            }
            if rowEvents > 0 {
                report.note = "re-read at most \(Self.rowEvents(rowEvents)) of \(tables.joined(separator: ", ")) up to \(upTo),"
                    + " some of them written to it before but never received (it had received up to \(received))"
                return report
            }
        }
        if rowEvents == 0 {
            report.verdict = .maintained
            report.note = "re-read events before \(upTo) it had been sent, none of them rows: nothing can be duplicated"
        } else {
            report.verdict = .reread
            report.note = "re-read \(Self.rowEvents(rowEvents)) of \(tables.joined(separator: ", "))"
                + " up to \(upTo): duplicates possible unless the tool de-duplicates"
        }
        return report
    }

    /// The transaction whose rest a skip left behind: the client stood inside it and asked to
    /// resume after it.
    public var skippedTransaction: PartialTransaction? {
        guard verdict == .skipped, let transaction = (lastReceived ?? lastForwarded)?.transaction,
              transaction.isNamed(by: requested?.gtid) else { return nil }
        return transaction
    }

    /// The report with what the source's binlog holds of the rest of `skippedTransaction`:
    /// `total` row events of `tables` in all (`complete` false: at least that many).
    public func countingSkippedRest(total: Int, tables: [String], complete: Bool) -> ResumeReport {
        guard let transaction = skippedTransaction else { return self }
        var report = self
        let rest = max(0, total - transaction.rowEvents)
        report.skippedRowEvents = rest
        report.skippedTables = tables
        let words = rest == 0 ? "none of its row events" : "\(complete ? "" : "at least ")\(Self.rowEvents(rest))"
            + (tables.isEmpty ? "" : " of \(tables.joined(separator: ", "))")
        report.note = (note ?? "") + "; never sent: \(words) (\(complete ? "" : "at least ")\(total) in the binlog)"
        return report
    }

    /// The report when what the rest holds could not be read from the binlog.
    public func skippedRestNotCounted(_ why: String) -> ResumeReport {
        guard skippedTransaction != nil else { return self }
        var report = self
        report.note = (note ?? "") + "; how much of it was never sent is not known: \(why)"
        return report
    }

    /// Set when the client's previous connection was reset while it streamed: where it resumes
    /// says nothing of what it had been sent but not yet applied.
    public static let resetCaveat = "its connection was reset mid-stream: a maintained position cannot rule out losing"
        + " what it had been sent but not yet applied; `toolkit verify` at the destination can"
}
