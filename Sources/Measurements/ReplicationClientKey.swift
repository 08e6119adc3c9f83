/// Who a replication client is, across its connections: its server id, else user and IP address.
public enum ReplicationClientKey {
    public static func of(serverID: UInt32?, user: String?, client: String?) -> String {
        if let serverID, serverID != 0 { return "server_id \(serverID)" }
        let address = client.map(ClientAddress.host(of:)) ?? "unknown"
        return user.map { "\($0)@\(address)" } ?? address
    }
}

/// A client's address as the gateway journals it ("ip:port", "[v6]:port").
enum ClientAddress {
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
