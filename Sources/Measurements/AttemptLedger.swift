/// Turns the packets clients sent into a fault (as the kernel logged them from the toolkit's
/// own rules) into journal events: one per client connect, at the packet's time, with the
/// client's address and port — never one per SYN retransmission, and nothing called refused
/// that was dropped. Pure: packets in, events out.
///
/// - `refuse` (iptables REJECT, or a gateway reject whose listener is closed): a connect is
///   `conn_refused`. A packet of an established connection (neither SYN nor RST) is answered
///   by the kernel with RST: `conn_reset` with detail `kernelResetDetail`, once per client.
/// - `drop` (iptables DROP): a connect is `conn_dropped`; its retransmissions (same address
///   and port) are not new attempts. The client gives up (`client_gave_up`) when it sends FIN
///   or RST (exact), or when the same host tries again from a new port: the kernel sends nothing
///   when a client abandons a connect, so that event is dated by the next attempt and carries
///   `last_seen`, the abandoned attempt's last SYN or retransmission — the moment lies between.
public struct AttemptLedger: Sendable {
    public enum Verdict: String, Sendable {
        case refuse, drop
    }

    public static let kernelResetDetail = "kernel reset (iptables reject)"

    public let window: Int
    public let verdict: Verdict
    /// Every client "ip:port" that tried to connect, in order.
    private var attempts: [String] = []
    private var seen: Set<String> = []
    /// The latest attempt of each host still waiting for an answer (drop only).
    private var pending: [String: String] = [:]
    private var finished: Set<String> = []
    /// The time of each client's latest SYN (first or retransmitted), drop only.
    private var lastSYN: [String: Double] = [:]

    public init(window: Int, verdict: Verdict) {
        self.window = window
        self.verdict = verdict
    }

    /// A packet from `client` with these TCP flags, sent at `at` (seconds since 1970).
    public mutating func observe(client: String, syn: Bool, ack: Bool, fin: Bool, rst: Bool, at: Double) -> [JournalEvent] {
        if syn && !ack {
            let events = connect(client: client, at: at)
            if verdict == .drop && !finished.contains(client) { lastSYN[client] = at }
            return events
        }
        switch verdict {
        case .refuse:
            guard !syn, !rst, finished.insert(client).inserted else { return [] }
            return [event(.connReset, client: client, at: at) { $0.detail = Self.kernelResetDetail }]
        case .drop:
            guard fin || rst, finished.insert(client).inserted else { return [] }
            let host = ClientAddress.host(of: client)
            if pending[host] == client { pending[host] = nil }
            lastSYN[client] = nil
            return [event(.clientGaveUp, client: client, at: at) { $0.detail = rst ? "RST" : "FIN" }]
        }
    }

    private mutating func connect(client: String, at: Double) -> [JournalEvent] {
        guard seen.insert(client).inserted else { return [] }
        attempts.append(client)
        switch verdict {
        case .refuse:
            return [event(.connRefused, client: client, at: at)]
        case .drop:
            var events: [JournalEvent] = []
            let host = ClientAddress.host(of: client)
            if let previous = pending[host], finished.insert(previous).inserted {
                let lastSeen = lastSYN.removeValue(forKey: previous)
                events.append(event(.clientGaveUp, client: previous, at: at) {
                    $0.detail = "new attempt from \(client)"
                    $0.lastSeen = lastSeen.map { JournalEvent.timestamp($0) }
                })
            }
            pending[host] = client
            events.append(event(.connDropped, client: client, at: at))
            return events
        }
    }

    private func event(
        _ kind: JournalEventKind, client: String, at: Double, _ fill: (inout JournalEvent) -> Void = { _ in }
    ) -> JournalEvent {
        var event = JournalEvent(at: at, kind: kind, window: window, client: client)
        fill(&event)
        return event
    }
}
