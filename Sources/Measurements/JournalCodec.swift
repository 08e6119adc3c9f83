import Foundation

/// JSON lines: one `JournalEvent` per line, keys snake_case and sorted, nil fields left out.
public struct JournalCodec: Sendable {
    public init() {}

    /// One line, terminated by "\n".
    public func encodeLine(_ event: JournalEvent) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(event)
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// One line's JSON (with or without its "\n").
    public func decodeLine<Bytes: DataProtocol>(_ line: Bytes) throws -> JournalEvent {
        try JSONDecoder().decode(JournalEvent.self, from: Data(line))
    }

    /// Every event of a journal. Blank lines are skipped. A last line without its "\n" that
    /// does not decode is a write cut short (`truncatedLastLine`); any other line that does
    /// not decode is listed in `unreadableLines` and skipped, so that a journal damaged by a
    /// crash can still be measured.
    public func decode(_ journal: Data) -> JournalDecoding {
        var decoding = JournalDecoding()
        let newline = UInt8(ascii: "\n")
        var lineStart = journal.startIndex
        var lineNumber = 0
        while lineStart < journal.endIndex {
            lineNumber += 1
            let lineEnd = journal[lineStart...].firstIndex(of: newline)
            let line = journal[lineStart..<(lineEnd ?? journal.endIndex)]
            lineStart = lineEnd.map { journal.index(after: $0) } ?? journal.endIndex
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
                continue
            }
            if let event = try? decodeLine(line) {
                decoding.events.append(event)
            } else if lineEnd == nil {
                decoding.truncatedLastLine = true
            } else {
                decoding.unreadableLines.append(lineNumber)
            }
        }
        return decoding
    }
}

/// The result of `JournalCodec.decode(_:)`.
public struct JournalDecoding: Sendable, Hashable {
    public var events: [JournalEvent] = []
    /// The last line had no "\n" and did not decode: dropped.
    public var truncatedLastLine = false
    /// 1-based numbers of complete lines that did not decode: skipped.
    public var unreadableLines: [Int] = []

    public init(events: [JournalEvent] = [], truncatedLastLine: Bool = false, unreadableLines: [Int] = []) {
        self.events = events
        self.truncatedLastLine = truncatedLastLine
        self.unreadableLines = unreadableLines
    }
}
