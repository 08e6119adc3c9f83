/// What the nemesis can do to the pipeline during a soak, by its `--faults` name.
/// `reset` and `kill-connections` are instants; the others last a while.
public enum SoakFault: String, Codable, Sendable, CaseIterable {
    /// New connections refused, established ones reset (`network --down --type reject`).
    case reject
    /// Nothing answers, no byte moves (`network --down --type timeout`).
    case timeout
    /// A reject toggled on and off every `flap_interval_seconds` (`network --flap`).
    case flap
    /// The managed server stopped cleanly, then started again.
    case service
    /// The managed server killed (SIGKILL), then started again.
    case crash
    /// Established connections reset once; new ones keep being accepted.
    case reset
    /// Every byte from the source delayed by `latency_ms` (plus up to `jitter_ms`).
    case latency
    /// Throughput capped at `bytes_per_second`.
    case bandwidth
    /// The ETL user's sessions killed on the server (`break --kill-etl-connections`).
    case killConnections = "kill-connections"

    /// A fault that happens at one moment and has no length.
    public var isInstant: Bool { self == .reset || self == .killConnections }

    /// A fault that slows traffic down without breaking a connection.
    public var isShaping: Bool { self == .latency || self == .bandwidth }

    /// The faults a soak uses without `--faults`.
    public static let defaults: [SoakFault] = [.reject, .timeout, .flap, .service, .crash, .reset]

    /// `--faults a,b,c`: known names, each once, at least one.
    public static func parseList(_ text: String) throws(SoakInputError) -> [SoakFault] {
        let allowed = allCases.map(\.rawValue).joined(separator: ", ")
        var list: [SoakFault] = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard let fault = SoakFault(rawValue: name) else {
                throw SoakInputError(
                    flag: "--faults", message: "--faults must be a comma-separated list of \(allowed), got '\(name)'")
            }
            guard !list.contains(fault) else {
                throw SoakInputError(flag: "--faults", message: "--faults names '\(name)' twice, got '\(text)'")
            }
            list.append(fault)
        }
        return list
    }
}
