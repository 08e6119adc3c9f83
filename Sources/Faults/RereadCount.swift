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

/// Who a replication client is, across its connections: its server id, else user and IP address.
public enum ReplicationClientKey {
    public static func of(serverID: UInt32?, user: String?, client: String?) -> String {
        if let serverID, serverID != 0 { return "server_id \(serverID)" }
        let address = client.map(host(of:)) ?? "unknown"
        return user.map { "\($0)@\(address)" } ?? address
    }

    /// "10.0.0.9:51234" → "10.0.0.9"; "[::1]:51234" → "::1"; a bare IPv6 address stays whole.
    static func host(of address: String) -> String {
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            return String(address[address.index(after: address.startIndex)..<close])
        }
        guard let colon = address.lastIndex(of: ":"), address.firstIndex(of: ":") == colon else {
            return address
        }
        return String(address[..<colon])
    }
}
