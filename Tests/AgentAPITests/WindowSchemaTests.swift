import AgentAPI
import Faults
import Foundation
import Measurements
import Testing

/// The OpenAPI document describes the window JSON the agent sends: a detection's fields, bound
/// and log dating included, and the journal's `last_seen`.
@Suite("OpenAPI document: the window's detection and the journal event")
struct WindowSchemaTests {
    static func schemas() throws -> [String: [String: Any]] {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(AgentOperation.openAPIDocument)) as? [String: Any])
        return try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
    }

    /// The keys a value encodes to, every optional field set.
    static func keys<Value: Encodable>(_ value: Value) throws -> Set<String> {
        let object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(value)) as? [String: Any])
        return Set(object.keys)
    }

    @Test("Detection: the documented properties are exactly the fields it encodes, and no others are allowed")
    func detection() throws {
        let schemas = try Self.schemas()
        let window = try #require(schemas["WindowReport"]?["properties"] as? [String: Any])
        #expect((window["detection"] as? [String: Any])?["$ref"] as? String == "#/components/schemas/Detection")
        let schema = try #require(schemas["Detection"])
        let properties = try #require(schema["properties"] as? [String: Any])
        let full = Detection(after: 5.1, event: .clientGaveUp, conn: 3, detail: "new attempt from 10.0.0.2:7001", code: 2003,
                             message: "m", earliest: 3.1, latest: 5.1, bound: "after its last SYN retransmission",
                             logLine: "2026-12-03 10:00:04,105 ERROR", logSource: "etl log /tmp/client.log")
        #expect(Set(properties.keys) == (try Self.keys(full)))
        #expect(Set(schema["required"] as? [String] ?? []) == (try Self.keys(Detection(after: 1, event: .connRefused))))
        #expect(schema["additionalProperties"] as? Bool == false)
    }

    @Test("JournalEvent documents last_seen, a number")
    func journalEventLastSeen() throws {
        let properties = try #require(try Self.schemas()["JournalEvent"]?["properties"] as? [String: Any])
        #expect((properties["last_seen"] as? [String: Any])?["type"] as? String == "number")
        let event = JournalEvent(at: 5.1, kind: .clientGaveUp, lastSeen: 3.1)
        #expect(try Self.keys(event).contains("last_seen"))
    }
}
