import Faults
import Foundation

/// The agent's control API: HTTP/JSON on its owner-only Unix socket (or TCP with a bearer token,
/// see `ControlAddress`). These are its bodies.
///
/// | method and path        | body             | answer          |
/// |------------------------|------------------|-----------------|
/// | `GET /status`          |                  | `AgentStatus`   |
/// | `POST /faults`         | `FaultCommand`   | `AgentStatus`   |
/// | `GET /events?since=N`  |                  | `EventPage`     |
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

    /// The schedule command this asks for, or a one-line reason it is not valid. A chosen
    /// `backend` becomes part of the fault, so the schedule keeps it for every phase.
    public func scheduleCommand() throws -> ScheduleCommand {
        var spec = self.spec
        if let backend, spec?.backend == nil { spec?.backend = backend }
        switch action {
        case .up:
            return .up
        case .slowOff:
            return .slowOff
        case .slow:
            guard let spec, spec.type == .latency || spec.type == .bandwidth else {
                throw AgentFailure(status: 400, message: "--slow needs --latency MS or --bandwidth BYTES")
            }
            try Self.check(spec)
            return .down(spec, duration: durationSeconds.map { .seconds($0) })
        case .down:
            guard let spec else { throw AgentFailure(status: 400, message: "--down needs --type") }
            try Self.check(spec)
            if let seconds = durationSeconds, !(1...86_400).contains(seconds) {
                throw AgentFailure(status: 400, message: "--duration must be a whole number of seconds from 1 to 86400, got \(seconds)")
            }
            return .down(spec, duration: durationSeconds.map { .seconds($0) })
        case .flap:
            guard let spec else { throw AgentFailure(status: 400, message: "--flap needs --type") }
            try Self.check(spec)
            let interval = intervalSeconds ?? 30, duration = durationSeconds ?? 300
            guard (1...3_600).contains(interval) else {
                throw AgentFailure(status: 400, message: "--interval must be a whole number of seconds from 1 to 3600, got \(interval)")
            }
            guard duration >= interval && duration <= 86_400 else {
                throw AgentFailure(status: 400, message: "--duration must be from --interval (\(interval)) to 86400 seconds, got \(duration)")
            }
            return .flap(spec, interval: .seconds(interval), duration: .seconds(duration))
        }
    }

    private static func check(_ spec: FaultSpec) throws {
        do { try spec.validate() } catch { throw AgentFailure(status: 400, message: "\(error)") }
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
    public var windows: [WindowReport]
    public var journal: String
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case pid, backend, listen, upstream, connections, faults, windows, journal, notes
        case startedAt = "started_at", gatewayListening = "gateway_listening"
    }

    public init(pid: Int32, startedAt: Double, backend: BackendKind, listen: String, upstream: String,
                gatewayListening: Bool, connections: Int, faults: [ActiveFaultStatus], windows: [WindowReport],
                journal: String, notes: [String] = []) {
        self.pid = pid
        self.startedAt = startedAt
        self.backend = backend
        self.listen = listen
        self.upstream = upstream
        self.gatewayListening = gatewayListening
        self.connections = connections
        self.faults = faults
        self.windows = windows
        self.journal = journal
        self.notes = notes
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
    /// Pass as `since` to get only what came after.
    public var next: Int
    public init(events: [JournalEvent], next: Int) { self.events = events; self.next = next }
}

public struct AgentFailure: Error, Codable, Sendable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public init(status: Int, message: String) { self.status = status; self.message = message }
    public var description: String { message }
}
