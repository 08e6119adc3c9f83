/// Splits one direction of a MySQL byte stream into logical packets without copying.
///
/// A physical packet is a 3-byte little-endian payload length, a sequence id and
/// the payload. A payload of exactly 0xFFFFFF bytes continues in the next physical
/// packet; the logical packet is the concatenation. The framer reports where each
/// logical packet starts, which ranges of the input belong to its payload and when
/// it ends. It keeps only a 4-byte header accumulator and a byte count between
/// calls, so arbitrary chunking costs nothing.
struct PacketFramer: Sendable {
    enum Step: Equatable, Sendable {
        /// All input has been consumed; feed more bytes.
        case needInput
        /// A new logical packet begins; `sequenceID` is that of its first physical packet.
        case packetStart(sequenceID: UInt8)
        /// Payload bytes of the current logical packet: indices into the input buffer.
        case payload(Range<Int>)
        /// The current logical packet is complete; `length` is its total payload size.
        case packetEnd(length: Int)
    }

    static let maxPhysicalPayload = 0xFF_FFFF

    private var header: UInt32 = 0
    private var headerCount = 0
    private var remainingInPhysical = 0
    private var physicalContinues = false
    private var inLogicalPacket = false
    private var endPending = false
    private var logicalLength = 0

    /// Advances through `bytes` from `offset` and returns the next step.
    mutating func next(in bytes: UnsafeRawBufferPointer, at offset: inout Int) -> Step {
        while true {
            if endPending {
                endPending = false
                inLogicalPacket = false
                return .packetEnd(length: logicalLength)
            }
            if remainingInPhysical > 0 {
                let available = bytes.count - offset
                guard available > 0 else { return .needInput }
                let count = min(remainingInPhysical, available)
                let range = offset..<(offset + count)
                offset += count
                remainingInPhysical -= count
                logicalLength += count
                if remainingInPhysical == 0, !physicalContinues {
                    endPending = true
                }
                return .payload(range)
            }
            while headerCount < 4 {
                guard offset < bytes.count else { return .needInput }
                header |= UInt32(bytes[offset]) << UInt32(8 * headerCount)
                headerCount += 1
                offset += 1
            }
            let length = Int(header & 0xFF_FFFF)
            let sequenceID = UInt8(truncatingIfNeeded: header >> 24)
            header = 0
            headerCount = 0
            remainingInPhysical = length
            physicalContinues = length == Self.maxPhysicalPayload
            if length == 0 {
                endPending = true
            }
            if !inLogicalPacket {
                inLogicalPacket = true
                logicalLength = 0
                return .packetStart(sequenceID: sequenceID)
            }
        }
    }
}
