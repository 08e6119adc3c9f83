import Foundation

/// Where the agent serves its control API. The default is a Unix socket in `$TOOLKIT_HOME/run/`
/// (a directory only the agent's account can enter); TCP only when asked for (`up --control
/// tcp:ADDR:PORT`, for containers), and then every request carries the bearer token from
/// `$TOOLKIT_HOME/run/agent.token`.
public enum ControlAddress: Sendable, Hashable, CustomStringConvertible {
    case unixSocket
    case tcp(host: String, port: Int)

    /// `unix` or `tcp:ADDR:PORT` (IPv4 address, port 1–65535); nil otherwise.
    public init?(_ text: String) {
        if text == "unix" { self = .unixSocket; return }
        guard text.hasPrefix("tcp:") else { return nil }
        let rest = text.dropFirst(4)
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        let host = String(rest[..<colon])
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { return nil }
        self = .tcp(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .unixSocket: "unix"
        case .tcp(let host, let port): "tcp:\(host):\(port)"
        }
    }

    /// The one-line rule for `--control`.
    public static let usage = "unix (the default: a socket only this account can use) or tcp:ADDR:PORT (IPv4 address, port 1-65535; requests need the token in run/agent.token)"
}
