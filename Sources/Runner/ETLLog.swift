import Foundation

/// The ETL tool's log (`run --etl-log`): a regular file, opened without waiting (a FIFO would block
/// `open` for ever) and read in bounded windows (a device such as /dev/zero never ends).
public struct ETLLog: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Bytes read at a time.
    static let window = 1 << 20
    /// Bytes read past the fault's start at most: the first matching lines are near it.
    static let readLimit = 64 << 20
    /// A line longer than this is cut: a log line, not a file.
    static let lineLimit = 4_096

    /// Why `path` cannot be an ETL log (for `--etl-log`'s one-line refusal), or nil when it can.
    public static func problem(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return String(cString: strerror(errno)) }
        let kind: String? = switch info.st_mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR, S_IFBLK: "a device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
        if let kind { return "it is \(kind)" }
        guard access(path, R_OK) == 0 else { return String(cString: strerror(errno)) }
        return nil
    }

    /// The file's size now; nil when it is not a regular file (any more).
    public func size() -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        return UInt64(info.st_size)
    }

    /// The lines after `offset`, oldest first (each cut at `lineLimit`, at most `readLimit` bytes
    /// read); nil when the file is not a regular file that can be opened now. A file shorter than
    /// `offset` was rotated or truncated: it is read from its start.
    public func lines(after offset: UInt64) -> [String]? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let start = UInt64(info.st_size) >= offset ? offset : 0
        guard lseek(fd, off_t(start), SEEK_SET) >= 0 else { return nil }
        var lines: [String] = []
        var partial = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: Self.window)
        var total = 0
        func take(_ line: ArraySlice<UInt8>) {
            lines.append(String(decoding: line.prefix(Self.lineLimit), as: UTF8.self))
        }
        while total < Self.readLimit {
            let count = read(fd, &buffer, min(Self.window, Self.readLimit - total))
            guard count > 0 else { break }
            total += count
            var lineStart = 0
            for index in 0..<count where buffer[index] == UInt8(ascii: "\n") {
                partial.append(contentsOf: buffer[lineStart..<index].prefix(max(0, Self.lineLimit - partial.count)))
                take(partial[...])
                partial.removeAll(keepingCapacity: true)
                lineStart = index + 1
            }
            if lineStart < count, partial.count < Self.lineLimit {
                partial.append(contentsOf: buffer[lineStart..<count].prefix(Self.lineLimit - partial.count))
            }
        }
        if !partial.isEmpty { take(partial[...]) }
        return lines
    }
}

/// How an ETL tool's log is read: what the tool said after the fault started, and whether it
/// stopped for good. Pure: lines in, messages out.
public enum ETLLogReader: String, Sendable, Codable {
    /// One line is one message: the first distinct lines that match.
    case generic
    /// Java's records: a line with its continuation lines (the stack trace, `Caused by:`), quoted
    /// with its root cause; "Engine has failed" / "Engine is stopped" say the engine died.
    case debezium

    /// `--etl-tool`'s name chooses: one naming Debezium (any case) gets Debezium's reader.
    public static func forTool(_ name: String?) -> ETLLogReader {
        name?.lowercased().contains("debezium") == true ? .debezium : .generic
    }

    public struct Reading: Sendable, Equatable {
        /// The distinct messages that match, oldest first (at most `limit`).
        public var messages: [String]
        /// The line that says the tool stopped for good, if one came.
        public var stopped: String?
    }

    public func read(_ lines: [String], pattern: String, limit: Int = 20) -> Reading {
        func matches(_ text: String) -> Bool { text.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil }
        var messages: [String] = []
        func add(_ text: String) {
            if messages.count < limit, !messages.contains(text) { messages.append(text) }
        }
        switch self {
        case .generic:
            for line in lines {
                let text = line.trimmingCharacters(in: .whitespaces)
                if !text.isEmpty, matches(text) { add(text) }
            }
            return Reading(messages: messages, stopped: nil)
        case .debezium:
            var stopped: String?
            for record in Self.records(lines) {
                let head = record.head.trimmingCharacters(in: .whitespaces)
                if stopped == nil, head.range(of: "Engine has failed|Engine is stopped", options: .regularExpression) != nil {
                    stopped = head
                }
                guard matches(head) || record.continuation.contains(where: matches) else { continue }
                add(Self.rootCause(of: record).map { "\(head) — caused by: \($0)" } ?? head)
            }
            return Reading(messages: messages, stopped: stopped)
        }
    }

    /// Lines grouped into records: a record's continuation lines are indented, start a stack frame
    /// (`at `, `... 12 more`), a cause (`Caused by:`, `Suppressed:`), or name an exception class.
    static func records(_ lines: [String]) -> [(head: String, continuation: [String])] {
        var records: [(head: String, continuation: [String])] = []
        for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            if isContinuation(line), !records.isEmpty {
                records[records.count - 1].continuation.append(line.trimmingCharacters(in: .whitespaces))
            } else {
                records.append((line, []))
            }
        }
        return records
    }

    static func isContinuation(_ line: String) -> Bool {
        if line.first == " " || line.first == "\t" { return true }
        if line.hasPrefix("Caused by:") || line.hasPrefix("Suppressed:") || line.hasPrefix("...") { return true }
        return line.range(of: #"^[A-Za-z_$][\w$]*(\.[\w$]+)+(Exception|Error|Throwable)(:|$)"#, options: .regularExpression) != nil
    }

    /// The deepest cause a record names: its last `Caused by:`, else the exception its trace starts with.
    static func rootCause(of record: (head: String, continuation: [String])) -> String? {
        if let cause = record.continuation.last(where: { $0.hasPrefix("Caused by:") }) {
            return String(cause.dropFirst("Caused by:".count)).trimmingCharacters(in: .whitespaces)
        }
        return record.continuation.first { !$0.hasPrefix("at ") && !$0.hasPrefix("...") }
    }
}
