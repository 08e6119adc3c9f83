import Agent
import AgentAPI
import ArgumentParser
import Faults
import Foundation
import Infrastructure
import Measurements

struct NetworkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network",
        abstract: "Break the ETL tool's network to the source, restore it, and see what the tool did.",
        discussion: """
        The agent owns every fault and timer: a timed outage comes back even if this command is killed.
          toolkit network --down --type reject [--duration 60]    refused at once; established connections reset
          toolkit network --down --type timeout                   nothing answers, nothing moves
          toolkit network --down --type service [--crash]         the server stops (or is killed)
          toolkit network --down --type reset                     reset established connections once
          toolkit network --flap --type reject --interval 30 --duration 300
          toolkit network --slow --latency 2000 [--jitter 500]    the source's bytes arrive late
          toolkit network --slow --bandwidth 65536                bytes per second, each direction
          toolkit network --slow --off
          toolkit network --up                                    everything back, from any state
          toolkit network --status [--json]                       active faults, the last 20 windows
          toolkit network --window 7 [--json]                     any window ever recorded
        """)

    @Flag(help: "Start a fault (see --type).") var down = false
    @Flag(help: "Restore everything, from any state (starts the agent again if it is not running).") var up = false
    @Flag(help: "Toggle a fault every --interval seconds for --duration seconds.") var flap = false
    @Flag(help: "Add latency (--latency) or limit bandwidth (--bandwidth); with --off, stop.") var slow = false
    @Flag(help: "With --slow: remove latency and bandwidth limits.") var off = false
    @Flag(help: "Show active faults and the measurements of the last 20 fault windows (and how many there were).") var status = false
    @Option(parsing: .unconditional, help: "Show the measurements of window N, any window ever recorded (works while the agent is down for finished windows).") var window: Int?

    @Option(help: "With --down or --flap (default reject).") var type: FaultType?
    @Option(parsing: .unconditional, help: "Seconds until the agent restores the network (--down: 1 to 86400, not with --type reset; --flap: total, from --interval to 86400, default 300; --slow: 1 to 86400).") var duration: Int?
    @Option(parsing: .unconditional, help: "With --flap: seconds between toggles (1 to 3600, default 30).") var interval: Int?
    @Option(parsing: .unconditional, help: "With --slow: milliseconds by which the source's bytes reach the client late, so each round trip costs that much more (1 to 600000, default 2000).") var latency: Int?
    @Option(parsing: .unconditional, help: "With --slow: random extra milliseconds (0 to --latency).") var jitter: Int?
    @Option(parsing: .unconditional, help: "With --slow: bytes per second per direction (1024 to 10000000000).") var bandwidth: Int?
    @Flag(help: "With --type service: kill the server (SIGKILL) instead of a clean shutdown.") var crash = false
    @Option(help: "Hit only connections that did (replication) or did not (queries) ask for a binlog dump (not with --type service).") var only: FaultScope?
    @Option(help: "With --type reject or timeout: the backend for this fault.") var backend: BackendKind?
    @Flag(help: "With a timed fault (--duration, --flap): return at once instead of counting down.") var detach = false
    @Option(help: "State directory (env TOOLKIT_HOME).") var home: String?
    @OptionGroup var output: OutputFlags

    /// The flags each action takes besides --home and --json; any other flag given is refused.
    static let flagsOfAction: [(action: String, flags: Set<String>)] = [
        ("--down", ["--type", "--duration", "--crash", "--only", "--backend", "--detach"]),
        ("--flap", ["--type", "--duration", "--interval", "--crash", "--only", "--backend", "--detach"]),
        ("--slow", ["--latency", "--jitter", "--bandwidth", "--duration", "--only", "--detach", "--off"]),
        ("--up", []),
        ("--status", []),
        ("--window", []),
    ]

    /// The fault flags given on this command line.
    var givenFlags: [String] {
        [("--type", type != nil), ("--duration", duration != nil), ("--interval", interval != nil),
         ("--latency", latency != nil), ("--jitter", jitter != nil), ("--bandwidth", bandwidth != nil),
         ("--crash", crash), ("--only", only != nil), ("--backend", backend != nil), ("--detach", detach), ("--off", off)]
            .filter(\.1).map(\.0)
    }

    func validate() throws {
        let actions = [("--down", down), ("--up", up), ("--flap", flap), ("--slow", slow), ("--status", status),
                       ("--window", window != nil)].filter(\.1).map(\.0)
        guard actions.count <= 1 else { throw ValidationError("\(actions.joined(separator: " and ")) go one at a time") }
        guard let action = actions.first else {
            throw ValidationError("network needs one of --down, --up, --flap, --slow, --status or --window")
        }
        if let window, window < 1 {
            throw ValidationError("--window must be a window number from 1, got \(window)")
        }
        let allowed = Self.flagsOfAction.first { $0.action == action }!.flags.subtracting(off ? ["--latency", "--jitter", "--bandwidth", "--duration", "--only", "--detach"] : [])
        for flag in givenFlags where !allowed.contains(flag) {
            let partners = Self.flagsOfAction.filter { $0.flags.contains(flag) }.map(\.action)
            let name = action == "--slow" && off ? "--slow --off" : action
            throw ValidationError("\(flag) does not go with \(name); it goes with \(partners.joined(separator: ", "))")
        }
        for command in commands() {
            do { _ = try command.validated() } catch { throw ValidationError(error.message) }
        }
        if detach && !isTimed {
            throw ValidationError("--detach goes only with a timed fault (--duration, or --flap): there is no countdown to leave")
        }
    }

    /// A fault the agent ends by itself, which the CLI counts down.
    private var isTimed: Bool { flap || ((down || slow) && duration != nil) }

    /// The control API commands this invocation stands for (none for --status). Every flag given
    /// goes into them, so that the one validation (`FaultCommand.validated()`) sees it.
    func commands() -> [FaultCommand] {
        let scope = only ?? .all
        if up { return [FaultCommand(action: .up)] }
        if slow {
            if off { return [FaultCommand(action: .slowOff)] }
            var commands: [FaultCommand] = []
            let wantsLatency = latency != nil || bandwidth == nil
            if wantsLatency {
                commands.append(FaultCommand(action: .slow, spec: .latency(ms: latency ?? 2000, jitterMs: jitter, scope: scope),
                                             durationSeconds: duration))
            }
            if let bandwidth {
                var spec = FaultSpec.bandwidth(bytesPerSecond: bandwidth, scope: scope)
                if !wantsLatency { spec.jitterMs = jitter }
                commands.append(FaultCommand(action: .slow, spec: spec, durationSeconds: duration))
            }
            return commands
        }
        let spec = FaultSpec(type: type ?? .reject, scope: scope, crash: crash)
        if down { return [FaultCommand(action: .down, spec: spec, durationSeconds: duration, backend: backend)] }
        if flap {
            return [FaultCommand(action: .flap, spec: spec, durationSeconds: duration, intervalSeconds: interval, backend: backend)]
        }
        return []
    }

    func run() throws {
        let state = StateDirectory.resolve(flag: home)
        if let window {
            output.emit(try report(window: window, state: state))
            return
        }
        if up && AgentDiscovery.runningPID(state: state) == nil {
            output.emit(try AgentRecovery(state: state).restoreWithoutAgent())
            return
        }
        let client = try AgentDiscovery.client(state: state)
        let commands = commands()
        if !commands.isEmpty, let holder = RunLock.currentHolder(state: state), !ProcessLineage.ancestors(of: getpid()).contains(holder.pid) {
            writeError("toolkit: warning: \(holder.description) holds the source; a fault it did not start makes that run INCONCLUSIVE")
        }
        var answer = try agentCall { () throws(AgentClient.Failure) in try client.status() }
        for command in commands {
            answer = try agentCall { () throws(AgentClient.Failure) in try client.apply(command) }
        }
        if isTimed && !detach && !output.json {
            print(NetworkView(answer).description)
            try countdown(client, from: answer)
            answer = (try? client.status()) ?? answer
        }
        output.emit(NetworkView(answer))
    }

    /// Window `id` from the agent (live or finished), or from the journal's summaries when no agent runs.
    private func report(window id: Int, state: StateDirectory) throws -> WindowReport {
        guard AgentDiscovery.runningPID(state: state) != nil else {
            guard let report = JournalDirectory(state: state).summary(window: id) else {
                throw ToolkitError("no finished window \(id) in the journal in \(state.root.path) (the agent is not running to measure open ones)")
            }
            return report
        }
        let client = try AgentDiscovery.client(state: state)
        return try agentCall { () throws(AgentClient.Failure) in try client.window(id) }
    }

    /// Shows the time left until the agent restores the network, starting with the agent's answer to
    /// the fault (so the first line never depends on how soon the next poll comes). Without a
    /// terminal: that first line, then every 10 s and each of the last 5. Ctrl-C leaves the fault to the agent.
    private func countdown(_ client: AgentClient, from answer: AgentStatus) throws {
        Interrupt.install()
        let interactive = isatty(STDERR_FILENO) == 1
        var lastPrinted = -1
        var known: AgentStatus? = answer
        while !Interrupt.requested {
            let current = known ?? (try? client.status())
            known = nil
            guard let status = current else { break }
            let pending = status.faults.filter { $0.remainingSeconds != nil || $0.flap != nil }
            guard let next = pending.max(by: { ($0.remainingSeconds ?? 0) < ($1.remainingSeconds ?? 0) }) else { break }
            let remaining = Int((next.remainingSeconds ?? 0).rounded(.up))
            let phase = next.flap.map { " (flapping, \($0.phase.rawValue))" } ?? ""
            if interactive {
                writeErrorInline("\r\(next.fault.type.rawValue)\(phase): \(remaining) s until restore   ")
            } else if remaining != lastPrinted && (lastPrinted == -1 || remaining % 10 == 0 || remaining <= 5) {
                writeError("\(next.fault.type.rawValue)\(phase): \(remaining) s until restore")
            }
            lastPrinted = remaining
            Interrupt.sleep(seconds: 0.25)
        }
        if interactive { writeErrorInline("\n") }
        if Interrupt.requested {
            writeError("left to the agent: it restores the network when the time is up (`toolkit network --up` restores it now)")
            throw ExitCode(0)
        }
    }
}

/// `network --status` as text: the active faults, then what each fault window measured.
struct NetworkView: Encodable, CustomStringConvertible {
    let status: AgentStatus
    init(_ status: AgentStatus) { self.status = status }

    func encode(to encoder: any Encoder) throws { try status.encode(to: encoder) }

    var description: String {
        var lines = ["Agent      pid \(status.pid), \(status.backend.rawValue) backend, gateway \(status.listen) → \(status.upstream)"
            + (status.gatewayListening ? "" : " (not listening)") + ", \(status.connections) connections"]
        if let migration = status.migration {
            lines.append("Journal    \(migration); the gateway opens when it is done")
        }
        if status.faults.isEmpty {
            lines.append("Network    clear: no fault active")
        }
        for fault in status.faults {
            var text = "Fault      \(fault.fault.description)"
            if let window = fault.windowID { text += " (window \(window))" }
            text += String(format: ", on for %.0f s", fault.elapsedSeconds)
            if let remaining = fault.remainingSeconds { text += String(format: ", restores in %.0f s", remaining) }
            if let flap = fault.flap { text += ", flapping every \(Int(flap.intervalSeconds)) s, now \(flap.phase.rawValue)" }
            lines.append(text)
        }
        let recent = status.windows
        let total = status.windowsTotal ?? recent.count
        if !recent.isEmpty {
            let shown = total > recent.count ? "the last \(recent.count) of \(total) windows; `network --window N` for any" : "\(total) windows"
            lines.append("Windows    (\(shown); what the clients did; `toolkit events` for every event)")
        }
        for window in recent {
            lines.append(window.description.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
        let reconnects = status.reconnects ?? []
        if !reconnects.isEmpty {
            lines.append("Reconnects (between faults: binlog dumps no fault window judges, the last \(reconnects.count))")
        }
        for reconnect in reconnects {
            let at = reconnect.requestedAt.map { EventLine.clock(Date(timeIntervalSince1970: $0)) + " " } ?? ""
            lines.append("  \(at)conn \(reconnect.conn.map(String.init) ?? "?") \(reconnect.summary)")
        }
        for note in status.notes.suffix(3) { lines.append("Note       \(note)") }
        return lines.joined(separator: "\n")
    }
}

func writeErrorInline(_ text: String) {
    writeStandardError(text)
}

/// Runs one control API call; the agent's refusals become one-line errors (400: bad input, exit 2).
func agentCall<T>(_ call: () throws(AgentClient.Failure) -> T) throws(ToolkitError) -> T {
    do {
        return try call()
    } catch {
        if case .refused(let refusal) = error, refusal.status == 400 { throw ToolkitError(.usage, refusal.message) }
        throw ToolkitError(error.description)
    }
}
