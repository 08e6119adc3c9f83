/// The few leading bytes of the current logical packet that the observer parses.
///
/// The observer sets a target (how many bytes it wants); bytes past it are skipped
/// without copying. A provisional target lets the observer look at the first bytes
/// (e.g. the command byte or event header) and then ask for more.
struct PacketCapture: Sendable {
    /// Never buffer more than this for one packet.
    static let limit = 64 * 1024
    /// Buffers larger than this are released after use instead of being kept.
    private static let retainedCapacity = 4 * 1024

    private(set) var bytes: [UInt8] = []
    private(set) var sequenceID: UInt8 = 0
    private var target = 0
    private var targetIsFinal = true

    mutating func begin(sequenceID: UInt8) {
        bytes.removeAll(keepingCapacity: bytes.capacity <= Self.retainedCapacity)
        self.sequenceID = sequenceID
        target = 0
        targetIsFinal = true
    }

    /// Sets how many leading bytes to keep (clamped to ``limit``). A non-final
    /// target means "ask me again once you have that many".
    mutating func setTarget(_ newTarget: Int, isFinal: Bool) {
        target = min(max(newTarget, 0), Self.limit)
        targetIsFinal = isFinal || target <= bytes.count
    }

    /// True when the provisional target is reached and the observer must decide again.
    var needsDecision: Bool { !targetIsFinal && bytes.count >= target }

    /// Copies as many bytes of `chunk` as the target allows; returns how many.
    mutating func absorb(_ chunk: UnsafeRawBufferPointer) -> Int {
        let count = min(target - bytes.count, chunk.count)
        guard count > 0 else { return 0 }
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        return count
    }
}
