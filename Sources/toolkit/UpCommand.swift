import Agent
import AgentAPI
import ArgumentParser
import Faults
import Flavor
import Foundation
import Infrastructure
import Pipeline
import Source
import Tunnels

struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Create (first time), start and bootstrap the local CDC-ready source, and its agent.",
        discussion: """
        ETL tools connect to the agent's gateway on --port; the server itself listens on a private \
        loopback port. Passwords come from the environment, never from flags: MYSQL_ROOT_PASSWORD \
        (admin, default rootpassword) and TOOLKIT_ETL_PASSWORD (default hevopassword). \
        MYSQL_DATABASE names the database. With --upstream, no server is started: the gateway fronts \
        an existing one.
        """
    )

    @Option(parsing: .unconditional, help: "Port ETL tools connect to (the gateway).")
    var port = 3306

    @Option(help: "Address the gateway listens on (0.0.0.0 for every interface).")
    var listen = "127.0.0.1"

    @Option(help: "Fault backend: gateway (anywhere) or iptables (root / NET_ADMIN). Default: iptables inside a container that allows it, else gateway.")
    var backend: BackendKind?

    @Option(help: "Front an existing server at HOST:PORT instead of starting one.")
    var upstream: String?

    @Option(name: .customLong("etl-user"), help: "The ETL user (env TOOLKIT_ETL_USER). Default hevo.")
    var etlUser: String?

    @Option(help: "Where the agent's control API listens: unix (default; a socket only this account can use) or tcp:ADDR:PORT (containers; requests need the token in run/agent.token).")
    var control: String?

    @Option(help: "TLS: terminate (default: the server serves TLS with the toolkit's CA in $TOOLKIT_HOME/tls/, and the gateway terminates TLS clients so they are observed like plain ones), passthrough (the gateway relays TLS blind; not observable), off (the server offers no TLS). Takes effect when the server starts. With --upstream the default is passthrough.")
    var tls: TLSMode?
    @Option(name: .customLong("journal-budget"), parsing: .unconditional,
            help: "MiB the agent's journal segments may take before the oldest are deleted (16 to 1048576, default 512; window summaries are kept for ever). Kept in the source's config; a running agent takes it at its next start.")
    var journalBudget: Int?

    @Option(name: .customLong("server-option"), parsing: .unconditionalSingleValue,
            help: "KEY=VALUE added to the server's [mysqld] options (repeatable; kept in toolkit.json, replacing the recorded ones; options the toolkit owns are refused). $TOOLKIT_HOME/conf.d/*.cnf is read after them. A running server takes them at --restart.")
    var serverOption: [String] = []

    @Flag(help: "Restart a running server so that changed options (--server-option, conf.d, --tls) take effect. Refused while a fault is active.")
    var restart = false

    @Option(help: "State directory (env TOOLKIT_HOME).")
    var home: String?

    @OptionGroup var output: OutputFlags

    func validate() throws {
        do { _ = try ServerOption.parseAll(serverOption) } catch { throw ValidationError("\(error)") }
        if upstream != nil, !serverOption.isEmpty || restart {
            throw ValidationError("--server-option and --restart are for the server up starts; with --upstream the server is not ours")
        }
        // Checked before anything starts: the agent would refuse it only after the server is up.
        do { _ = try AgentLog.level() } catch { throw ValidationError("\(error)") }
        if let journalBudget, !(16...1_048_576).contains(journalBudget) {
            throw ValidationError("--journal-budget must be MiB from 16 to 1048576, got \(journalBudget)")
        }
        if let control, ControlAddress(control) == nil {
            throw ValidationError("--control must be \(ControlAddress.usage), got '\(control)'")
        }
        guard (1...65535).contains(port) else {
            throw ValidationError("--port must be a port number from 1 to 65535, got \(port)")
        }
        if let etlUser, !SQLText.isPlainIdentifier(etlUser) || etlUser.count > 32 {
            throw ValidationError("--etl-user must be a plain name of at most 32 characters, got '\(etlUser)'")
        }
        if let database = env("MYSQL_DATABASE"), !SQLText.isPlainIdentifier(database) {
            throw ValidationError("MYSQL_DATABASE must be a plain name (letters, digits, _ and $), got '\(database)'")
        }
        if inet_addr(listen) == INADDR_NONE && listen != "255.255.255.255" {
            throw ValidationError("--listen must be an IPv4 address such as 127.0.0.1 or 0.0.0.0, got '\(listen)'")
        }
        if let upstream, Self.hostPort(upstream) == nil {
            throw ValidationError("--upstream must be HOST:PORT with a port from 1 to 65535, got '\(upstream)'")
        }
    }

    static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port), colon > text.startIndex else { return nil }
        return (String(text[..<colon]), port)
    }

    func run() throws {
        let state = StateDirectory.resolve(flag: home)
        let agentRunning = AgentDiscovery.runningPID(state: state) != nil
        var request = ManagedSource.UpRequest(
            publicPort: port,
            database: env("MYSQL_DATABASE") ?? Target.defaultDatabase,
            adminPassword: env("MYSQL_ROOT_PASSWORD") ?? Target.defaultAdminPassword,
            etlUser: etlUser ?? env("TOOLKIT_ETL_USER") ?? Target.defaultETLUser,
            etlPassword: env("TOOLKIT_ETL_PASSWORD") ?? Target.defaultETLPassword,
            listenHost: listen, backend: backend?.rawValue ?? BackendChoice.default(), privateServerPort: true)
        request.control = control
        request.publicPortHeldByAgent = agentRunning
        request.tls = tls
        request.serverOptions = serverOption.isEmpty ? nil : try ServerOption.parseAll(serverOption)
        request.restart = restart
        if restart, agentRunning {
            let status: AgentStatus
            do { status = try AgentDiscovery.client(state: state).status() } catch {
                throw ToolkitError("cannot ask the agent whether a fault is active before restarting the server: \(error)")
            }
            if !status.faults.isEmpty {
                throw ToolkitError.blocked("a fault is active (\(status.faults.map(\.fault.type.rawValue).joined(separator: ", "))): "
                    + "run `toolkit network --up` first, then `toolkit up --restart`")
            }
        }
        let source = ManagedSource(state: state)
        var result: UpResult
        if let upstream, let (host, upstreamPort) = Self.hostPort(upstream) {
            if agentRunning { AgentProcess.stop(state: state) }
            result = try source.front(upstreamHost: host, upstreamPort: upstreamPort, request: request)
        } else {
            result = try source.up(request)
        }
        if let journalBudget, var config = try SourceConfig.load(from: state.configFile) {
            config.journalBudgetMiB = journalBudget
            try config.save(to: state.configFile)
        }
        let agentPID: pid_t
        if let running = AgentDiscovery.runningPID(state: state) {
            // An agent still migrating an earlier version's journal (a first up gave up) is waited for too.
            if (try? AgentDiscovery.client(state: state).status())?.migration != nil {
                agentPID = try AgentProcess.awaitAnswer(state: state, from: AgentSupervisor.running(state: state)?.pid ?? running,
                                                        progress: { writeError("\($0)") })
            } else {
                agentPID = running
            }
        } else {
            agentPID = try AgentProcess.start(state: state, executable: BackendChoice.selfExecutable(), progress: { writeError("\($0)") })
        }
        result.agentPID = Int(agentPID)
        result.backend = request.backend
        output.emit(result)
    }
}

struct DownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Restore every fault, stop the agent and the server cleanly; data stays unless --purge.")

    @Flag(help: "Also remove the data directory, journal and configuration that up created.")
    var purge = false

    @Flag(help: "Stop the source even while a run holds it (that run ends INCONCLUSIVE, saying so).")
    var force = false

    @Option(help: "State directory (env TOOLKIT_HOME).")
    var home: String?

    @OptionGroup var output: OutputFlags

    func run() throws {
        let state = StateDirectory.resolve(flag: home)
        if let holder = RunLock.currentHolder(state: state) {
            let question = "\(holder.description) holds the source; stopping it ends that run INCONCLUSIVE. Stop it anyway? [y/N] "
            guard force || Self.confirmed(question) else {
                throw ToolkitError.blocked("\(holder.description) holds the source: wait for it to end, or pass --force to stop the source anyway (that run ends INCONCLUSIVE)")
            }
            // The run reads this from the journal and says who stopped its source.
            _ = try? AgentDiscovery.client(state: state).note(
                JournalNote(command: "down", detail: "toolkit down\(force ? " --force" : "") while \(holder.description) held the source"))
        }
        TunnelProcess.stop(state: state)
        try ReplicaPipeline(home: state).down(purge: purge)
        AgentProcess.stop(state: state)
        try removeDeadAgentsChain(state)
        output.emit(try ManagedSource(state: state).down(purge: purge))
    }

    /// Asked on a terminal only; anywhere else (a script, CI) the answer is no.
    private static func confirmed(_ question: String) -> Bool {
        guard isatty(STDIN_FILENO) == 1 else { return false }
        writeErrorInline(question)
        return ["y", "yes"].contains(readLine()?.lowercased().trimmingCharacters(in: .whitespaces) ?? "")
    }

    /// An agent killed together with its supervisor during a fault leaves its iptables chain
    /// behind (the next agent would remove it; `down` starts none): remove ours, and only ours.
    private func removeDeadAgentsChain(_ state: StateDirectory) throws {
        guard AgentDiscovery.runningPID(state: state) == nil,
              let config = try? SourceConfig.load(from: state.configFile),
              let iptables = IptablesBackend(port: config.publicPort), iptables.isInstalled() else { return }
        do {
            try iptables.remove()
        } catch {
            throw ToolkitError("the iptables chain \(iptables.chain) of a dead agent could not be removed: \(error)")
        }
    }
}

/// Which backend a new agent uses, and where this binary is.
enum BackendChoice {
    /// iptables inside a container where it works (tried: our own chain can be created, so the
    /// container has NET_ADMIN), else the gateway. On a host the firewall is the user's: the gateway
    /// unless `--backend iptables` is asked for.
    static func `default`() -> String {
        if isContainer(), let iptables = IptablesBackend(port: 1), iptables.isUsable() { return "iptables" }
        return "gateway"
    }

    /// Docker's and podman's marker files, the `container` variable their runtimes (and systemd-nspawn,
    /// LXC) give process 1, or a container's cgroup.
    static func isContainer() -> Bool {
        if ["/.dockerenv", "/run/.containerenv"].contains(where: { FileManager.default.fileExists(atPath: $0) }) { return true }
        if let environ = try? Data(contentsOf: URL(fileURLWithPath: "/proc/1/environ")),
           environ.split(separator: 0).contains(where: { $0.starts(with: Data("container=".utf8)) }) { return true }
        let cgroup = (try? String(contentsOfFile: "/proc/1/cgroup", encoding: .utf8)) ?? ""
        return ["docker", "libpod", "containerd", "kubepods", "lxc"].contains { cgroup.contains($0) }
    }

    static func selfExecutable() -> String {
        ChildProcess.selfExecutable ?? CommandLine.arguments[0]
    }
}

func env(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
}
