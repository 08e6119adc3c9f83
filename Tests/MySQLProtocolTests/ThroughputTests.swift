import MySQLProtocol
import Testing

@Suite("Throughput")
struct ThroughputTests {
    @Test("a 50 MB binlog stream in 64 KiB chunks ends at the right position", .tags(.slow))
    func fiftyMegabytes() {
        let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
        var writer = BinlogWriter(checksum: false)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
        var stream: [UInt8] = []
        stream.reserveCapacity(52_000_000)
        var sequence: UInt8 = 1
        func send(_ event: [UInt8]) {
            stream += BinlogWriter.packet(sequence, event)
            sequence &+= 1
        }
        send(writer.fakeRotate(file: "binlog.000001", position: 4))
        send(writer.formatDescription())
        var gno: UInt64 = 0
        var eventCount = 2
        var rotated = false
        while stream.count < 50_000_000 {
            if !rotated, stream.count > 25_000_000 {
                send(writer.rotate(to: "binlog.000002"))
                writer.position = 4
                send(writer.formatDescription())
                eventCount += 2
                rotated = true
            }
            gno += 1
            send(writer.mysqlGTID(uuid: uuid, gno: gno))
            send(writer.query("BEGIN"))
            send(writer.writeRows(bodySize: 8 * 1024 + Int(gno % 512)))
            send(writer.xid(gno))
            eventCount += 4
        }
        conversation.server(stream)

        let result = run(conversation, .fixed(64 * 1024))
        let events = result.observations.reduce(0) { count, observation in
            if case .binlogEvent = observation { count + 1 } else { count }
        }
        #expect(events == eventCount)
        #expect(result.observable)
        #expect(
            result.lastForwarded == BinlogCoordinates(file: "binlog.000002", position: UInt64(writer.position), gtid: "\(uuid):\(gno)"))
    }
}
