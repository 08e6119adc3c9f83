import Foundation

/// Where a tunnel comes out: the provider that carries it, and what the provider's program is given.
public enum TunnelProvider: String, CaseIterable, Codable, Sendable {
    case ssh, ngrok, cloudflare

    /// The provider's own program, looked up on PATH.
    public var program: String {
        switch self {
        case .ssh: "ssh"
        case .ngrok: "ngrok"
        case .cloudflare: "cloudflared"
        }
    }

    /// The environment variable the provider's token comes from (never a flag: argv is public).
    public var tokenVariable: String? {
        switch self {
        case .ssh: nil
        case .ngrok: "NGROK_AUTHTOKEN"
        case .cloudflare: "TUNNEL_TOKEN"
        }
    }
}

/// The far end of an ssh reverse tunnel: `ssh -R [bind:]remotePort:gateway user@host`.
public struct SSHEndpoint: Sendable, Equatable {
    public var host: String
    public var user: String?
    public var sshPort: Int
    public var remotePort: Int
    /// The address sshd binds the forwarded port to (needs `GatewayPorts clientspecified` on the server).
    public var bindAddress: String?
    public var identityFile: String?
    public var knownHostsFile: String?

    public init(host: String, user: String? = nil, sshPort: Int = 22, remotePort: Int, bindAddress: String? = nil,
                identityFile: String? = nil, knownHostsFile: String? = nil) {
        self.host = host
        self.user = user
        self.sshPort = sshPort
        self.remotePort = remotePort
        self.bindAddress = bindAddress
        self.identityFile = identityFile
        self.knownHostsFile = knownHostsFile
    }
}

/// The command line and environment that start one tunnel to the gateway, and the public address
/// when it is known before the program runs (ssh); ngrok's comes from its local API afterwards.
/// Pure: built from the request alone, so that what would run can be checked without the program.
public struct TunnelPlan: Sendable, Equatable {
    public var provider: TunnelProvider
    public var arguments: [String]
    /// Added to the inherited environment: the provider's token lives here, never in `arguments`.
    public var environment: [String: String]
    public var publicHost: String?
    public var publicPort: Int?
    /// A line of the program's log that says the tunnel is up (nil: ask the provider's API).
    public var readyMarker: String?

    /// `ssh -N -R`: the remote port forwards to the gateway on this machine. Batch mode (no
    /// password prompts: keys only), and ssh exits when the forward cannot be set up. `-v` makes
    /// ssh log "remote forward success", which is how the toolkit knows the tunnel is up.
    public static func ssh(_ endpoint: SSHEndpoint, gatewayHost: String, gatewayPort: Int) -> TunnelPlan {
        var arguments = ["-N", "-v", "-p", String(endpoint.sshPort),
                         "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
                         "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=3"]
        if let identity = endpoint.identityFile { arguments += ["-i", identity, "-o", "IdentitiesOnly=yes"] }
        if let knownHosts = endpoint.knownHostsFile {
            arguments += ["-o", "UserKnownHostsFile=\(knownHosts)", "-o", "StrictHostKeyChecking=yes"]
        }
        let bind = endpoint.bindAddress.map { "\($0):" } ?? ""
        arguments += ["-R", "\(bind)\(endpoint.remotePort):\(gatewayHost):\(gatewayPort)"]
        arguments.append(endpoint.user.map { "\($0)@\(endpoint.host)" } ?? endpoint.host)
        return TunnelPlan(provider: .ssh, arguments: arguments, environment: [:],
                          publicHost: endpoint.bindAddress.flatMap { $0 == "0.0.0.0" || $0 == "*" ? nil : $0 } ?? endpoint.host,
                          publicPort: endpoint.remotePort, readyMarker: "remote forward success")
    }

    /// `ngrok tcp`: a TCP endpoint on ngrok's edge; the public address is read from ngrok's local API.
    public static func ngrok(token: String, gatewayHost: String, gatewayPort: Int) -> TunnelPlan {
        TunnelPlan(provider: .ngrok,
                   arguments: ["tcp", "\(gatewayHost):\(gatewayPort)", "--log", "stdout", "--log-format", "logfmt"],
                   environment: ["NGROK_AUTHTOKEN": token], publicHost: nil, publicPort: nil, readyMarker: nil)
    }

    /// `cloudflared tunnel run` for a tunnel made in Cloudflare's dashboard, its token in
    /// TUNNEL_TOKEN; `--url` points it at the gateway. Clients reach it through `hostname` with
    /// `cloudflared access tcp`, so there is no public port.
    public static func cloudflare(token: String, hostname: String, gatewayHost: String, gatewayPort: Int) -> TunnelPlan {
        TunnelPlan(provider: .cloudflare,
                   arguments: ["tunnel", "--no-autoupdate", "--url", "tcp://\(gatewayHost):\(gatewayPort)", "run"],
                   environment: ["TUNNEL_TOKEN": token], publicHost: hostname, publicPort: nil,
                   readyMarker: "Registered tunnel connection")
    }
}

/// The public address in the answer of ngrok's local API (`GET /api/tunnels`): the first tunnel
/// whose `public_url` is `tcp://HOST:PORT`.
public enum NgrokTunnels {
    struct Answer: Decodable {
        struct Tunnel: Decodable {
            var publicURL: String
            enum CodingKeys: String, CodingKey { case publicURL = "public_url" }
        }
        var tunnels: [Tunnel]
    }

    public static func publicAddress(from json: [UInt8]) -> (host: String, port: Int)? {
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(json)) else { return nil }
        for tunnel in answer.tunnels where tunnel.publicURL.hasPrefix("tcp://") {
            let address = tunnel.publicURL.dropFirst("tcp://".count)
            guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
                  colon > address.startIndex else { continue }
            return (String(address[..<colon]), port)
        }
        return nil
    }
}
