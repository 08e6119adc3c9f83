@testable import AgentAPI
import Faults
import Foundation
import Testing

/// The control API's reading of a request: every mistake of a client is a 4xx naming it, and what
/// the client sends is what the router reads.
@Suite("Control API requests")
struct AgentRequestTests {
    private func refusal(_ method: String, _ target: String, body: String = "") -> AgentFailure? {
        do {
            _ = try AgentRequest(method: method, target: target, body: Data(body.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test("GET /events?= and other empty names are a 400, not a crash")
    func emptyKeys() throws {
        for target in ["/events?=", "/events?=5", "/window?=&id=1", "/events?&=", "/status?="] {
            let failure = try #require(refusal("GET", target), "\(target) was accepted")
            #expect(failure.status == 400, "\(target): \(failure)")
            #expect(failure.message.contains("without a name"), "\(target): \(failure.message)")
        }
    }

    @Test("Bad escapes and bytes that are not UTF-8 are a 400 naming the query")
    func badEscapes() throws {
        for target in ["/events?since=%zz", "/events?since=%4", "/events?since=%", "/events?since=%ff%fe", "/events?%zz=1"] {
            let failure = try #require(refusal("GET", target))
            #expect(failure.status == 400)
            #expect(failure.message.contains("percent-encoded UTF-8"), "\(target): \(failure.message)")
        }
        #expect(refusal("GET", "/stat%zzus")?.status == 400)
    }

    @Test("A repeated or unknown parameter is a 400 naming it")
    func repeatedAndUnknown() throws {
        let repeated = try #require(refusal("GET", "/events?since=1&since=2"))
        #expect(repeated.status == 400 && repeated.message.contains("'since' is given more than once"))
        let unknown = try #require(refusal("GET", "/window?id=1&idd=2"))
        #expect(unknown.status == 400 && unknown.message.contains("'idd'") && unknown.message.contains("it takes id"))
        let none = try #require(refusal("GET", "/status?verbose=1"))
        #expect(none.status == 400 && none.message.contains("it takes none"))
    }

    @Test("Numbers out of range, negative or not numbers are a 400 with the range")
    func numbers() throws {
        for target in ["/events?since=-1", "/events?since=18446744073709551616", "/events?since=1e3", "/events?since=+1", "/events?since="] {
            let failure = try #require(refusal("GET", target), "\(target) was accepted")
            #expect(failure.status == 400 && failure.message.contains("since must be a seq"), "\(target): \(failure.message)")
        }
        for target in ["/window?id=0", "/window?id=-3", "/window?id=99999999999999999999", "/window", "/window?id=x"] {
            let failure = try #require(refusal("GET", target), "\(target) was accepted")
            #expect(failure.status == 400 && failure.message.contains("id must be a window number"), "\(target): \(failure.message)")
        }
    }

    @Test("Percent-encoding and + are decoded as in a form")
    func decoding() throws {
        guard case .events(let since) = try AgentRequest(method: "GET", target: "/events?s%69nce=%31%32", body: Data()) else {
            Issue.record("not an events request"); return
        }
        #expect(since == 12)
        #expect(ControlQuery.percentDecoded("a+b%20c", plusIsSpace: true) == "a b c")
        #expect(ControlQuery.percentDecoded("a+b", plusIsSpace: false) == "a+b")
        #expect(try ControlQuery.parse("a=1&&b=&c") == ["a": "1", "b": "", "c": ""])
    }

    @Test("Unknown paths are 404, a known path with another method 405; long paths are cut in the message")
    func pathsAndMethods() throws {
        #expect(refusal("GET", "/nothing")?.status == 404)
        #expect(refusal("GET", "")?.status == 404)
        #expect(refusal("GET", "*")?.status == 404)
        let long = "/" + String(repeating: "a", count: 70_000)
        let failure = try #require(refusal("GET", long))
        #expect(failure.status == 404 && failure.message.utf8.count < 200)
        let wrongMethod = try #require(refusal("GET", "/faults"))
        #expect(wrongMethod.status == 405 && wrongMethod.message.contains("takes POST"))
        #expect(refusal("DELETE", "/status")?.status == 405)
        #expect(refusal("POST", "/status")?.status == 405)
    }

    @Test("Bodies: malformed JSON, unknown fields, wrong types and empty notes are a 400 naming the field")
    func bodies() throws {
        let cases: [(String, String, String)] = [
            ("/faults", "", "bad fault command"),
            ("/faults", "{", "bad fault command"),
            ("/faults", "[]", "bad fault command"),
            ("/faults", #"{"action": "dwon"}"#, "action"),
            ("/faults", #"{"action": "down", "fualt": 1}"#, "unknown field 'fualt'"),
            ("/faults", #"{"action": "down", "spec": {"type": "reject", "crash": true, "color": 1}}"#, "unknown field 'spec.color'"),
            ("/faults", #"{"action": "down", "spec": {"type": "rejct"}}"#, "spec.type"),
            ("/faults", #"{"action": "down", "duration_seconds": 1e300}"#, "bad fault command"),
            ("/faults", #"{"action": "down", "duration_seconds": "soon"}"#, "duration_seconds"),
            ("/notes", #"{"detail": ""}"#, "not empty"),
            ("/notes", #"{"detail": 5}"#, "detail"),
            ("/notes", #"{"command": "x"}"#, "detail is missing"),
            ("/notes", #"{"detail": "x", "extra": 1}"#, "unknown field 'extra'"),
            ("/notes", #"{"command": null, "detail": "0"}"#, "'command' is null"),
            ("/faults", #"{"action": "up", "backend": null}"#, "'backend' is null"),
            ("/faults", #"{"action": "up", "duration_seconds": 1, "interval_seconds": 3601}"#, "--up goes alone"),
            ("/faults", #"{"action": "down", "spec": {"type": "reject"}, "interval_seconds": 5}"#, "--interval goes only with --flap"),
            ("/faults", #"{"action": "flap", "spec": {"type": "reject"}, "interval_seconds": 3601}"#, "--interval must be"),
            ("/faults", #"{"action": "down", "spec": {"type": "reject", "scope": null}}"#, "'spec.scope' is null"),
            ("/notes", String(decoding: [0x7b, 0xff, 0xfe, 0x7d], as: UTF8.self), "a note needs"),
        ]
        for (path, body, expected) in cases {
            let failure = try #require(refusal("POST", path, body: body), "\(path) \(body) was accepted")
            #expect(failure.status == 400, "\(path) \(body): \(failure)")
            #expect(failure.message.contains(expected), "\(path) \(body): \(failure.message)")
            #expect(!failure.message.contains("\n"), "\(path) \(body): more than one line")
        }
        let huge = try #require(refusal("POST", "/notes", body: #"{"detail": "\#(String(repeating: "x", count: 5000))"}"#))
        #expect(huge.status == 400 && huge.message.contains("at most 4096 bytes"))
    }

    @Test("Every request the client encodes is read back as the same request")
    func roundTrip() throws {
        let requests: [AgentRequest] = [
            .status, .shutdown, .openAPI, .events(since: 0), .events(since: UInt64.max), .window(id: 1), .window(id: Int.max),
            .faults(FaultCommand(action: .down, spec: FaultSpec(type: .reject), durationSeconds: 60)),
            .faults(FaultCommand(action: .up)),
            .note(JournalNote(command: "corrupt", detail: "truncated mysql-bin.000001")),
        ]
        for request in requests {
            let (method, target, body) = try request.encoded()
            let read = try AgentRequest(method: method, target: target, body: body)
            #expect(read.operation == request.operation)
            #expect(try read.encoded() == (method, target, body), "\(target)")
        }
        #expect(Set(requests.map(\.operation)) == Set(AgentOperation.allCases))
    }

    @Test("The OpenAPI document lists exactly the operations the router knows, with their methods")
    func openAPIDocument() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(AgentOperation.openAPIDocument)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
        let routed = Set(AgentOperation.allCases.map { "\($0.method) \($0.path)" })
        #expect(documented == routed)
        for operation in AgentOperation.allCases {
            let entry = try #require(paths[operation.path]?[operation.method.lowercased()] as? [String: Any])
            #expect(entry["operationId"] as? String == operation.rawValue)
        }
        // The fields the body decoder accepts are the ones the document allows.
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        for (name, fields) in [("FaultCommand", AgentRequest.faultCommandFields), ("FaultSpec", AgentRequest.faultSpecFields),
                               ("JournalNote", AgentRequest.noteFields)] {
            let properties = try #require(schemas[name]?["properties"] as? [String: Any])
            #expect(Set(properties.keys) == fields, "\(name)")
            #expect(schemas[name]?["additionalProperties"] as? Bool == false, "\(name)")
        }
    }
}
