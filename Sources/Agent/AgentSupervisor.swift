import Foundation
import Infrastructure
import Synchronization

/// `toolkit agent --supervise`: runs the agent as its child and starts it again within a moment
/// when it dies (killed or crashed by a signal, or failed after running a while), so that an agent's death does not silently change a
/// test: the new agent puts back the faults that were in force and journals the restart. An agent
/// that exits cleanly (0: `down`, `POST /shutdown`, SIGTERM) ends the supervisor too; SIGTERM,
/// SIGINT or SIGHUP to the supervisor stops the agent cleanly first. An agent that fails at
/// start-up (exit status 1 within `startupGrace`: port taken, bad config) is not restarted: the
/// supervisor exits with its status, and whoever started it reports the agent's error. At most `maxRestarts` restarts
/// within `restartWindow`, then it gives up (the kernel still ends timed iptables faults by itself).
///
/// Which process is the supervisor is recorded in root-owned `run/` with its start time, and
/// checked before anyone signals it, as for the server.
public enum AgentSupervisor {
    public static let maxRestarts = 5
    public static let restartWindow: Duration = .seconds(60)
    public static let startupGrace: Duration = .seconds(5)

    public static func processFile(_ state: StateDirectory) -> URL {
        state.runDirectory.appendingPathComponent("supervisor.process")
    }

    /// The supervisor of `state` while that very process runs this program.
    public static func running(state: StateDirectory) -> ProcessIdentity? {
        guard let data = try? OwnedPath.readTrusted(processFile(state)),
              let identity = try? JSONDecoder().decode(ProcessIdentity.self, from: data),
              identity.isRunning, identity.executable == ChildProcess.selfExecutable else { return nil }
        return identity
    }

    /// Runs until the agent exits cleanly or the supervisor is told to stop; returns the exit status.
    public static func run(state: StateDirectory) throws -> Int32 {
        try AgentLog.bootstrap(state: state)
        let log = AgentLog.logger("agent.supervisor")
        if let other = running(state: state), other.pid != getpid() {
            throw ToolkitError("a supervisor already runs for \(state.root.path) (pid \(other.pid))")
        }
        guard let executable = ChildProcess.selfExecutable, let me = ProcessIdentity.of(getpid()) else {
            throw ToolkitError("cannot tell which program this is (/proc/self)")
        }
        let file = processFile(state)
        try JSONEncoder().encode(me).write(to: file, options: .atomic)
        defer {
            do { try FileManager.default.removeItem(at: file) } catch {
                log.warning("cannot remove the supervisor's process file", metadata: ["file": "\(file.path)", "error": "\(error)"])
            }
        }
        for number in [SIGTERM, SIGINT, SIGHUP] {
            signal(number) { _ in supervisorStopRequested.store(true, ordering: .relaxed) }
        }
        log.info("supervisor started", metadata: ["pid": "\(getpid())"])
        let clock = ContinuousClock()
        var restarts: [ContinuousClock.Instant] = []
        var restartedAfter: String?
        while true {
            let arguments = ["agent", "--home", state.root.path] + (restartedAfter.map { ["--restarted-after", $0] } ?? [])
            let started = clock.now
            let pid = try ChildProcess.spawn(executable, arguments, log: AgentLog.file(state), detached: false)
            let status = waitForExit(of: pid)
            if supervisorStopRequested.load(ordering: .relaxed) || status == 0 {
                log.info("supervisor stopped", metadata: ["agent": "\(pid)", "status": "\(status)"])
                return 0
            }
            let now = clock.now
            if status < 128 && started.duration(to: now) < startupGrace {
                log.error("the agent (pid \(pid)) failed at start-up (exit status \(status)); not starting it again")
                return status
            }
            restarts = restarts.filter { $0.duration(to: now) < restartWindow } + [now]
            let end = status > 128 ? "was killed by signal \(status - 128)" : "exited with status \(status)"
            guard restarts.count <= maxRestarts else {
                log.critical("the agent (pid \(pid)) \(end); \(maxRestarts) restarts within \(restartWindow) already: giving up")
                return 1
            }
            restartedAfter = "the previous agent (pid \(pid)) \(end)"
            log.warning("the agent (pid \(pid)) \(end); starting it again")
            // A moment's pause, so that an agent that cannot start does not spin.
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Waits for the child, forwarding a stop request as SIGTERM once (then SIGKILL after 30 s).
    private static func waitForExit(of pid: pid_t) -> Int32 {
        var forwardedAt: Date?
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                if status & 0x7f == 0 { return (status >> 8) & 0xff }
                return 128 + (status & 0x7f)
            }
            if result < 0 && errno != EINTR { return 1 }
            if supervisorStopRequested.load(ordering: .relaxed) {
                if forwardedAt == nil {
                    kill(pid, SIGTERM)
                    forwardedAt = Date()
                } else if let at = forwardedAt, Date().timeIntervalSince(at) > 30 {
                    kill(pid, SIGKILL)
                }
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }
}

/// Set by the supervisor's signal handlers (a C function pointer captures nothing, so a global).
private let supervisorStopRequested = Atomic<Bool>(false)
