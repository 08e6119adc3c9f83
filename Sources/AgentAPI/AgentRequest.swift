import Foundation

/// Every operation of the agent's control API, with its method and path: the one place routes are
/// named. The agent's router and `AgentClient` both go through `AgentRequest`; `openapi.json`
/// (served by `GET /openapi.json`, and kept in the repository) documents the same operations.
public enum AgentOperation: String, CaseIterable, Sendable {
    case status, faults, events, window, notes, shutdown, openAPI

    public var method: String {
        switch self {
        case .status, .events, .window, .openAPI: "GET"
        case .faults, .notes, .shutdown: "POST"
        }
    }

    public var path: String {
        switch self {
        case .openAPI: "/openapi.json"
        default: "/" + rawValue
        }
    }

    /// The control API's OpenAPI 3.1 document (`Sources/AgentAPI/openapi.json`, embedded).
    public static var openAPIDocument: [UInt8] { PackageResources.openapi_json }

    /// The query keys the operation takes; any other key is a client's mistake (400).
    var queryKeys: Set<String> {
        switch self {
        case .events: ["since"]
        case .window: ["id"]
        default: []
        }
    }
}

/// One request to the agent, typed: what the router acts on and what the client sends.
public enum AgentRequest: Sendable {
    case status
    case faults(FaultCommand)
    case events(since: UInt64)
    case window(id: Int)
    case note(JournalNote)
    case shutdown
    case openAPI

    public var operation: AgentOperation {
        switch self {
        case .status: .status
        case .faults: .faults
        case .events: .events
        case .window: .window
        case .note: .notes
        case .shutdown: .shutdown
        case .openAPI: .openAPI
        }
    }

    /// The request target (path and query) and body the client sends.
    public func encoded() throws -> (method: String, target: String, body: Data) {
        let operation = self.operation
        var target = operation.path
        var body = Data()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        switch self {
        case .status, .shutdown, .openAPI: break
        case .faults(let command): body = try encoder.encode(command)
        case .note(let note): body = try encoder.encode(note)
        case .events(let since): target += "?since=\(since)"
        case .window(let id): target += "?id=\(id)"
        }
        return (operation.method, target, body)
    }

    /// The request an HTTP request stands for, or the 4xx failure that answers a client's mistake:
    /// 404 for an unknown path, 405 for a known path with another method, 400 naming the query
    /// key or body field that is wrong. Nothing is acted on here.
    public init(method: String, target: String, body: Data) throws(AgentFailure) {
        let (rawPath, rawQuery) = ControlQuery.split(target)
        guard let path = ControlQuery.percentDecoded(rawPath) else {
            throw AgentFailure(status: 400, message: "the path is not valid percent-encoded UTF-8")
        }
        guard let operation = AgentOperation.allCases.first(where: { $0.path == path }) else {
            throw AgentFailure(status: 404, message: "no such endpoint: \(ControlQuery.shown(path))")
        }
        guard operation.method == method else {
            throw AgentFailure(status: 405, message: "\(operation.path) takes \(operation.method), not \(ControlQuery.shown(method))",
                               allow: operation.method)
        }
        let query = try ControlQuery.parse(rawQuery ?? "")
        if let unknown = query.keys.sorted().first(where: { !operation.queryKeys.contains($0) }) {
            let allowed = operation.queryKeys.isEmpty ? "it takes none" : "it takes " + operation.queryKeys.sorted().joined(separator: ", ")
            throw AgentFailure(status: 400, message: "unknown query parameter '\(ControlQuery.shown(unknown))' for \(operation.path): \(allowed)")
        }
        switch operation {
        case .status: self = .status
        case .shutdown: self = .shutdown
        case .openAPI: self = .openAPI
        case .events:
            let text = query["since"] ?? "0"
            guard let since = UInt64(text) else {
                throw AgentFailure(status: 400, message: "since must be a seq (a whole number from 0 to \(UInt64.max)), got '\(ControlQuery.shown(text))'")
            }
            self = .events(since: since)
        case .window:
            let text = query["id"] ?? ""
            guard let id = Int(text), id >= 1 else {
                throw AgentFailure(status: 400, message: "id must be a window number from 1 to \(Int.max), got '\(ControlQuery.shown(text))'")
            }
            self = .window(id: id)
        case .faults:
            try ControlQuery.refuseUnknownFields(body, Self.faultCommandFields, nested: ["spec": Self.faultSpecFields])
            let command: FaultCommand
            do { command = try JSONDecoder().decode(FaultCommand.self, from: body) } catch {
                throw AgentFailure(status: 400, message: "bad fault command: \(ControlQuery.bodyError(error))")
            }
            // The command line's own rules, for every action: an `up` with a fault or a --duration
            // beside it was carried out as if they were not there.
            _ = try command.scheduleCommand()
            self = .faults(command)
        case .notes:
            try ControlQuery.refuseUnknownFields(body, Self.noteFields)
            let note: JournalNote
            do { note = try JSONDecoder().decode(JournalNote.self, from: body) } catch {
                throw AgentFailure(status: 400, message: "a note needs {\"detail\": \"...\"}: \(ControlQuery.bodyError(error))")
            }
            guard !note.detail.isEmpty else { throw AgentFailure(status: 400, message: "a note needs a detail that is not empty") }
            try note.checkSize()
            self = .note(note)
        }
    }
}

extension AgentRequest {
    /// The fields a fault command and its spec may carry (as `openapi.json` lists them): a field
    /// the agent would ignore is a client's mistake, answered 400, never silently dropped.
    static let faultCommandFields: Set<String> = ["action", "spec", "duration_seconds", "interval_seconds", "backend"]
    static let faultSpecFields: Set<String> = ["type", "scope", "crash", "latency_ms", "jitter_ms", "bytes_per_second", "backend"]
    static let noteFields: Set<String> = ["command", "detail"]
}

/// The request target's query string (`a=1&b=2`), parsed as `application/x-www-form-urlencoded`
/// is: `&`-separated pairs, `+` is a space, `%XX` bytes decoded, the result valid UTF-8. An empty
/// or repeated key, a bad escape or bytes that are not UTF-8 are a 400 naming what is wrong.
/// Pure: the control API's only reading of untrusted query bytes.
public enum ControlQuery {
    /// Path and query (without the `?`; nil when there is none). A fragment is not part of a request target.
    public static func split(_ target: String) -> (path: Substring, query: Substring?) {
        guard let mark = target.firstIndex(of: "?") else { return (target[...], nil) }
        return (target[..<mark], target[target.index(after: mark)...])
    }

    public static func parse(_ query: Substring) throws(AgentFailure) -> [String: String] {
        var pairs: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let (rawKey, rawValue): (Substring, Substring)
            if let equals = pair.firstIndex(of: "=") {
                (rawKey, rawValue) = (pair[..<equals], pair[pair.index(after: equals)...])
            } else {
                (rawKey, rawValue) = (pair, "")
            }
            guard let key = percentDecoded(rawKey, plusIsSpace: true),
                  let value = percentDecoded(rawValue, plusIsSpace: true) else {
                throw AgentFailure(status: 400, message: "the query '\(shown(String(pair)))' is not valid percent-encoded UTF-8")
            }
            guard !key.isEmpty else {
                throw AgentFailure(status: 400, message: "the query has a parameter without a name ('\(shown(String(pair)))')")
            }
            guard pairs[key] == nil else {
                throw AgentFailure(status: 400, message: "the query parameter '\(shown(key))' is given more than once")
            }
            pairs[key] = value
        }
        return pairs
    }

    /// A 400 naming the first field of a JSON object body (or of one of its `nested` objects) that
    /// is not allowed, or given as `null` (the document has no nullable field). A body that is not a JSON object is left to the decoder to name.
    static func refuseUnknownFields(_ body: Data, _ allowed: Set<String>, nested: [String: Set<String>] = [:]) throws(AgentFailure) {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return }
        func check(_ object: [String: Any], _ allowed: Set<String>, prefix: String) throws(AgentFailure) {
            if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw AgentFailure(status: 400, message: "unknown field '\(shown(prefix + unknown))': allowed are \(allowed.sorted().joined(separator: ", "))")
            }
            if let empty = object.keys.sorted().first(where: { object[$0] is NSNull }) {
                throw AgentFailure(status: 400, message: "the field '\(shown(prefix + empty))' is null: leave it out or give it a value")
            }
        }
        try check(object, allowed, prefix: "")
        for (key, fields) in nested.sorted(by: { $0.key < $1.key }) {
            if let inner = object[key] as? [String: Any] { try check(inner, fields, prefix: key + ".") }
        }
    }

    /// `%XX` decoded (and `+` as a space in a query); nil for a bad escape or bytes that are not UTF-8.
    public static func percentDecoded(_ text: Substring, plusIsSpace: Bool = false) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A client's text in an error message: at most 80 characters, control characters escaped.
    static func shown(_ text: String) -> String {
        let cut = text.count > 80 ? String(text.prefix(80)) + "…" : text
        return cut.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
    }

    /// A JSON decoding error in one line: the field's path and what was wrong, not Foundation's dump.
    static func bodyError(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return shown("\(error)") }
        func path(_ context: DecodingError.Context) -> String {
            let names = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return names.isEmpty ? "the body" : names.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "\(parent == "the body" ? "" : parent + ".")\(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(shown(context.debugDescription))"
        @unknown default:
            return shown("\(error)")
        }
    }
}
