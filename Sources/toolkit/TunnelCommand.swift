import Agent
import AgentAPI
import ArgumentParser
import Foundation
import Infrastructure
import Source
import Tunnels

/// What `tunnel` and its alias `expose` take.
struct TunnelOptions: ParsableArguments {
    @Option(help: "ssh (a reverse tunnel to a host you name), ngrok or cloudflare.") var provider: TunnelProvider?
    @Flag(help: "Show the running tunnel and its public address.") var status = false
    @Flag(help: "Stop the tunnel this toolkit started.") var stop = false
    @Option(parsing: .unconditional, help: "The port to expose: only the gateway's (ETL tools' port) is allowed; default it.") var port: Int?
    @Option(help: "ssh: the host the tunnel comes out on.") var host: String?
    @Option(help: "ssh: the account on --host (default: ssh's own choice).") var user: String?
    @Option(name: .customLong("ssh-port"), parsing: .unconditional, help: "ssh: sshd's port on --host (default 22).") var sshPort = 22
    @Option(name: .customLong("remote-port"), parsing: .unconditional, help: "ssh: the port opened on --host (default 3306).") var remotePort = 3306
    @Option(name: .customLong("remote-bind"), help: "ssh: the address on --host the port binds to (sshd needs GatewayPorts clientspecified).") var remoteBind: String?
    @Option(help: "ssh: private key file (ssh -i); keys only, never a password.") var identity: String?
    @Option(name: .customLong("known-hosts"), help: "ssh: known_hosts file holding --host's key (checked strictly).") var knownHosts: String?
    @Option(help: "cloudflare: the public hostname routed to this tunnel in Cloudflare's dashboard.") var hostname: String?
    @Option(name: .customLong("ngrok-api"), help: "ngrok: its local API, HOST:PORT (default 127.0.0.1:4040).") var ngrokAPI = "127.0.0.1:4040"
    @Flag(name: .customLong("allow-default-passwords"), help: "Expose even though the admin or ETL password is still the default (warns).") var allowDefaultPasswords = false
    @Option(name: .customLong("authtoken"), help: .hidden) var authtoken: String?
    @Option(name: .customLong("token"), help: .hidden) var token: String?
    @Option(help: "State directory (env TOOLKIT_HOME).") var home: String?
    @OptionGroup var output: OutputFlags

    func validate() throws {
        if authtoken != nil { throw ValidationError("--authtoken is not taken (argv is visible to every account): set NGROK_AUTHTOKEN in the environment") }
        if token != nil { throw ValidationError("--token is not taken (argv is visible to every account): set TUNNEL_TOKEN (cloudflare) or NGROK_AUTHTOKEN (ngrok) in the environment") }
        let actions = [("--status", status), ("--stop", stop), ("--provider", provider != nil)].filter(\.1).map(\.0)
        guard actions.count == 1 else {
            throw ValidationError(actions.isEmpty ? "tunnel needs --provider ssh|ngrok|cloudflare, --status or --stop"
                                                  : "\(actions.joined(separator: " and ")) go one at a time")
        }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be a port number from 1 to 65535, got \(port)") }
        for (flag, value) in [("--ssh-port", sshPort), ("--remote-port", remotePort)] where !(1...65535).contains(value) {
            throw ValidationError("\(flag) must be a port number from 1 to 65535, got \(value)")
        }
        let sshOnly = [("--host", host != nil), ("--user", user != nil), ("--remote-bind", remoteBind != nil),
                       ("--identity", identity != nil), ("--known-hosts", knownHosts != nil)].filter(\.1).map(\.0)
        if provider != .ssh, let flag = sshOnly.first { throw ValidationError("\(flag) goes only with --provider ssh") }
        if provider != .cloudflare, hostname != nil { throw ValidationError("--hostname goes only with --provider cloudflare") }
        if provider == .ssh {
            guard let host, Self.isPlainHost(host) else {
                throw ValidationError("--provider ssh needs --host: a host name or address (letters, digits, '.', '-', ':'), got '\(host ?? "")'")
            }
            if let user, !Self.isPlainHost(user) { throw ValidationError("--user must be a plain account name, got '\(user)'") }
            if let remoteBind, !Self.isPlainHost(remoteBind) { throw ValidationError("--remote-bind must be an address, got '\(remoteBind)'") }
            for (flag, file) in [("--identity", identity), ("--known-hosts", knownHosts)] {
                if let file, !FileManager.default.isReadableFile(atPath: file) { throw ValidationError("\(flag) \(file): no readable file") }
            }
        }
        if provider == .cloudflare, hostname.map(Self.isPlainHost) != true {
            throw ValidationError("--provider cloudflare needs --hostname: the public hostname of the tunnel in Cloudflare's dashboard")
        }
        if UpCommand.hostPort(ngrokAPI) == nil { throw ValidationError("--ngrok-api must be HOST:PORT, got '\(ngrokAPI)'") }
    }

    /// Host names, addresses and account names as ssh takes them: no option-looking or shell text.
    static func isPlainHost(_ text: String) -> Bool {
        !text.isEmpty && !text.hasPrefix("-") && text.count <= 253
            && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ".-_:".contains($0)) }
    }

    func run() throws {
        let state = StateDirectory.resolve(flag: home)
        if status {
            let current = TunnelProcess.state(state)
            output.emit(current)
            if current.record != nil && !current.running { throw ExitCode(1) }
            return
        }
        if stop {
            let stopped = TunnelProcess.stop(state: state)
            output.emit(TunnelState(running: false, record: stopped))
            return
        }
        guard let provider else { return }
        try start(provider, state: state)
    }

    private func start(_ provider: TunnelProvider, state: StateDirectory) throws {
        guard let config = try SourceConfig.load(from: state.configFile), AgentDiscovery.runningPID(state: state) != nil else {
            throw ToolkitError("no source with a running agent in \(state.root.path): start it with `toolkit up` first (the tunnel exposes its gateway)")
        }
        if let port, port != config.publicPort {
            throw ToolkitError.usage("--port must be the gateway's port \(config.publicPort), got \(port): the toolkit never exposes the server's private port")
        }
        let defaults = [("admin", config.adminPassword == Target.defaultAdminPassword, "MYSQL_ROOT_PASSWORD"),
                        ("ETL", config.etlPassword == Target.defaultETLPassword, "TOOLKIT_ETL_PASSWORD")].filter(\.1)
        if !defaults.isEmpty {
            let which = defaults.map(\.0).joined(separator: " and ")
            let how = defaults.map(\.2).joined(separator: " and ")
            guard allowDefaultPasswords else {
                throw ToolkitError("refusing to expose a source whose \(which) password is still the default: recreate it with \(how) set (`toolkit down --purge`, then `toolkit up`), or pass --allow-default-passwords")
            }
            FileHandle.standardError.write(Data("warning: exposing a source whose \(which) password is still the default\n".utf8))
        }
        let current = TunnelProcess.state(state)
        if current.running, let record = current.record {
            throw ToolkitError("a \(record.provider.rawValue) tunnel is already running (pid \(record.pid)): `toolkit tunnel --stop` first")
        }
        guard let executable = ChildProcess.find([provider.program]) else {
            throw ToolkitError("\(provider.program) is not installed (not on PATH): --provider \(provider.rawValue) drives the provider's own program; install it, or use --provider ssh")
        }
        let token = provider.tokenVariable.flatMap { env($0) }
        if let variable = provider.tokenVariable, token == nil {
            throw ToolkitError("--provider \(provider.rawValue) needs its token in the environment variable \(variable)")
        }
        let gatewayHost = config.listenHost == "0.0.0.0" ? "127.0.0.1" : config.listenHost
        let plan: TunnelPlan
        switch provider {
        case .ssh:
            plan = .ssh(SSHEndpoint(host: host ?? "", user: user, sshPort: sshPort, remotePort: remotePort, bindAddress: remoteBind,
                                    identityFile: identity, knownHostsFile: knownHosts),
                        gatewayHost: gatewayHost, gatewayPort: config.publicPort)
        case .ngrok:
            plan = .ngrok(token: token ?? "", gatewayHost: gatewayHost, gatewayPort: config.publicPort)
        case .cloudflare:
            plan = .cloudflare(token: token ?? "", hostname: hostname ?? "", gatewayHost: gatewayHost, gatewayPort: config.publicPort)
        }
        let api = UpCommand.hostPort(ngrokAPI) ?? ("127.0.0.1", 4040)
        let record = try TunnelProcess.start(plan, executable: executable, gatewayPort: config.publicPort, state: state,
                                             ngrokAPI: (api.0, api.1))
        output.emit(TunnelState(running: true, record: record))
    }
}

struct TunnelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tunnel",
        abstract: "Expose the gateway to a SaaS ETL tool through ssh, ngrok or cloudflare.",
        discussion: """
        Only the gateway is exposed (faults and measurements apply), never the server's private port.
          toolkit tunnel --provider ssh --host bastion.example.com --remote-port 3306 [--user U] [--identity KEY]
          NGROK_AUTHTOKEN=... toolkit tunnel --provider ngrok
          TUNNEL_TOKEN=... toolkit tunnel --provider cloudflare --hostname db.example.com
          toolkit tunnel --status | --stop          (`toolkit down` stops it too)
        Tokens come from the environment, never from flags.
        """)

    @OptionGroup var options: TunnelOptions
    func run() throws { try options.run() }
}

struct ExposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "expose", abstract: "The original toolkit's name for `tunnel`.", shouldDisplay: false)

    @OptionGroup var options: TunnelOptions
    func run() throws { try options.run() }
}

extension TunnelProvider: ExpressibleByArgument {}
