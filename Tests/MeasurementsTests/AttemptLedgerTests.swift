import Measurements
import Testing

@Suite("AttemptLedger: client packets to journal events")
struct AttemptLedgerTests {
    @Test("refuse: one conn_refused per connect with its client port and time; retransmissions ignored")
    func refusedConnects() {
        var ledger = AttemptLedger(window: 4, verdict: .refuse)
        let first = ledger.observe(client: "10.0.0.2:5000", syn: true, ack: false, fin: false, rst: false, at: 100.25)
        #expect(first == [JournalEvent(at: 100.25, kind: .connRefused, window: 4, client: "10.0.0.2:5000")])
        #expect(ledger.observe(client: "10.0.0.2:5000", syn: true, ack: false, fin: false, rst: false, at: 101).isEmpty)
        let second = ledger.observe(client: "10.0.0.2:5001", syn: true, ack: false, fin: false, rst: false, at: 101.5)
        #expect(second.map(\.kind) == [.connRefused])
        #expect(second.first?.client == "10.0.0.2:5001")
    }

    @Test("refuse: a packet of an established connection is a kernel reset, once; a client RST is not")
    func kernelResets() {
        var ledger = AttemptLedger(window: 1, verdict: .refuse)
        #expect(ledger.observe(client: "10.0.0.2:6000", syn: false, ack: true, fin: false, rst: true, at: 1).isEmpty)
        let reset = ledger.observe(client: "10.0.0.2:6001", syn: false, ack: true, fin: false, rst: false, at: 2)
        #expect(reset.map(\.kind) == [.connReset])
        #expect(reset.first?.detail == AttemptLedger.kernelResetDetail)
        #expect(ledger.observe(client: "10.0.0.2:6001", syn: false, ack: true, fin: false, rst: false, at: 2.2).isEmpty)
    }

    @Test("drop: SYN retransmissions are one attempt, never refused; giving up is FIN, RST or a new attempt")
    func droppedConnects() {
        var ledger = AttemptLedger(window: 2, verdict: .drop)
        var events: [JournalEvent] = []
        // The kernel retransmits a SYN at 1, 3, 7 s: one attempt.
        for time in [0.0, 1, 3, 7] {
            events += ledger.observe(client: "10.0.0.2:7000", syn: true, ack: false, fin: false, rst: false, at: time)
        }
        #expect(events.map(\.kind) == [.connDropped])
        #expect(events.first?.at == 0)
        // The client gives up and tries again from a new port.
        events = ledger.observe(client: "10.0.0.2:7001", syn: true, ack: false, fin: false, rst: false, at: 10)
        #expect(events.map(\.kind) == [.clientGaveUp, .connDropped])
        #expect(events.first?.client == "10.0.0.2:7000")
        #expect(events.first?.detail == "new attempt from 10.0.0.2:7001")
        #expect(!events.contains { $0.kind == .connRefused })
        // A frozen established connection: data retransmissions are nothing, its FIN is giving up.
        #expect(ledger.observe(client: "10.0.0.3:8000", syn: false, ack: true, fin: false, rst: false, at: 11).isEmpty)
        let gaveUp = ledger.observe(client: "10.0.0.3:8000", syn: false, ack: true, fin: true, rst: false, at: 12)
        #expect(gaveUp.map(\.kind) == [.clientGaveUp])
        #expect(gaveUp.first?.detail == "FIN")
        #expect(ledger.observe(client: "10.0.0.3:8000", syn: false, ack: true, fin: true, rst: false, at: 13).isEmpty)
    }
}
