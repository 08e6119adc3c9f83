import Agent
import AgentAPI
import ArgumentParser
import Faults
import Foundation
import Source

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
          toolkit network --slow --latency 2000 [--jitter 500]    added to every round trip
          toolkit network --slow --bandwidth 65536                bytes per second, each direction
          toolkit network --slow --off
          toolkit network --up                                    everything back, from any state
          toolkit network --status [--json]
        """)

    @Flag(help: "Start a fault (see --type).") var down = false
    @Flag(help: "Restore everything.") var up = false
    @Flag(help: "Toggle a fault every --interval seconds for --duration seconds.") var flap = false
    @Flag(help: "Add latency (--latency) or limit bandwidth (--bandwidth); with --off, stop.") var slow = false
    @Flag(help: "With --slow: remove latency and bandwidth limits.") var off = false
    @Flag(help: "Show active faults and the measurements of every fault window.") var status = false

    @Option(help: "reject | timeout | service | reset (default reject).") var type: String?
    @Option(help: "Seconds until the agent restores the network (--down: 1 to 86400; --flap: total, default 300).") var duration: Int?
    @Option(help: "With --flap: seconds between toggles (1 to 3600, default 30).") var interval: Int?
    @Option(help: "With --slow: milliseconds added per round trip (1 to 600000, default 2000).") var latency: Int?
    @Option(help: "With --slow --latency: random extra milliseconds (0 to --latency).") var jitter: Int?
    @Option(help: "With --slow: bytes per second per direction (1024 to 10000000000).") var bandwidth: Int?
    @Flag(help: "With --type service: kill the server (SIGKILL) instead of a clean shutdown.") var crash = false
    @Option(help: "Hit only connections that did (replication) or did not (queries) ask for a binlog dump.") var only: String?
    @Option(help: "gateway or iptables, for this fault (reject and timeout).") var backend: String?
    @Flag(help: "Return at once instead of counting down a timed fault.") var detach = false
    @Option(help: "State directory (env TOOLKIT_HOME).") var home: String?
    @OptionGroup var output: OutputFlags

    func validate() throws {
        let actions = [down, up, flap, slow, status].filter { $0 }.count
        guard actions <= 1 else { throw ValidationError("--down, --up, --flap, --slow and --status go one at a time") }
        if let type, !["reject", "timeout", "service", "reset"].contains(type) {
            throw ValidationError("--type must be reject, timeout, service or reset, got '\(type)'")
        }
        if let only, !["replication", "queries"].contains(only) {
            throw ValidationError("--only must be replication or queries, got '\(only)'")
        }
        if let backend, !["gateway", "iptables"].contains(backend) {
            throw ValidationError("--backend must be gateway or iptables, got '\(backend)'")
        }
        if off && !slow { throw ValidationError("--off goes with --slow") }
        if type != nil && !(down || flap) { throw ValidationError("--type goes with --down or --flap") }
        for command in try commands() {
            do { _ = try command.scheduleCommand() } catch let failure as AgentFailure {
                throw ValidationError(failure.message)
            }
        }
    }

    /// The control API commands this invocation stands for (none for --status).
    func commands() throws -> [FaultCommand] {
        let scope = only.flatMap(FaultScope.init(rawValue:)) ?? .all
        let chosenBackend = backend.flatMap(BackendKind.init(rawValue:))
        if up { return [FaultCommand(action: .up)] }
        if slow {
            if off { return [FaultCommand(action: .slowOff)] }
            var commands: [FaultCommand] = []
            if latency != nil || bandwidth == nil {
                commands.append(FaultCommand(action: .slow, spec: .latency(ms: latency ?? 2000, jitterMs: jitter, scope: scope),
                                             durationSeconds: duration))
            }
            if let bandwidth {
                commands.append(FaultCommand(action: .slow, spec: .bandwidth(bytesPerSecond: bandwidth, scope: scope),
                                             durationSeconds: duration))
            }
            return commands
        }
        let faultType = FaultType(rawValue: type ?? "reject") ?? .reject
        let spec = FaultSpec(type: faultType, scope: scope, crash: crash)
        if down { return [FaultCommand(action: .down, spec: spec, durationSeconds: duration, backend: chosenBackend)] }
        if flap {
            return [FaultCommand(action: .flap, spec: spec, durationSeconds: duration ?? 300, intervalSeconds: interval ?? 30,
                                 backend: chosenBackend)]
        }
        return []
    }

    func run() throws {
        let state = StateDirectory.resolve(flag: home)
        let client = try AgentProcess.client(state: state)
        let commands = try commands()
        var answer = try agentCall { () throws(ControlClient.Failure) in try client.get("/status", as: AgentStatus.self) }
        for command in commands {
            answer = try agentCall { () throws(ControlClient.Failure) in try client.post("/faults", command, as: AgentStatus.self) }
        }
        let timed = (down && duration != nil) || flap || (slow && !off && duration != nil)
        if timed && !detach && !output.json {
            print(NetworkView(answer).description)
            try countdown(client)
            answer = (try? client.get("/status", as: AgentStatus.self)) ?? answer
        }
        output.emit(NetworkView(answer))
    }

    /// Shows the time left until the agent restores the network. Ctrl-C leaves the fault to the agent.
    private func countdown(_ client: ControlClient) throws {
        Interrupt.install()
        let interactive = isatty(STDERR_FILENO) == 1
        var lastPrinted = -1
        while !Interrupt.requested {
            guard let status = try? client.get("/status", as: AgentStatus.self) else { break }
            let pending = status.faults.filter { $0.remainingSeconds != nil || $0.flap != nil }
            guard let next = pending.max(by: { ($0.remainingSeconds ?? 0) < ($1.remainingSeconds ?? 0) }) else { break }
            let remaining = Int((next.remainingSeconds ?? 0).rounded(.up))
            let phase = next.flap.map { " (flapping, \($0.phase.rawValue))" } ?? ""
            if interactive {
                writeErrorInline("\r\(next.fault.type.rawValue)\(phase): \(remaining) s until restore   ")
            } else if remaining != lastPrinted && (remaining % 10 == 0 || remaining <= 5) {
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
        let recent = status.windows.suffix(10)
        if !recent.isEmpty { lines.append("Windows    (what the clients did; `toolkit events` for every event)") }
        for window in recent {
            lines.append(window.description.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
        }
        for note in status.notes.suffix(3) { lines.append("Note       \(note)") }
        return lines.joined(separator: "\n")
    }
}

func writeErrorInline(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// Runs one control API call; the agent's refusals become one-line errors (400: bad input, exit 2).
func agentCall<T>(_ call: () throws(ControlClient.Failure) -> T) throws(ToolkitError) -> T {
    do {
        return try call()
    } catch {
        if case .refused(let refusal) = error, refusal.status == 400 { throw ToolkitError(.usage, refusal.message) }
        throw ToolkitError(error.description)
    }
}
