/// One fault as the user asked for it. Check it with `validate()` before use.
///
/// JSON keys are snake_case (`latency_ms`, `jitter_ms`, `bytes_per_second`); `crash` is
/// written only when true and defaults to false, `scope` defaults to `all`, `backend` is
/// written only when chosen (nil: the agent's default backend).
public struct FaultSpec: Codable, Sendable, Hashable {
    public var type: FaultType
    public var scope: FaultScope
    /// Service only: SIGKILL the server instead of a clean shutdown.
    public var crash: Bool
    /// Latency only: milliseconds by which the source's bytes reach the client late (so added per round trip).
    public var latencyMs: Int?
    /// Latency only: ± milliseconds of random variation, at most `latencyMs`.
    public var jitterMs: Int?
    /// Bandwidth only: cap in bytes per second.
    public var bytesPerSecond: Int?
    /// Reject and timeout only: the backend that enforces it; nil means the agent's default.
    /// Part of the fault, so every phase of a flap is enforced the same way.
    public var backend: BackendKind?

    public init(
        type: FaultType,
        scope: FaultScope = .all,
        crash: Bool = false,
        latencyMs: Int? = nil,
        jitterMs: Int? = nil,
        bytesPerSecond: Int? = nil,
        backend: BackendKind? = nil
    ) {
        self.type = type
        self.scope = scope
        self.crash = crash
        self.latencyMs = latencyMs
        self.jitterMs = jitterMs
        self.bytesPerSecond = bytesPerSecond
        self.backend = backend
    }

    public static func latency(ms: Int, jitterMs: Int? = nil, scope: FaultScope = .all) -> FaultSpec {
        FaultSpec(type: .latency, scope: scope, latencyMs: ms, jitterMs: jitterMs)
    }

    public static func bandwidth(bytesPerSecond: Int, scope: FaultScope = .all) -> FaultSpec {
        FaultSpec(type: .bandwidth, scope: scope, bytesPerSecond: bytesPerSecond)
    }

    enum CodingKeys: String, CodingKey {
        case type, scope, crash, backend
        case latencyMs = "latency_ms"
        case jitterMs = "jitter_ms"
        case bytesPerSecond = "bytes_per_second"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(FaultType.self, forKey: .type)
        scope = try container.decodeIfPresent(FaultScope.self, forKey: .scope) ?? .all
        crash = try container.decodeIfPresent(Bool.self, forKey: .crash) ?? false
        latencyMs = try container.decodeIfPresent(Int.self, forKey: .latencyMs)
        jitterMs = try container.decodeIfPresent(Int.self, forKey: .jitterMs)
        bytesPerSecond = try container.decodeIfPresent(Int.self, forKey: .bytesPerSecond)
        backend = try container.decodeIfPresent(BackendKind.self, forKey: .backend)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(scope, forKey: .scope)
        if crash { try container.encode(true, forKey: .crash) }
        try container.encodeIfPresent(latencyMs, forKey: .latencyMs)
        try container.encodeIfPresent(jitterMs, forKey: .jitterMs)
        try container.encodeIfPresent(bytesPerSecond, forKey: .bytesPerSecond)
        try container.encodeIfPresent(backend, forKey: .backend)
    }
}

extension FaultSpec: CustomStringConvertible {
    /// Short human form: "reject", "timeout (replication)", "latency 2000±100 ms",
    /// "bandwidth 65536 B/s", "service (crash)".
    public var description: String {
        var text = type.rawValue
        switch type {
        case .latency:
            if let latencyMs {
                text += " \(latencyMs)"
                if let jitterMs, jitterMs > 0 { text += "±\(jitterMs)" }
                text += " ms"
            }
        case .bandwidth:
            if let bytesPerSecond { text += " \(bytesPerSecond) B/s" }
        case .service:
            if crash { text += " (crash)" }
        case .reject, .timeout, .reset:
            break
        }
        if scope != .all { text += " (\(scope.rawValue))" }
        return text
    }
}
