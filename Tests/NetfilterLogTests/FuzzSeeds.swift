import Foundation
import NetfilterLog
import Testing

/// The buffers these tests read, and an IPv4 and an IPv6 packet in messages of their own; written as
/// seed inputs of `NflogFuzz` when TOOLKIT_FUZZ_SEEDS names the corpus directory (Fuzz/README.md):
///
///     TOOLKIT_FUZZ_SEEDS=$PWD/Fuzz/Corpus swift test --filter NetfilterLogTests
@Suite("NFLOG fuzz seeds")
struct FuzzSeeds {
    static let directory = ProcessInfo.processInfo.environment["TOOLKIT_FUZZ_SEEDS"]

    /// One NFULNL_MSG_PACKET for group 4567 with a payload and a prefix attribute (host order, x86).
    static func packetMessage(payload: [UInt8], prefix: String) -> [UInt8] {
        func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
            let length = 4 + value.count
            let padding = [UInt8](repeating: 0, count: (4 - length % 4) % 4)
            return [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(type & 0xFF), UInt8(type >> 8)] + value + padding
        }
        let body = [2, 0, 0x11, 0xD7] + attribute(10, Array(prefix.utf8) + [0]) + attribute(9, payload)
        let length = 16 + body.count
        return [UInt8(length & 0xFF), UInt8(length >> 8), 0, 0, 0x00, 0x04, 0, 0] + [UInt8](repeating: 0, count: 8) + body
    }

    @Test("packet messages built attribute by attribute are read back; the seeds are written when asked")
    func seeds() throws {
        let captured = NflogMessageTests.bytes(NflogMessageTests.capturedHex)
        var v4 = [UInt8](repeating: 0, count: 40)
        v4[0] = 0x45; v4[9] = 6
        v4[12...15] = [10, 213, 7, 2]
        v4[20] = 0xc3; v4[21] = 0x50
        v4[33] = 0x11
        var v6 = [UInt8](repeating: 0, count: 60)
        v6[0] = 0x60; v6[6] = 6
        v6[8] = 0xfd; v6[23] = 0x02
        v6[40] = 0x0b; v6[41] = 0xb8
        v6[53] = 0x04
        let seeds: [String: [UInt8]] = [
            "captured-two-syns": captured,
            "ack-ok": NflogMessageTests.bytes("240000000200000101000000f23d000000000000") + [UInt8](repeating: 0, count: 16),
            "ack-einval": NflogMessageTests.bytes("300000000200000001000000dd3a0000eaffffff") + [UInt8](repeating: 0, count: 28),
            "ipv4-fin-ack": Self.packetMessage(payload: v4, prefix: "fin"),
            "ipv6-rst": Self.packetMessage(payload: v6, prefix: "rst"),
        ]
        #expect(NflogMessage.packets(seeds["ipv4-fin-ack"]!) == [ClientPacket(client: "10.213.7.2:50000", flags: [.fin, .ack], prefix: "fin")])
        #expect(NflogMessage.packets(seeds["ipv6-rst"]!) == [ClientPacket(client: "[fd00::2]:3000", flags: .rst, prefix: "rst")])
        guard let directory = Self.directory.map({ $0 + "/nflog" }) else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, bytes) in seeds {
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name))
        }
    }
}
