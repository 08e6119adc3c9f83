import AgentAPI
import Faults
import Foundation
import Gateway
import Infrastructure
import Measurements
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Source

/// `toolkit agent`: the long-running process that owns the gateway, the faults and their timers,
/// the journal and the control API. When it starts after a predecessor died, it puts back the
/// faults that were in force (until their recorded deadlines) and undoes the rest; it restores
/// everything when it is told to stop (SIGTERM, SIGINT or `POST /shutdown`).
public enum AgentRunner {
    public struct Settings: Sendable {
        public var state: StateDirectory
        public var config: SourceConfig
        /// Why the supervisor started this agent again (the predecessor's end), for the journal.
        public var restartedAfter: String?
        public init(state: StateDirectory, config: SourceConfig, restartedAfter: String? = nil) {
            self.state = state
            self.config = config
            self.restartedAfter = restartedAfter
        }
    }

    public static func run(_ settings: Settings) async throws {
        let state = settings.state
        let config = settings.config
        try AgentLog.bootstrap(state: state)
        let log = AgentLog.logger("agent")
        guard let control = ControlAddress(config.control ?? "unix") else {
            throw ToolkitError("the source's config has control '\(config.control ?? "")'; it must be \(ControlAddress.usage)")
        }
        FileLimit.raiseToHard()
        let pidFile = state.agentPIDFile
        if let pid = AgentDiscovery.runningPID(state: state), pid != getpid() {
            throw ToolkitError("an agent already runs for \(state.root.path) (pid \(pid))")
        }
        try String(getpid()).write(to: pidFile, atomically: true, encoding: .utf8)
        defer { remove(pidFile, "the agent's pid file", log: log) }
        signal(SIGPIPE, SIG_IGN)

        let leftovers = LeftoverFile(url: state.leftoverFile)
        let scheduleFile = ScheduleFile(state: state)
        let (savedFaults, savedProblem) = scheduleFile.saved.load()
        if let savedProblem { log.error("\(savedProblem)", metadata: ["file": "\(scheduleFile.url.path)"]) }
        let iptables = IptablesBackend(port: config.publicPort)
        let server: ManagedServer? = config.isManaged ? try ManagedServer.locate(state: state) : nil

        // Undo what a crashed predecessor left (our iptables chain, a server stopped by a service
        // fault), except what a fault still in force needs: that one goes on without a gap.
        let inForce = savedFaults?.inForce(at: Date().timeIntervalSince1970) ?? []
        let keepsChain = inForce.contains { ($0.type == .reject || $0.type == .timeout) && $0.backend == .iptables }
        let keepsServerDown = inForce.contains { $0.type == .service }
        var cleaned: [String] = []
        if let iptables, iptables.isInstalled(), !keepsChain {
            try iptables.remove()
            cleaned.append("removed iptables chain \(iptables.chain)")
        }
        if leftovers.serviceStopped, !keepsServerDown, let server, server.runningPID() == nil {
            _ = try server.start()
            cleaned.append("restarted the server a service fault had stopped")
        }
        leftovers.record(iptables: keepsChain && iptables?.isInstalled() == true,
                         serviceStopped: keepsServerDown && leftovers.serviceStopped)

        // After the clean-up: a journal that cannot be read (or an old one being migrated) never
        // keeps a predecessor's rules in place.
        let journal = try Journal(files: JournalDirectory(state: state),
                                  budgetBytes: (config.journalBudgetMiB ?? JournalDirectory.defaultBudgetMiB) << 20)
        defer { journal.close() }
        if let migration = try JournalMigration(journal: journal) { _ = try migration.run() }

        let tls = try TLSTermination.forSource(config, state: state)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        let observer = JournalingObserver(journal: journal)
        let gateway = Gateway(listenHost: config.listenHost, listenPort: config.publicPort,
                              upstreamHost: config.host, upstreamPort: config.serverPort,
                              group: group, observer: observer, tls: tls)
        let backend = config.backend.flatMap(BackendKind.init(rawValue:)) ?? .gateway
        let controller = FaultController(gateway: gateway, backend: backend, iptables: iptables, server: server,
                                         journal: journal, leftovers: leftovers, schedule: scheduleFile, taps: observer.live)
        if let reason = settings.restartedAfter {
            journal.record(.agentRestarted) { $0.detail = reason }
        }
        let startedAt = JournalEvent.timestamp(Date())
        let started = "agent started (pid \(getpid()), backend \(backend.rawValue), listening on \(config.listenHost):\(config.publicPort), upstream \(config.host):\(config.serverPort), tls \(tls == nil ? (config.tlsMode == .off ? "off" : "passthrough") : "terminate"))"
            + (cleaned.isEmpty ? "" : "; " + cleaned.joined(separator: "; "))
        journal.record(.note) { $0.detail = started }
        log.info("\(started)", metadata: settings.restartedAfter.map { ["restarted_after": "\($0)"] } ?? [:])
        // The faults a predecessor had in force go on, before the gateway listens: a resumed
        // reject keeps the public port closed from the first moment.
        if let record = savedFaults, !record.faults.isEmpty {
            let (done, failures) = await controller.resume(record)
            if !done.isEmpty || !failures.isEmpty {
                journal.record(.note) { $0.detail = "faults of the previous agent: " + (done + failures).joined(separator: "; ") }
                if !done.isEmpty { log.notice("faults of the previous agent: \(done.joined(separator: "; "))") }
            }
        }

        do {
            try await gateway.start()
        } catch {
            await shutDown(group, log: log)
            throw ToolkitError("the gateway cannot listen on \(config.listenHost):\(config.publicPort): \(error)")
        }

        let shutdown = AsyncStream<Void>.makeStream()
        let statusOf: @Sendable () async -> AgentStatus = {
            let windows = journal.windows()
            return AgentStatus(pid: getpid(), startedAt: startedAt, backend: backend,
                               listen: "\(config.listenHost):\(config.publicPort)", upstream: "\(config.host):\(config.serverPort)",
                               gatewayListening: gateway.listening, connections: gateway.connectionCount,
                               faults: await controller.status(), windows: windows.recent, windowsTotal: windows.total,
                               journal: journal.files.url.path, notes: await controller.notes)
        }
        let router = ControlRouter(controller: controller, journal: journal, status: statusOf,
                                   shutdown: { shutdown.continuation.yield() },
                                   runHolder: { RunLock.currentHolder(state: state) },
                                   lineage: { ProcessLineage.ancestors(of: $0) }, log: log)
        // The Unix socket is always the owner's way in, whatever happens on TCP.
        var listeners: [ControlServer.Listener] = [.unix(path: state.agentSocketFile.path)]
        if case .tcp(let host, let port) = control {
            let token = ControlToken.random()
            try OwnedPath.createPrivate(state.agentTokenFile, contents: Data(token.utf8))
            listeners.append(.tcp(host: host, port: port, token: token))
        }
        defer { remove(state.agentTokenFile, "the control token file", log: log, ifPresent: true) }
        var controlChannels: [(ControlServer, NIOAsyncChannel<ControlServer.Connection, Never>)] = []
        for listener in listeners {
            let server = ControlServer(listener: listener, group: group, route: router.answer)
            do {
                controlChannels.append((server, try await server.bind()))
            } catch {
                for (_, channel) in controlChannels { try? await channel.channel.close() }
                await gateway.stop()
                await shutDown(group, log: log)
                throw ToolkitError("the control API cannot listen on \(listener): \(error)")
            }
        }
        chmod(state.agentSocketFile.path, 0o600)
        defer { remove(state.agentSocketFile, "the control socket", log: log, ifPresent: true) }

        let signals = [SIGTERM, SIGINT, SIGHUP].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { shutdown.continuation.yield() }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }

        await withTaskGroup(of: Void.self) { group in
            for (server, channel) in controlChannels {
                group.addTask {
                    // Serving ends only when the agent stops (cancelled), or with an error: the agent then stops.
                    do { try await server.serve(channel) } catch is CancellationError {} catch {
                        log.critical("the control API stopped serving; stopping the agent", metadata: ["error": "\(error)"])
                    }
                }
            }
            group.addTask {
                var iterator = shutdown.stream.makeAsyncIterator()
                _ = await iterator.next()
            }
            _ = await group.next()
            group.cancelAll()
        }
        // Everything back before we go: nothing of ours may outlive the agent.
        var restored = "every fault restored"
        do { try await controller.restoreAll() } catch {
            let message = (error as? AgentFailure)?.message ?? "\(error)"
            log.error("restoring everything before the agent exits failed", metadata: ["error": "\(message)"])
            restored = "restoring failed: \(message)"
        }
        await controller.stopObserving()
        journal.record(.note) { $0.detail = "agent stopped (pid \(getpid())); \(restored)" }
        await gateway.stop()
        for (_, channel) in controlChannels {
            do { try await channel.channel.close() } catch ChannelError.alreadyClosed {} catch {
                log.warning("closing the control API's listener failed", metadata: ["error": "\(error)"])
            }
        }
        await shutDown(group, log: log)
        log.info("agent stopped", metadata: ["pid": "\(getpid())"])
    }

    private static func shutDown(_ group: MultiThreadedEventLoopGroup, log: Logger) async {
        do { try await group.shutdownGracefully() } catch {
            log.warning("shutting down the event loops failed", metadata: ["error": "\(error)"])
        }
    }

    /// Removes a file of the agent's on the way out; one left behind is logged (a stale pid, socket
    /// or token). `ifPresent`: the file may rightly be gone already (no token without TCP control;
    /// the socket's listener removes it when it closes).
    private static func remove(_ url: URL, _ what: String, log: Logger, ifPresent: Bool = false) {
        do { try FileManager.default.removeItem(at: url) } catch {
            if ifPresent, !FileManager.default.fileExists(atPath: url.path) { return }
            log.warning("cannot remove \(what)", metadata: ["file": "\(url.path)", "error": "\(error)"])
        }
    }

    static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
