import AgentAPI
import Faults
import Foundation
import Gateway
import Infrastructure
import Measurements
import Logging
import MariaDB
import NIOCore
import NIOHTTP1
import NIOPosix
import Source
import Synchronization

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
        // A `journal.jsonl` of an earlier version is migrated once the control API listens (it
        // answers `/status` with the progress and refuses faults) and before anything else is
        // journaled or the gateway opens (ETL connections are refused until it is done).
        let migration = try JournalMigration(journal: journal)
        let migrating = Flag(migration != nil)
        let stopping = Flag(false)

        let tls = try TLSTermination.forSource(config, state: state)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(2, System.coreCount))
        var observer = JournalingObserver(journal: journal)
        observer.counter = TransactionEvents.counter(ConnectionOptions(
            host: config.host, port: config.serverPort, user: config.adminUser, password: config.adminPassword))
        let gateway = Gateway(listenHost: config.listenHost, listenPort: config.publicPort,
                              upstreamHost: config.host, upstreamPort: config.serverPort,
                              group: group, observer: observer, tls: tls)
        let backend = config.backend.flatMap(BackendKind.init(rawValue:)) ?? .gateway
        let controller = FaultController(gateway: gateway, backend: backend, iptables: iptables, server: server,
                                         journal: journal, leftovers: leftovers, schedule: scheduleFile, taps: observer.live)
        let startedAt = JournalEvent.timestamp(Date())

        let shutdown = AsyncStream<Void>.makeStream()
        let stop: @Sendable () -> Void = {
            stopping.set(true)
            shutdown.continuation.yield()
        }
        let migrationProgress: @Sendable () -> JournalMigrationProgress? = {
            migrating.isSet ? migration?.progress : nil
        }
        let statusOf: @Sendable () async -> AgentStatus = {
            // While migrating, the windows are still being read in (and would wait for each batch).
            let progress = migrationProgress()
            let windows = progress == nil ? journal.windows() : (recent: [], total: 0)
            var status = AgentStatus(pid: getpid(), startedAt: startedAt, backend: backend,
                                     listen: "\(config.listenHost):\(config.publicPort)", upstream: "\(config.host):\(config.serverPort)",
                                     gatewayListening: gateway.listening, connections: gateway.connectionCount,
                                     faults: await controller.status(), windows: windows.recent, windowsTotal: windows.total,
                                     journal: journal.files.url.path, notes: await controller.notes, migration: progress)
            if progress == nil { status.reconnects = journal.reconnects() }
            return status
        }
        let router = ControlRouter(controller: controller, journal: journal, status: statusOf, migration: migrationProgress,
                                   shutdown: stop,
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
        defer { remove(state.agentSocketFile, "the control socket", log: log, ifPresent: true) }

        let signals = [SIGTERM, SIGINT, SIGHUP].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler(handler: stop)
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }

        var controlChannels: [ControlChannel] = []
        if let migration {
            do { controlChannels = try await listen(listeners, group: group, router: router, stop: stop, log: log) } catch {
                await shutDown(group, log: log)
                throw error
            }
            let start = migration.progress
            log.notice("migrating the journal of an earlier version; the gateway opens when it is done",
                       metadata: ["file": "\(journal.files.legacyFile.path)", "events": "\(start.events) of \(start.totalEvents)"])
            let finished = await withCheckedContinuation { (done: CheckedContinuation<Result<Bool, any Error>, Never>) in
                DispatchQueue.global().async {
                    done.resume(returning: Result { try migration.run(until: { stopping.isSet }) })
                }
            }
            if case .success(true) = finished {} else {
                await close(controlChannels, log: log)
                await shutDown(group, log: log)
                if case .failure(let error) = finished {
                    throw ToolkitError("migrating the journal of an earlier version (\(journal.files.legacyFile.path)) failed: \(error)")
                }
                log.info("agent stopped during the journal's migration; the next start goes on with it", metadata: ["pid": "\(getpid())", "progress": "\(migration.progress)"])
                return
            }
        }

        if let reason = settings.restartedAfter {
            journal.record(.agentRestarted) { $0.detail = reason }
        }
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
            await close(controlChannels, log: log)
            await shutDown(group, log: log)
            throw ToolkitError("the gateway cannot listen on \(config.listenHost):\(config.publicPort): \(error)")
        }
        if controlChannels.isEmpty {
            do { controlChannels = try await listen(listeners, group: group, router: router, stop: stop, log: log) } catch {
                await gateway.stop()
                await shutDown(group, log: log)
                throw error
            }
        }
        migrating.set(false)

        // Serving ends only when the agent stops, or with an error: the agent then stops.
        var iterator = shutdown.stream.makeAsyncIterator()
        _ = await iterator.next()
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
        await close(controlChannels, log: log)
        await shutDown(group, log: log)
        log.info("agent stopped", metadata: ["pid": "\(getpid())"])
    }

    /// A yes or no that closures on other threads read.
    final class Flag: Sendable {
        private let value: Atomic<Bool>
        init(_ value: Bool) { self.value = Atomic(value) }
        var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
        func set(_ new: Bool) { value.store(new, ordering: .sequentiallyConsistent) }
    }

    /// A control API listener and the task serving it.
    struct ControlChannel {
        var channel: NIOAsyncChannel<ControlServer.Connection, Never>
        var serving: Task<Void, Never>
    }

    /// Binds every listener (none stays bound if one cannot) and serves each; `stop` is called when
    /// one stops serving.
    private static func listen(_ listeners: [ControlServer.Listener], group: MultiThreadedEventLoopGroup, router: ControlRouter,
                               stop: @escaping @Sendable () -> Void, log: Logger) async throws -> [ControlChannel] {
        var bound: [(ControlServer, NIOAsyncChannel<ControlServer.Connection, Never>)] = []
        for listener in listeners {
            let server = ControlServer(listener: listener, group: group, route: router.answer)
            do {
                bound.append((server, try await server.bind()))
            } catch {
                for (_, channel) in bound { try? await channel.channel.close() }
                throw ToolkitError("the control API cannot listen on \(listener): \(error)")
            }
        }
        if case .unix(let path) = listeners.first { chmod(path, 0o600) }
        return bound.map { server, channel in
            ControlChannel(channel: channel, serving: Task {
                do { try await server.serve(channel) } catch is CancellationError {} catch {
                    log.critical("the control API stopped serving; stopping the agent", metadata: ["error": "\(error)"])
                }
                stop()
            })
        }
    }

    /// Stops serving the control API and closes its listeners.
    private static func close(_ control: [ControlChannel], log: Logger) async {
        for listener in control {
            listener.serving.cancel()
            await listener.serving.value
            do { try await listener.channel.channel.close() } catch ChannelError.alreadyClosed {} catch {
                log.warning("closing the control API's listener failed", metadata: ["error": "\(error)"])
            }
        }
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
