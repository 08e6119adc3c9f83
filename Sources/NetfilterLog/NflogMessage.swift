/// A TCP packet a client sent, as the kernel's NFLOG target logged it from one of the
/// toolkit's own iptables rules: who sent it, its TCP flags, the rule's prefix, and when.
public struct ClientPacket: Sendable, Hashable {
    /// The client's "ip:port" ("[ip]:port" for IPv6), as the gateway writes addresses.
    public var client: String
    public var flags: TCPFlags
    /// The `--nflog-prefix` of the rule that logged it.
    public var prefix: String
    /// Seconds since 1970 from the kernel's packet timestamp; nil when the kernel sent none.
    public var kernelTime: Double?

    public init(client: String, flags: TCPFlags, prefix: String, kernelTime: Double? = nil) {
        self.client = client
        self.flags = flags
        self.prefix = prefix
        self.kernelTime = kernelTime
    }
}

/// The TCP flag bits of a packet.
public struct TCPFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x01)
    public static let syn = TCPFlags(rawValue: 0x02)
    public static let rst = TCPFlags(rawValue: 0x04)
    public static let ack = TCPFlags(rawValue: 0x10)

    /// A connection attempt: SYN without ACK.
    public var isConnect: Bool { contains(.syn) && !contains(.ack) }
}

/// The nfnetlink_log (NFLOG) wire format: configuration requests to bind a socket to a group,
/// and the parsing of the packet messages it then receives. Pure: bytes in, values out.
///
/// Netlink headers and attribute headers are in host order; nfgenmsg's `res_id`, the
/// configuration values and the timestamp are big-endian.
public enum NflogMessage {
    static let subsystem: UInt16 = 4 << 8 // NFNL_SUBSYS_ULOG
    static let packetType: UInt16 = subsystem | 0 // NFULNL_MSG_PACKET
    static let configType: UInt16 = subsystem | 1 // NFULNL_MSG_CONFIG
    static let errorType: UInt16 = 2 // NLMSG_ERROR

    public enum Command: UInt8 {
        case bind = 1, unbind = 2, pfBind = 3, pfUnbind = 4
    }

    /// A NFULNL_MSG_CONFIG request with NLM_F_REQUEST | NLM_F_ACK.
    public static func config(
        group: UInt16, family: UInt8 = 0, command: Command? = nil,
        copyRange: UInt32? = nil, queueThreshold: UInt32? = nil, sequence: UInt32 = 0
    ) -> [UInt8] {
        var body: [UInt8] = [family, 0, UInt8(group >> 8), UInt8(group & 0xff)]
        if let command { appendAttribute(&body, type: 1, [command.rawValue]) } // NFULA_CFG_CMD
        if let copyRange {
            // NFULA_CFG_MODE: __be32 copy_range, u8 copy_mode (NFULNL_COPY_PACKET), u8 pad.
            appendAttribute(&body, type: 2, bigEndian(copyRange) + [2, 0])
        }
        if let queueThreshold { appendAttribute(&body, type: 5, bigEndian(queueThreshold)) } // NFULA_CFG_QTHRESH
        var message: [UInt8] = []
        message += hostOrder(UInt32(16 + body.count))
        message += hostOrder(configType)
        message += hostOrder(UInt16(0x1 | 0x4))
        message += hostOrder(sequence)
        message += hostOrder(UInt32(0))
        return message + body
    }

    /// The error code of a netlink acknowledgement (0: success), or nil when `bytes` holds none.
    public static func acknowledgement(_ bytes: [UInt8]) -> Int32? {
        var offset = 0
        while offset + 20 <= bytes.count {
            let length = Int(read32(bytes, offset))
            guard length >= 16, offset + length <= bytes.count else { return nil }
            if read16(bytes, offset + 4) == errorType {
                return Int32(bitPattern: read32(bytes, offset + 16))
            }
            offset += align(length)
        }
        return nil
    }

    /// Every TCP packet in one buffer of netlink messages; anything else (other message
    /// types, non-TCP payloads, truncated data) is skipped.
    public static func packets(_ bytes: [UInt8]) -> [ClientPacket] {
        var packets: [ClientPacket] = []
        var offset = 0
        while offset + 16 <= bytes.count {
            let length = Int(read32(bytes, offset))
            guard length >= 16, offset + length <= bytes.count else { break }
            if read16(bytes, offset + 4) == packetType, length >= 20,
               let packet = packet(Array(bytes[(offset + 20)..<(offset + length)])) {
                packets.append(packet)
            }
            offset += align(length)
        }
        return packets
    }

    /// One NFULNL_MSG_PACKET's attributes (after nlmsghdr and nfgenmsg).
    static func packet(_ attributes: [UInt8]) -> ClientPacket? {
        var payload: [UInt8]?
        var prefix = ""
        var time: Double?
        var offset = 0
        while offset + 4 <= attributes.count {
            let length = Int(read16(attributes, offset))
            let type = read16(attributes, offset + 2) & 0x3fff
            guard length >= 4, offset + length <= attributes.count else { break }
            let value = Array(attributes[(offset + 4)..<(offset + length)])
            switch type {
            case 9: payload = value // NFULA_PAYLOAD
            case 10: prefix = String(decoding: value.prefix { $0 != 0 }, as: UTF8.self) // NFULA_PREFIX
            case 3 where value.count >= 16: // NFULA_TIMESTAMP: __be64 sec, __be64 usec
                let seconds = readBigEndian64(value, 0), micros = readBigEndian64(value, 8)
                time = Double(seconds) + Double(micros) / 1_000_000
            default: break
            }
            offset += align(length)
        }
        guard let payload, let (client, flags) = tcp(payload) else { return nil }
        return ClientPacket(client: client, flags: flags, prefix: prefix, kernelTime: time)
    }

    /// Source address and TCP flags of an IPv4 or IPv6 packet carrying TCP.
    static func tcp(_ ip: [UInt8]) -> (client: String, flags: TCPFlags)? {
        guard let first = ip.first else { return nil }
        let source: String
        let tcpStart: Int
        switch first >> 4 {
        case 4:
            tcpStart = Int(first & 0x0f) * 4
            guard tcpStart >= 20, ip.count >= 20, ip[9] == 6 else { return nil }
            source = ip[12..<16].map(String.init).joined(separator: ".")
        case 6:
            tcpStart = 40
            guard ip.count >= 40, ip[6] == 6 else { return nil }
            source = "[" + ipv6(Array(ip[8..<24])) + "]"
        default:
            return nil
        }
        guard ip.count >= tcpStart + 14 else { return nil }
        let port = UInt16(ip[tcpStart]) << 8 | UInt16(ip[tcpStart + 1])
        return ("\(source):\(port)", TCPFlags(rawValue: ip[tcpStart + 13]))
    }

    /// RFC 5952 form: lowercase, leading zeros dropped, the longest run of zero groups as "::".
    static func ipv6(_ bytes: [UInt8]) -> String {
        let groups = (0..<8).map { UInt16(bytes[$0 * 2]) << 8 | UInt16(bytes[$0 * 2 + 1]) }
        var best: Range<Int>?
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index >= 2 && (best == nil || end - index > best!.count) { best = index..<end }
            index = end
        }
        let hex = groups.map { String($0, radix: 16) }
        guard let best else { return hex.joined(separator: ":") }
        return hex[..<best.lowerBound].joined(separator: ":") + "::" + hex[best.upperBound...].joined(separator: ":")
    }

    // MARK: - Bytes

    private static func align(_ length: Int) -> Int { (length + 3) & ~3 }

    private static func appendAttribute(_ body: inout [UInt8], type: UInt16, _ value: [UInt8]) {
        let length = 4 + value.count
        body += hostOrder(UInt16(length)) + hostOrder(type) + value
        body += [UInt8](repeating: 0, count: align(length) - length)
    }

    private static func hostOrder<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    private static func read16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
        bytes[offset..<(offset + 2)].withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) }
    }

    private static func read32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    private static func readBigEndian64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        bytes[offset..<(offset + 8)].reduce(0) { $0 << 8 | UInt64($1) }
    }
}
