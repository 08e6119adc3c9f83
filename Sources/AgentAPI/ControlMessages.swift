import Faults
import Foundation
import Measurements

/// The agent's control API: HTTP/JSON on its owner-only Unix socket (or TCP with a bearer token,
/// see `ControlAddress`). These are its bodies.
///
/// | method and path        | body             | answer          |
/// |------------------------|------------------|-----------------|
/// | `GET /status`          |                  | `AgentStatus`   |
/// | `POST /faults`         | `FaultCommand`   | `AgentStatus`   |
/// | `GET /events?since=SEQ`|                  | `EventPage`     |
/// | `GET /window?id=N`     |                  | `WindowReport`  |
/// | `POST /notes`          | `JournalNote`    | `JournalNote`   |
/// | `POST /shutdown`       |                  | `AgentStatus`   |
///
/// Errors answer 400 (bad request, nothing changed), 401 (TCP without the token), 413 (body over
/// 64 KiB) or 500 with an `AgentFailure`.
public struct FaultCommand: Codable, Sendable, Hashable {
    public enum Action: String, Codable, Sendable { case down, flap, slow, slowOff = "slow_off", up }
    public var action: Action
    public var spec: FaultSpec?
    public var durationSeconds: Int?
    public var intervalSeconds: Int?
    /// Overrides the agent's backend for this fault (reject and timeout only).
    public var backend: BackendKind?

    enum CodingKeys: String, CodingKey {
        case action, spec, backend
        case durationSeconds = "duration_seconds", intervalSeconds = "interval_seconds"
    }

    public init(action: Action, spec: FaultSpec? = nil, durationSeconds: Int? = nil, intervalSeconds: Int? = nil,
                backend: BackendKind? = nil) {
        self.action = action
        self.spec = spec
        self.durationSeconds = durationSeconds
        self.intervalSeconds = intervalSeconds
        self.backend = backend
    }

    /// "down reject for 20 s", "flap timeout every 3 s for 30 s", "up": for the journal.
    public var summary: String {
        var text = action.rawValue
        if let spec { text += " \(spec.description)" }
        if let intervalSeconds { text += " every \(intervalSeconds) s" }
        if let durationSeconds { text += " for \(durationSeconds) s" }
        return text
    }

    /// The schedule command this asks for; a command that does not fit answers 400 with the
    /// one line of `validated()`.
    public func scheduleCommand() throws(AgentFailure) -> ScheduleCommand {
        do { return try validated() } catch { throw AgentFailure(status: 400, message: error.message) }
    }

    /// The one validation of a fault command, shared by the CLI (before it sends anything), the
    /// control API and the schedule: every field must go with the action, then the schedule's
    /// own rules (`ScheduleCommand.validate()`, `FaultSpec.validate()`) apply. A chosen `backend`
    /// becomes part of the fault, so the schedule keeps it for every phase of a flap.
    public func validated() throws(FaultValidationError) -> ScheduleCommand {
        var spec = self.spec
        if let backend, spec != nil, spec?.backend == nil { spec?.backend = backend }
        let command: ScheduleCommand
        switch action {
        case .up, .slowOff:
            let name = action == .up ? "--up" : "--slow --off"
            if spec != nil || durationSeconds != nil || intervalSeconds != nil || backend != nil {
                throw FaultValidationError(flag: name, message: "\(name) goes alone: it takes no fault, --duration, --interval or --backend")
            }
            return action == .up ? .up : .slowOff
        case .slow:
            guard let spec, spec.type == .latency || spec.type == .bandwidth else {
                throw FaultValidationError(flag: "--slow", message: "--slow needs --latency MS or --bandwidth BYTES")
            }
            if backend != nil { throw Self.onlyWith("--backend", "--down or --flap") }
            if intervalSeconds != nil { throw Self.onlyWith("--interval", "--flap") }
            command = .down(spec, duration: durationSeconds.map { .seconds($0) })
        case .down:
            guard let spec else { throw FaultValidationError(flag: "--down", message: "--down needs --type") }
            if intervalSeconds != nil { throw Self.onlyWith("--interval", "--flap") }
            command = .down(spec, duration: durationSeconds.map { .seconds($0) })
        case .flap:
            guard let spec else { throw FaultValidationError(flag: "--flap", message: "--flap needs --type") }
            command = .flap(spec, interval: .seconds(intervalSeconds ?? 30), duration: .seconds(durationSeconds ?? 300))
        }
        try command.validate()
        return command
    }

    private static func onlyWith(_ flag: String, _ partner: String) -> FaultValidationError {
        FaultValidationError(flag: flag, message: "\(flag) goes only with \(partner)")
    }
}

/// What the agent is doing now, and what it measured.
public struct AgentStatus: Codable, Sendable {
    public var pid: Int32
    public var startedAt: Double
    public var backend: BackendKind
    public var listen: String
    public var upstream: String
    public var gatewayListening: Bool
    public var connections: Int
    public var faults: [ActiveFaultStatus]
    /// The last `Journal.recentWindows` windows; `GET /window?id=N` for any other.
    public var windows: [WindowReport]
    /// Every window the journal has recorded.
    public var windowsTotal: Int?
    public var journal: String
    public var notes: [String]
    /// The last verdicts on reconnects between faults: a replication client's binlog dump that no
    /// fault window judges (a server-side reset, a restart), oldest first.
    public var reconnects: [ResumeReport]?
    /// While the agent migrates the journal of an earlier version (before its gateway opens);
    /// absent otherwise.
    public var migration: JournalMigrationProgress?

    enum CodingKeys: String, CodingKey {
        case pid, backend, listen, upstream, connections, faults, windows, journal, notes, reconnects, migration
        case startedAt = "started_at", gatewayListening = "gateway_listening", windowsTotal = "windows_total"
    }

    public init(pid: Int32, startedAt: Double, backend: BackendKind, listen: String, upstream: String,
                gatewayListening: Bool, connections: Int, faults: [ActiveFaultStatus], windows: [WindowReport],
                windowsTotal: Int? = nil, journal: String, notes: [String] = [], migration: JournalMigrationProgress? = nil) {
        self.pid = pid
        self.startedAt = startedAt
        self.backend = backend
        self.listen = listen
        self.upstream = upstream
        self.gatewayListening = gatewayListening
        self.connections = connections
        self.faults = faults
        self.windows = windows
        self.windowsTotal = windowsTotal
        self.journal = journal
        self.notes = notes
        self.migration = migration
    }
}

/// How far the agent is in migrating a `journal.jsonl` of an earlier version: lines of the old
/// file done (an unreadable line counts as done), bytes read of it.
public struct JournalMigrationProgress: Codable, Sendable, Equatable, CustomStringConvertible {
    public var events: Int
    public var totalEvents: Int
    public var bytes: UInt64
    public var totalBytes: UInt64

    enum CodingKeys: String, CodingKey {
        case events, bytes
        case totalEvents = "total_events", totalBytes = "total_bytes"
    }

    public init(events: Int, totalEvents: Int, bytes: UInt64, totalBytes: UInt64) {
        self.events = events
        self.totalEvents = totalEvents
        self.bytes = bytes
        self.totalBytes = totalBytes
    }

    /// Whole percent of the old file's bytes done.
    public var percent: Int { totalBytes == 0 ? 100 : Int(bytes * 100 / totalBytes) }

    public var description: String {
        "migrating the journal of an earlier version: \(Self.grouped(events)) of \(Self.grouped(totalEvents)) events (\(percent)%)"
    }

    /// 1234567 as "1,234,567", whatever the locale.
    static func grouped(_ number: Int) -> String {
        var digits = String(number.magnitude)
        var groups: [Substring] = []
        while digits.count > 3 {
            groups.insert(digits.suffix(3), at: 0)
            digits.removeLast(3)
        }
        groups.insert(Substring(digits), at: 0)
        return (number < 0 ? "-" : "") + groups.joined(separator: ",")
    }
}

/// An action of another command (corrupt, replicate, schema-change...) for the agent's journal,
/// so that it shows on the same timeline as the network faults. `POST /notes`.
public struct JournalNote: Codable, Sendable {
    public var command: String?
    public var detail: String
    public init(command: String? = nil, detail: String) { self.command = command; self.detail = detail }
}

public struct EventPage: Codable, Sendable {
    public var events: [JournalEvent]
    /// The seq of the last event returned (or `since`): pass as `since` to get what came after.
    public var next: Int
    public init(events: [JournalEvent], next: Int) { self.events = events; self.next = next }
}

public struct AgentFailure: Error, Codable, Sendable, CustomStringConvertible {
    public var status: Int
    public var message: String
    /// A 405's `Allow` header: the method the path takes. Not part of the body.
    public var allow: String?

    enum CodingKeys: String, CodingKey { case status, message }

    public init(status: Int, message: String, allow: String? = nil) {
        self.status = status
        self.message = message
        self.allow = allow
    }

    public var description: String { message }
}
