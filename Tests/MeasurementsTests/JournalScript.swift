import Faults
import Measurements
import Testing

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

    /// The reports of the whole journal. Every script is also measured the way the agent does
    /// (`JournalTail`, windows finished as their horizon passes): the results must be equal.
    func reports() -> [WindowReport] {
        let reports = JournalTimeline(events).reports()
        let closed = closedByALaterFault()
        let whole = JournalTimeline(closed).reports()
        for grace in [0.0, 0.5, 1e9] {
            #expect(JournalTail.measured(closed, grace: grace) == whole, "grace \(grace)")
        }
        return reports
    }

    /// This journal, then a reset window long after it, so every window of the script has a horizon.
    func closedByALaterFault() -> [JournalEvent] {
        let end = (events.map(\.at).max() ?? Self.base) + 1_000
        let window = (events.compactMap(\.window).max() ?? 0) + 1
        return events + [
            JournalEvent(at: end, kind: .faultStarted, window: window, fault: FaultSpec(type: .reset)),
            JournalEvent(at: end, kind: .faultEnded, window: window, fault: FaultSpec(type: .reset), detail: ClearReason.expired.rawValue),
            JournalEvent(at: end + 1_000, kind: .note, detail: "later"),
        ]
    }
}

extension JournalTail {
    /// Every report of `events` (given seq in this order), finished ones as they finish, then the live ones.
    static func measured(_ events: [JournalEvent], grace: Double) -> [WindowReport] {
        var tail = JournalTail(grace: grace)
        var finished: [WindowReport] = []
        for (index, event) in events.enumerated() {
            var event = event
            event.seq = UInt64(index + 1)
            finished += tail.append(event)
        }
        return finished + tail.liveReports()
    }
}

func isClose(_ value: Double?, _ expected: Double, tolerance: Double = 1e-5) -> Bool {
    guard let value else { return false }
    return abs(value - expected) < tolerance
}

func areClose(_ values: [Double], _ expected: [Double]) -> Bool {
    values.count == expected.count && zip(values, expected).allSatisfy { isClose($0, $1) }
}

let reject = FaultSpec(type: .reject)
let timeout = FaultSpec(type: .timeout)
let resetSpec = FaultSpec(type: .reset)
let service = FaultSpec(type: .service)
