import Testing

@testable import MySQLProtocol

@Suite("Packet framer")
struct PacketFramerTests {
    /// Runs the framer over `chunks` and returns (sequence id, payload, length) per logical packet.
    func frame(_ chunks: [[UInt8]]) -> [(UInt8, [UInt8], Int)] {
        var framer = PacketFramer()
        var packets: [(UInt8, [UInt8], Int)] = []
        var current: (UInt8, [UInt8])?
        for chunk in chunks {
            chunk.withUnsafeBytes { buffer in
                var offset = 0
                loop: while true {
                    switch framer.next(in: buffer, at: &offset) {
                    case .needInput: break loop
                    case .packetStart(let sequenceID): current = (sequenceID, [])
                    case .payload(let range): current?.1 += buffer[range]
                    case .packetEnd(let length):
                        if let packet = current { packets.append((packet.0, packet.1, length)) }
                        current = nil
                    }
                }
            }
        }
        return packets
    }

    @Test("packets split anywhere, including inside the header")
    func splitHeaders() {
        let bytes = Wire.packet(0, [1, 2, 3]) + Wire.packet(1, []) + Wire.packet(2, [9])
        for cut in 0...bytes.count {
            let packets = frame([Array(bytes[..<cut]), Array(bytes[cut...])])
            #expect(packets.map(\.0) == [0, 1, 2])
            #expect(packets.map(\.1) == [[1, 2, 3], [], [9]])
            #expect(packets.map(\.2) == [3, 0, 1])
        }
    }

    @Test("0xFFFFFF payloads continue; sequence id of the first physical packet is reported")
    func continuation() {
        let payload = (0..<(0xFF_FFFF + 3)).map { UInt8(truncatingIfNeeded: $0) }
        let bytes = Wire.packet(5, payload) + Wire.packet(0, [7])
        let packets = frame([bytes])
        #expect(packets.count == 2)
        #expect(packets.first?.0 == 5)
        #expect(packets.first?.1 == payload)
        #expect(packets.last?.1 == [7])
    }
}
