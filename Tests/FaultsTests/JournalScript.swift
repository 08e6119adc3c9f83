import Faults

/// Builds synthetic journals with times relative to a base, in seconds.
struct JournalScript {
    static let base = 1_760_000_000.0
    private(set) var events: [JournalEvent] = []

    mutating func add(
        _ time: Double, _ kind: JournalEventKind, window: Int? = nil, conn: UInt64? = nil,
        client: String? = nil, user: String? = nil, fault: FaultSpec? = nil, file: String? = nil,
        position: UInt64? = nil, gtid: String? = nil, serverID: UInt32? = nil, count: Int? = nil,
        code: Int? = nil, message: String? = nil, detail: String? = nil
    ) {
        events.append(JournalEvent(
            at: Self.base + time, kind: kind, window: window, conn: conn, client: client, user: user,
            fault: fault, file: file, position: position, gtid: gtid, serverID: serverID, count: count,
            code: code, message: message, detail: detail))
    }

    mutating func append(_ event: JournalEvent) {
        events.append(event)
    }

    /// accepted, handshake, auth_ok at `time`, +0.01, +0.02.
    mutating func connect(_ time: Double, conn: UInt64, client: String = "10.0.0.5:40000", user: String = "hevo") {
        add(time, .connAccepted, conn: conn, client: client)
        add(time + 0.01, .handshake, conn: conn, user: user)
        add(time + 0.02, .authOK, conn: conn)
    }

    mutating func faultStarted(_ time: Double, window: Int, _ fault: FaultSpec) {
        add(time, .faultStarted, window: window, fault: fault)
    }

    mutating func faultEnded(_ time: Double, window: Int, _ fault: FaultSpec, reason: ClearReason = .up) {
        add(time, .faultEnded, window: window, fault: fault, detail: reason.rawValue)
    }

    func reports() -> [WindowReport] { JournalTimeline(events).reports() }
}

func isClose(_ value: Double?, _ expected: Double, tolerance: Double = 1e-5) -> Bool {
    guard let value else { return false }
    return abs(value - expected) < tolerance
}

func areClose(_ values: [Double], _ expected: [Double]) -> Bool {
    values.count == expected.count && zip(values, expected).allSatisfy { isClose($0, $1) }
}
