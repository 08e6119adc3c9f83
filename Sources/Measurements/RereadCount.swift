/// What a replication client was sent again after it resumed from an earlier position than the
/// last one forwarded to it: every event up to that position, counted as it streams by.
///
/// Duplicates at the destination are possible only when row events were re-sent; a client that
/// resumes a few events before a commit it was already sent (pg_chameleon does, on every poll)
/// re-reads no rows at all.
public struct RereadCount: Sendable, Hashable {
    /// The last position forwarded on the client's previous connection.
    public let upTo: BinlogFilePosition
    /// Events re-sent so far.
    public private(set) var events = 0
    /// Row events among them.
    public private(set) var rowEvents = 0
    /// The tables those row events change (`schema.table`), in the order first seen.
    public private(set) var tables: [String] = []
    /// True once the stream has gone past `upTo`: the count is complete.
    public private(set) var isComplete = false

    public init(upTo: BinlogFilePosition) {
        self.upTo = upTo
    }

    /// Counts an event that ends at `position`; `rowsOf` names the table of a row event.
    /// Returns true when this event went past `upTo` (it is not counted) and the count just completed.
    public mutating func forwarded(endingAt position: BinlogFilePosition, rowsOf table: String?) -> Bool {
        guard !isComplete else { return false }
        switch position.compare(to: upTo) {
        case .behind, .same:
            events += 1
            if let table {
                rowEvents += 1
                if !tables.contains(table) { tables.append(table) }
            }
            if position.compare(to: upTo) == .same { isComplete = true; return true }
            return false
        case .ahead, .diverged, .incomparable:
            isComplete = true
            return true
        }
    }
}
