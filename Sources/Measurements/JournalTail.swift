/// The part of a journal whose windows can still change, measured as the whole journal would be.
///
/// A window's report reads events from its start to its horizon (the next connection fault's
/// start), plus what happened after its end on connections it saw (a login, a re-read). Once the
/// horizon is `grace` seconds old (by event time) the report is final: `append` hands it back
/// once, to be kept as a summary, and the events before the first unfinished window leave the
/// tail. What later windows still read from them (connections open across the cut, each
/// replication client's last forwarded position) stays as `carried` events, so that
/// `JournalTimeline(carried + events)` reports the unfinished windows exactly as
/// `JournalTimeline(every event)` does. Events need `seq`.
public struct JournalTail: Sendable {
    /// Seconds after a window's horizon until its report is final.
    public let grace: Double
    /// Events from before the cut that unfinished windows still read, in timeline order.
    public private(set) var carried: [JournalEvent]
    /// Every event since the cut, in journal (`seq`) order.
    public private(set) var events: [JournalEvent]
    /// Windows whose report is final.
    private var finished: Set<Int>
    /// Event time at which a window's horizon is `grace` old.
    private var deadline: Double?
    private var appendedSinceSettle = 0
    /// Settle at least this often, so a journal without faults does not grow the tail.
    private let settleEvery = 10_000

    public init(carried: [JournalEvent] = [], events: [JournalEvent] = [], finished: Set<Int> = [], grace: Double = 60) {
        self.carried = carried
        self.events = events
        self.finished = finished
        self.grace = grace
    }

    /// Seq of the first event in the tail (everything before it is summarized or carried).
    public var firstSeq: UInt64? { events.first?.seq }

    /// Appends one event; returns the reports that became final, in window order.
    public mutating func append(_ event: JournalEvent) -> [WindowReport] {
        events.append(event)
        appendedSinceSettle += 1
        let newConnectionFault = event.kind == .faultStarted && event.fault?.type.isConnectionFault == true
        if newConnectionFault || deadline.map({ event.at >= $0 }) == true || appendedSinceSettle >= settleEvery {
            return settle()
        }
        return []
    }

    /// Finishes every window whose horizon is `grace` old and moves the cut to the first
    /// unfinished window; returns the finished reports, in window order.
    public mutating func settle() -> [WindowReport] {
        appendedSinceSettle = 0
        deadline = nil
        guard let tailStart = events.first?.seq else { return [] }
        let timeline = JournalTimeline(carried + events)
        let latest = timeline.events.last?.at ?? 0
        var reports: [WindowReport] = []
        var cut = timeline.events.count
        for window in timeline.windows where !finished.contains(window.id) {
            let horizon = timeline.horizonIndex(after: window)
            guard horizon < timeline.events.count else {
                cut = window.startIndex
                break
            }
            let due = timeline.events[horizon].at + grace
            guard latest >= due else {
                deadline = due
                cut = window.startIndex
                break
            }
            reports.append(timeline.report(for: window))
            finished.insert(window.id)
        }
        let keepFrom = timeline.events[cut...].compactMap(\.seq).filter { $0 >= tailStart }.min()
            ?? (events.last?.seq ?? tailStart) + 1
        guard keepFrom > tailStart else { return reports }
        carried = timeline.carriedEvents(before: cut).filter { ($0.seq ?? 0) < keepFrom }
        events.removeFirst(events.firstIndex { ($0.seq ?? 0) >= keepFrom } ?? events.count)
        return reports
    }

    /// Reports of the windows not yet final, in the order they started.
    public func liveReports() -> [WindowReport] {
        let timeline = JournalTimeline(carried + events)
        return timeline.windows.filter { !finished.contains($0.id) }.map(timeline.report(for:))
    }

    /// Whether `window` has a final report.
    public func isFinished(_ window: Int) -> Bool { finished.contains(window) }
}
