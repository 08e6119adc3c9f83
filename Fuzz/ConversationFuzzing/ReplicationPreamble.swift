/// The bytes of a replica's connection up to its binlog dump request: greeting, login, OK, an
/// optional semi-sync request, then COM_BINLOG_DUMP or COM_BINLOG_DUMP_GTID. After it, the server
/// sends the binlog stream, which is what `BinlogStreamFuzz` varies.
public enum ReplicationPreamble {
    /// Options bits: 0 the replica asks for semi-sync, 1 it dumps by GTID set (MySQL) instead of by file.
    public static func steps(options: UInt8) -> [ConversationInput.Step] {
        var steps = [
            server(packet(0, greeting)),
            client(packet(1, handshakeResponse)),
            server(packet(2, ok)),
        ]
        if options & 1 != 0 {
            steps.append(client(packet(0, [0x03] + Array("SET @rpl_semi_sync_slave = 1".utf8))))
            steps.append(server(packet(1, ok)))
        }
        if options & 2 != 0 {
            let file = Array("binlog.000001".utf8)
            var payload: [UInt8] = [0x1E] + le(0x04, 2) + le(2, 4) + le(UInt64(file.count), 4) + file + le(4, 8)
            payload += le(8, 4) + le(0, 8)  // an empty GTID set
            steps.append(client(packet(0, payload)))
        } else {
            steps.append(client(packet(0, [0x12] + le(4, 4) + le(0, 2) + le(2, 4) + Array("binlog.000001".utf8))))
        }
        return steps
    }

    private static let capabilities: UInt64 = 1 << 3 | 1 << 9 | 1 << 15 | 1 << 19 | 1 << 21 | 1 << 24

    private static var greeting: [UInt8] {
        var payload: [UInt8] = [0x0A] + Array("10.11.6-MariaDB".utf8) + [0] + le(42, 4)
        payload += [UInt8](repeating: 0x41, count: 8) + [0]
        payload += le(capabilities & 0xFFFF, 2) + [0xFF] + le(0x0002, 2) + le(capabilities >> 16, 2)
        payload += [21] + [UInt8](repeating: 0, count: 10) + [UInt8](repeating: 0x42, count: 12) + [0]
        return payload + Array("mysql_native_password".utf8) + [0]
    }

    private static var handshakeResponse: [UInt8] {
        var payload = le(capabilities, 4) + le(16_777_216, 4) + [0xFF] + [UInt8](repeating: 0, count: 23)
        payload += Array("repl".utf8) + [0] + [20] + [UInt8](repeating: 0x5A, count: 20)
        payload += Array("shop".utf8) + [0] + Array("mysql_native_password".utf8) + [0]
        return payload
    }

    private static let ok: [UInt8] = [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]

    private static func packet(_ sequenceID: UInt8, _ payload: [UInt8]) -> [UInt8] {
        le(UInt64(payload.count), 3) + [sequenceID] + payload
    }

    private static func le(_ value: UInt64, _ width: Int) -> [UInt8] {
        (0..<width).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
    }

    private static func client(_ bytes: [UInt8]) -> ConversationInput.Step {
        ConversationInput.Step(fromServer: false, bytes: bytes[...])
    }

    private static func server(_ bytes: [UInt8]) -> ConversationInput.Step {
        ConversationInput.Step(fromServer: true, bytes: bytes[...])
    }
}
