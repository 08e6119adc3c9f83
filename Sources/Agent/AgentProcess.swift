import AgentAPI
import Foundation
import Infrastructure

/// Starting and stopping the agent process of a state directory (`AgentDiscovery` finds it).
public enum AgentProcess {
    /// Starts the agent under its supervisor (`toolkit agent --supervise`, in a session of its own)
    /// unless a supervisor already runs (it may be starting the agent again), waits until the
    /// agent's control API answers, and returns the agent's pid. While the agent migrates the
    /// journal of an earlier version it is waited for as long as the migration moves (`stalled`
    /// at most between two answers that show progress), and `progress` is told how far it is,
    /// at once and then every `every`.
    public static func start(state: StateDirectory, executable: String, timeout: Duration = .seconds(20),
                             stalled: Duration = .seconds(60), every: Duration = .seconds(2),
                             progress: (JournalMigrationProgress) -> Void = { _ in }) throws -> pid_t {
        _ = try AgentLog.level()
        let log = AgentLog.file(state)
        try AgentLog.prepare(state: state)
        let supervisor = try AgentSupervisor.running(state: state)?.pid
            ?? ChildProcess.spawn(executable, ["agent", "--supervise", "--home", state.root.path], log: log, detached: true)
        do {
            return try awaitAnswer(state: state, from: supervisor, timeout: timeout, stalled: stalled, every: every, progress: progress)
        } catch {
            signalSupervisor(state: state, SIGTERM)
            throw error
        }
    }

    /// Waits until the agent answers with no migration going on, while `process` (its supervisor,
    /// or the agent itself) lives: `timeout` for a first answer, then as long as a migration moves
    /// (`stalled` at most between two answers that show progress); `progress` is told how far it
    /// is at once and then every `every`. Returns the agent's pid.
    public static func awaitAnswer(state: StateDirectory, from process: pid_t, timeout: Duration = .seconds(20),
                                   stalled: Duration = .seconds(60), every: Duration = .seconds(2),
                                   progress: (JournalMigrationProgress) -> Void = { _ in }) throws -> pid_t {
        let log = AgentLog.file(state)
        let clock = ContinuousClock()
        var deadline = clock.now.advanced(by: timeout)
        var migration: (seen: JournalMigrationProgress, told: ContinuousClock.Instant?)?
        while clock.now < deadline {
            guard ChildProcess.isAlive(process) else {
                let lines = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n") ?? []
                let tail = lines.last { !$0.contains(" agent.supervisor: ") }.map(String.init) ?? ""
                throw ToolkitError("the agent exited during start-up: \(tail)")
            }
            if let client = try? AgentDiscovery.client(state: state), let status = try? client.status() {
                guard let now = status.migration else { return status.pid }
                if migration?.seen != now {
                    deadline = clock.now.advanced(by: stalled)
                    migration = (now, migration?.told)
                }
                if migration?.told.map({ $0.duration(to: clock.now) >= every }) ?? true {
                    progress(now)
                    migration?.told = clock.now
                }
            }
            Thread.sleep(forTimeInterval: migration == nil ? 0.05 : 0.2)
        }
        if let migration {
            throw ToolkitError("the agent's migration of the journal of an earlier version made no progress for \(stalled) "
                + "(\(migration.seen.events) of \(migration.seen.totalEvents) events); the next start goes on from there; see \(log.path)")
        }
        throw ToolkitError("the agent did not answer within \(timeout); see \(log.path)")
    }

    /// Signals the supervisor, only while the process recorded in `run/` is that very supervisor.
    @discardableResult
    static func signalSupervisor(state: StateDirectory, _ number: Int32) -> pid_t? {
        guard let supervisor = AgentSupervisor.running(state: state) else { return nil }
        kill(supervisor.pid, number)
        return supervisor.pid
    }

    /// Stops the supervisor (so nothing starts the agent again), asks the agent to restore
    /// everything and exit, and kills either if it does not go.
    public static func stop(state: StateDirectory, timeout: Duration = .seconds(30)) {
        let supervisor = signalSupervisor(state: state, SIGTERM)
        let agent = AgentDiscovery.runningPID(state: state)
        if let agent {
            if let client = try? AgentDiscovery.client(state: state) {
                _ = try? client.shutdown()
            } else {
                kill(agent, SIGTERM)
            }
        }
        let running = [agent, supervisor].compactMap { $0 }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while running.contains(where: ChildProcess.isAlive) && clock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if let agent, ChildProcess.isAlive(agent) { kill(agent, SIGKILL) }
        if supervisor != nil { signalSupervisor(state: state, SIGKILL) }
        // An agent that could not restore (killed) leaves its faults recorded: after `down` no
        // later agent may put them back. What they changed outside is still undone at its start.
        ScheduleFile(state: state).saved.void()
    }
}
