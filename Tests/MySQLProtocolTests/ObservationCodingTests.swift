import Foundation
import MySQLProtocol
import Testing

@Suite("Observation coding")
struct ObservationCodingTests {
    @Test("observations survive a JSON round trip (for the journal)")
    func jsonRoundTrip() throws {
        let observations: [ProtocolObservation] = [
            .serverGreeting(version: "8.4.3", connectionID: 9),
            .handshake(user: "etl", database: nil),
            .binlogDumpGTID(file: "", position: 4, serverID: 7, gtidSet: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"),
            .binlogEvent(
                BinlogEventSummary(
                    type: 4, timestamp: 0, serverID: 1, eventSize: 47, logPos: 0, flags: 0x20, isHeartbeat: false,
                    isArtificial: true, rotate: BinlogRotation(file: "binlog.000002", position: 4))),
            .unobservable(reason: "tls"),
        ]
        let data = try JSONEncoder().encode(observations)
        #expect(try JSONDecoder().decode([ProtocolObservation].self, from: data) == observations)
    }
}
