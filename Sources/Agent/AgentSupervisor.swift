import Foundation
import Infrastructure
import Synchronization

/// `toolkit agent --supervise`: runs the agent as its child and starts it again within a moment
/// when it dies (killed or crashed by a signal, or failed after running a while), so that an agent's death does not silently change a
/// test: the new agent puts back the faults that were in force and journals the restart. An agent
/// that exits cleanly (0: `down`, `POST /shutdown`, SIGTERM) ends the supervisor too; SIGTERM,
/// SIGINT or SIGHUP to the supervisor stops the agent cleanly first. The very first agent that
/// fails at start-up (exit status 1 within `startupGrace`: port taken, bad config) is not
/// restarted: the supervisor exits with its status, and whoever started it reports the agent's
/// error. After that the supervisor never gives up: a restart that fails (a full disk: no room for
/// `agent.pid`) is tried again with a back-off (`RestartBackoff`: at once for the first few, then
/// doubling up to 5 s), and each failure is logged with why (the state directory's free space).
///
/// Which process is the supervisor is recorded in root-owned `run/` with its start time, and
/// checked before anyone signals it, as for the server.
public enum AgentSupervisor {
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
        var backoff = RestartBackoff()
        var restartedAfter: String?
        var failedStarts = 0
        var failingSince: ContinuousClock.Instant?
        while true {
            let arguments = ["agent", "--home", state.root.path] + (restartedAfter.map { ["--restarted-after", $0] } ?? [])
            let started = clock.now
            let pid: pid_t
            do {
                pid = try ChildProcess.spawn(executable, arguments, log: AgentLog.file(state), detached: false)
            } catch {
                guard restartedAfter != nil else { throw error }
                let wait = backoff.delay(afterRunning: .zero)
                log.error("cannot start the agent again: \(error)\(diskNote(state)); trying again in \(wait)")
                if sleep(wait) { return 0 }
                continue
            }
            let status = waitForExit(of: pid, runningAfter: startupGrace) {
                // Started again after failed starts: said once it runs, when the log has room again.
                guard failedStarts > 0, let since = failingSince else { return }
                let message = "the agent (pid \(pid)) runs again, after \(failedStarts) failed start\(failedStarts == 1 ? "" : "s") "
                    + "over \(since.duration(to: clock.now)) (since \(restartedAfter ?? "its predecessor ended"))"
                log.notice("\(message)")
                failedStarts = 0
                failingSince = nil
            }
            if supervisorStopRequested.load(ordering: .relaxed) || status == 0 {
                log.info("supervisor stopped", metadata: ["agent": "\(pid)", "status": "\(status)"])
                return 0
            }
            let ran = started.duration(to: clock.now)
            let wait = backoff.delay(afterRunning: ran)
            if status < 128 && ran < startupGrace {
                guard restartedAfter != nil else {
                    log.error("the agent (pid \(pid)) failed at start-up (exit status \(status)); not starting it again")
                    return status
                }
                // A restart that fails at once: what the predecessor left is still to be taken over.
                failedStarts += 1
                failingSince = failingSince ?? started
                let message = "the agent (pid \(pid)) failed at start-up (exit status \(status))\(diskNote(state)); "
                    + "trying again in \(wait) (\(failedStarts) failed start\(failedStarts == 1 ? "" : "s") in a row)"
                log.error("\(message)")
                if sleep(wait) { return 0 }
                continue
            }
            failedStarts = 0
            failingSince = nil
            let end = status > 128 ? "was killed by signal \(status - 128)" : "exited with status \(status)"
            restartedAfter = "the previous agent (pid \(pid)) \(end)"
            let message = "the agent (pid \(pid)) \(end); starting it again" + (wait > .milliseconds(100) ? " in \(wait)" : "")
            log.warning("\(message)")
            if sleep(wait) { return 0 }
        }
    }

    /// Sleeps `duration` unless asked to stop meanwhile; true when asked to stop.
    private static func sleep(_ duration: Duration) -> Bool {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: duration)
        while clock.now < end {
            if supervisorStopRequested.load(ordering: .relaxed) { return true }
            let (seconds, attoseconds) = clock.now.duration(to: end).components
            Thread.sleep(forTimeInterval: min(0.05, max(0, Double(seconds) + Double(attoseconds) * 1e-18)))
        }
        return supervisorStopRequested.load(ordering: .relaxed)
    }

    /// "; the file system of DIR is full (12 KiB free)" when it has next to no room left, else "".
    static func diskNote(_ state: StateDirectory) -> String {
        var info = statvfs()
        guard statvfs(state.root.path, &info) == 0 else { return "" }
        let free = UInt64(info.f_bavail) * UInt64(info.f_frsize)
        guard free < 1 << 20 else { return "" }
        return "; the file system of \(state.root.path) is full (\(free >> 10) KiB free)"
    }

    /// Waits for the child, forwarding a stop request as SIGTERM once (then SIGKILL after 30 s).
    /// `running` is called once the child has run `runningAfter`.
    private static func waitForExit(of pid: pid_t, runningAfter: Duration, running: () -> Void) -> Int32 {
        var forwardedAt: Date?
        let clock = ContinuousClock()
        let runningAt = clock.now.advanced(by: runningAfter)
        var toldRunning = false
        while true {
            if !toldRunning, clock.now >= runningAt {
                toldRunning = true
                running()
            }
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
