import CLibFuzzer
import NetfilterLog

// One recv() of an NFLOG netlink socket, as the kernel (or anyone who can write to the socket)
// might fill it: every message read, nothing may trap. The packets of a buffer's prefix are a
// prefix of its packets, since messages are read one after the other and a cut one is skipped.
@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let packets = NflogMessage.packets(bytes)
    _ = NflogMessage.acknowledgement(bytes)
    for packet in packets {
        precondition(packet.client.contains(":"), "a client address without a port: \(packet.client)")
    }
    if size > 0 {
        let cut = NflogMessage.packets(Array(bytes.prefix(Int(bytes[0]) * size / 256)))
        precondition(cut.count <= packets.count && zip(cut, packets).allSatisfy { $0 == $1 },
                     "a buffer's prefix gave packets its whole did not: \(cut) against \(packets)")
    }
    return 0
}

libfuzzer_run(CommandLine.argc, CommandLine.unsafeArgv, testOneInput)
