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

    /// The distinct lines after `offset` that match `pattern` (case-insensitive), oldest first, at
    /// most `limit`; nil when the file is not a regular file that can be opened now. A file shorter
    /// than `offset` was rotated or truncated: it is read from its start.
    public func matchingLines(after offset: UInt64, pattern: String, limit: Int = 20) -> [String]? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        let start = UInt64(info.st_size) >= offset ? offset : 0
        guard lseek(fd, off_t(start), SEEK_SET) >= 0 else { return nil }
        var seen: [String] = []
        var partial = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: Self.window)
        var total = 0
        func take(_ line: ArraySlice<UInt8>) {
            let text = String(decoding: line.prefix(Self.lineLimit), as: UTF8.self).trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty, !seen.contains(text),
                  text.range(of: pattern, options: [.regularExpression, .caseInsensitive]) != nil else { return }
            seen.append(text)
        }
        while seen.count < limit && total < Self.readLimit {
            let count = read(fd, &buffer, min(Self.window, Self.readLimit - total))
            guard count > 0 else { break }
            total += count
            var lineStart = 0
            for index in 0..<count where buffer[index] == UInt8(ascii: "\n") {
                partial.append(contentsOf: buffer[lineStart..<index].prefix(max(0, Self.lineLimit - partial.count)))
                take(partial[...])
                partial.removeAll(keepingCapacity: true)
                lineStart = index + 1
                if seen.count == limit { break }
            }
            if lineStart < count, partial.count < Self.lineLimit {
                partial.append(contentsOf: buffer[lineStart..<count].prefix(Self.lineLimit - partial.count))
            }
        }
        if seen.count < limit, !partial.isEmpty { take(partial[...]) }
        return seen
    }
}
