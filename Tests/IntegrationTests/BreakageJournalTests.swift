import Foundation
import Testing

@Suite("breakages with the agent: lag through the gateway, every action journaled", .tags(.integration, .endToEnd))
struct BreakageJournalTests {
    @Test("replicate --scenario lag asks the agent for replication latency and keeps writing; actions land in the journal")
    func lagAndJournal() throws {
        let fixture = try AgentFixture(name: "breakage")
        defer { fixture.tearDown() }
        let lag = try fixture.toolkit(["replicate", "--scenario", "lag", "--duration", "2", "--delay", "300", "--json"], timeout: 60)
        let result = (try? JSONSerialization.jsonObject(with: Data(lag.stdout.utf8))) as? [String: Any] ?? [:]
        #expect((result["rows_written"] as? Int ?? 0) >= 1)
        try fixture.toolkit(["schema-change", "--type", "create-table"])
        try fixture.toolkit(["transaction", "--type", "many-rows", "--rows", "10"])
        let events = try fixture.toolkit(["events", "--json"])
        #expect(events.stdout.contains("\"fault\":{\"latency_ms\":300,\"scope\":\"replication\""), "\(events.stdout.suffix(2000))")
        for command in ["replicate", "schema-change", "transaction"] {
            #expect(events.stdout.contains(command), "no journal note from \(command)")
        }
    }
}
