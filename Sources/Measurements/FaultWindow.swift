import Faults

/// One fault window as the journal recorded it: from `fault_started` to `fault_ended`.
public struct FaultWindow: Sendable, Hashable {
    public var id: Int
    public var fault: FaultSpec
    /// Seconds since 1970.
    public var started: Double
    /// Nil while the fault is active.
    public var ended: Double?
    /// The `detail` of `fault_ended`, read as a `ClearReason`.
    public var endReason: ClearReason?

    /// Index of `fault_started` in the timeline's events.
    let startIndex: Int
    /// Index of `fault_ended`, if any.
    var endIndex: Int?
}
