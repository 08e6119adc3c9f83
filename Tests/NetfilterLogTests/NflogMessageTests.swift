import Testing

@testable import NetfilterLog

@Suite("NflogMessage: the nfnetlink_log wire format")
struct NflogMessageTests {
    /// One recv() of a real NFLOG socket bound to group 4567 in a network namespace: two
    /// NFULNL_MSG_PACKET messages (two refused connects to 127.0.0.1:4567, rule prefix "syn")
    /// and an NLMSG_DONE.
    static let capturedHex = "b4000000000400000000000000000000020011d7080001000800010008000a0073796e00080004000000000110000800" +
        "00060000000000000000000006000f000304000006001100000e00001200100000000000000000000000000008000000" +
        "14000300000000006b06f122000000000002e00e400009004500003c980940004006a4b07f0000017f00000186ac11d7" +
        "7d80c06b00000000a002ffd7fe3000000204ffd70402080a942bbeb0000000000103030ab40000000004000000000000" +
        "00000000020011d7080001000800010008000a0073796e00080004000000000110000800000600000000000000000000" +
        "06000f000304000006001100000e0000120010000000000000000000000000000800000014000300000000006b06f122" +
        "000000000002e0d3400009004500003c9c2e40004006a08b7f0000017f00000186b011d77383400100000000a002ffd7" +
        "fe3000000204ffd70402080a45b7128a000000000103030a14000000030000000000000000000000000011d7"

    static func bytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    @Test("a captured buffer gives each SYN with its client port, prefix and kernel time")
    func capturedPackets() {
        let packets = NflogMessage.packets(Self.bytes(Self.capturedHex))
        #expect(packets.map(\.client) == ["127.0.0.1:34476", "127.0.0.1:34480"])
        #expect(packets.allSatisfy { $0.flags == .syn && $0.flags.isConnect })
        #expect(packets.allSatisfy { $0.prefix == "syn" })
        let time = try? #require(packets.first?.kernelTime)
        #expect(abs((time ?? 0) - 1_795_617_058.188430) < 1e-6)
    }

    @Test("truncated, foreign or empty input gives no packet and never traps")
    func robustness() {
        let captured = Self.bytes(Self.capturedHex)
        for length in 0..<captured.count {
            let packets = NflogMessage.packets(Array(captured.prefix(length)))
            #expect(packets.count == (length >= 360 ? 2 : length >= 180 ? 1 : 0), "\(length) bytes")
        }
        // An nlmsghdr claiming more bytes than there are.
        #expect(NflogMessage.packets([0xff, 0xff, 0, 0] + [UInt8](repeating: 0, count: 60)).isEmpty)
        #expect(NflogMessage.packets([]).isEmpty)
    }

    @Test("IPv4 and IPv6 TCP headers give the source and the flags; other protocols none")
    func tcpHeaders() {
        var v4 = [UInt8](repeating: 0, count: 40)
        v4[0] = 0x45; v4[9] = 6
        v4[12...15] = [10, 213, 7, 2]
        v4[20] = 0xc3; v4[21] = 0x50 // port 50000
        v4[33] = 0x11 // FIN|ACK
        let (client, flags) = try! #require(NflogMessage.tcp(v4))
        #expect(client == "10.213.7.2:50000")
        #expect(flags == [.fin, .ack])
        #expect(!flags.isConnect)
        v4[9] = 17
        #expect(NflogMessage.tcp(v4) == nil)

        var v6 = [UInt8](repeating: 0, count: 60)
        v6[0] = 0x60; v6[6] = 6
        v6[8] = 0xfd; v6[9] = 0x00; v6[23] = 0x02 // fd00::2
        v6[40] = 0x0b; v6[41] = 0xb8 // port 3000
        v6[53] = 0x04 // RST
        let six = try! #require(NflogMessage.tcp(v6))
        #expect(six.client == "[fd00::2]:3000")
        #expect(six.flags == .rst)
        #expect(NflogMessage.ipv6([UInt8](repeating: 0, count: 15) + [1]) == "::1")
        #expect(NflogMessage.ipv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]) == "2001:db8:0:1::1")
    }

    @Test("a bind request is laid out as the kernel expects; acknowledgements are read")
    func configRequest() {
        let message = NflogMessage.config(group: 4567, command: .bind, sequence: 7)
        // nlmsghdr (16) + nfgenmsg (4) + one 5-byte attribute padded to 8.
        #expect(message.count == 28)
        #expect(message[0] == 28 && message[1] == 0)
        #expect(message[4] == 0x01 && message[5] == 0x04) // NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_CONFIG
        #expect(message[6] == 0x05) // NLM_F_REQUEST | NLM_F_ACK
        #expect(message[8] == 7)
        #expect(Array(message[16..<20]) == [0, 0, 0x11, 0xd7]) // res_id: group, big-endian
        #expect(Array(message[20..<25]) == [5, 0, 1, 0, 1])
        let mode = NflogMessage.config(group: 1, copyRange: 80)
        #expect(Array(mode[20..<30]) == [10, 0, 2, 0, 0, 0, 0, 80, 2, 0])

        // A real acknowledgement (NLMSG_ERROR with error 0), and one with -EINVAL.
        let ok = Self.bytes("240000000200000101000000f23d000000000000")
        #expect(NflogMessage.acknowledgement(ok + [UInt8](repeating: 0, count: 16)) == 0)
        let invalid = Self.bytes("300000000200000001000000dd3a0000eaffffff") + [UInt8](repeating: 0, count: 28)
        #expect(NflogMessage.acknowledgement(invalid) == -22)
    }
}
