import Foundation
import MySQLProtocol

/// The conversations the tests observe, written as seed inputs of the fuzz targets (the layout is
/// `ConversationInput`'s, see Fuzz/README.md) when TOOLKIT_FUZZ_SEEDS names the corpus directory:
///
///     TOOLKIT_FUZZ_SEEDS=$PWD/Fuzz/Corpus swift test --filter MySQLProtocolTests
///
/// `mysql-observer` gets every conversation; `binlog-stream` gets what follows the dump request of
/// those that ask for one. A seed is named by a hash of its bytes, so writing again changes nothing.
enum FuzzSeeds {
    static let directory = ProcessInfo.processInfo.environment["TOOLKIT_FUZZ_SEEDS"]
    /// Larger conversations (the tests of 16 MiB packets) make poor seeds: libFuzzer mutates small inputs.
    static let maxBytes = 64 * 1024

    static func record(_ conversation: Conversation, sessionIsDecrypted: Bool) {
        guard let directory else { return }
        let steps = conversation.steps
        guard steps.reduce(0, { $0 + $1.bytes.count }) <= maxBytes else { return }
        write(encoded(steps, options: sessionIsDecrypted ? 1 : 0), into: directory + "/mysql-observer")
        if let (options, stream) = binlogStream(steps) {
            write(encoded(stream, options: options), into: directory + "/binlog-stream")
        }
    }

    /// Options byte, then per step: tag (bit 0 the side, bits 1–7 a chunk size), 16-bit length, bytes.
    static func encoded(_ steps: [(side: Conversation.Side, bytes: [UInt8])], options: UInt8) -> [UInt8] {
        var out = [options]
        var index = 0
        for step in steps {
            var rest = step.bytes[...]
            repeat {
                let piece = rest.prefix(0xFFFF)
                let chunkSize = UInt8((index * 37) % 128)
                out += [chunkSize << 1 | (step.side == .server ? 1 : 0), UInt8(piece.count & 0xFF), UInt8(piece.count >> 8)]
                out += piece
                rest = rest.dropFirst(piece.count)
                index += 1
            } while !rest.isEmpty
        }
        return out
    }

    /// The steps after the client's dump request, and the options of `BinlogStreamFuzz`'s preamble
    /// that match the conversation's (bit 0 semi-sync asked for, bit 1 a GTID dump).
    static func binlogStream(
        _ steps: [(side: Conversation.Side, bytes: [UInt8])]
    ) -> (UInt8, [(side: Conversation.Side, bytes: [UInt8])])? {
        var observer = MySQLConnectionObserver()
        var options: UInt8 = 0
        for (index, step) in steps.enumerated() {
            guard step.side == .client else { _ = observer.serverToClient(step.bytes); continue }
            let observations = observer.clientToServer(step.bytes)
            if String(decoding: step.bytes, as: UTF8.self).lowercased().contains("rpl_semi_sync") { options |= 1 }
            guard observer.isReplication else { continue }
            if observations.contains(where: { if case .binlogDumpGTID = $0 { true } else { false } }) { options |= 2 }
            let stream = Array(steps[(index + 1)...])
            return stream.isEmpty ? nil : (options, stream)
        }
        return nil
    }

    static func write(_ bytes: [UInt8], into directory: String) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let name = String(hash, radix: 16)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory + "/" + String(repeating: "0", count: 16 - name.count) + name, contents: Data(bytes))
    }
}
