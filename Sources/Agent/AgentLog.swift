import Foundation
import Logging
import Infrastructure
import Synchronization

/// The agent's diagnostics: swift-log records, one line each, appended to
/// `$TOOLKIT_HOME/log/agent.log` (the supervisor's too, and whatever the process itself prints
/// there). The journal says what clients did; this log says what the agent did and what failed.
/// The level comes from `TOOLKIT_LOG_LEVEL` (default `info`).
public enum AgentLog {
    public static let levelVariable = "TOOLKIT_LOG_LEVEL"
    /// Past this size `agent.log` becomes `agent.log.1` (replacing the previous one) and a new one starts.
    public static let maxBytes = 16 << 20

    public static func file(_ state: StateDirectory) -> URL { state.logDirectory.appendingPathComponent("agent.log") }

    /// The level `TOOLKIT_LOG_LEVEL` asks for: `info` when it is unset, a usage error naming what is allowed otherwise.
    public static func level(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Logger.Level {
        guard let value = environment[levelVariable], !value.isEmpty else { return .info }
        guard let level = Logger.Level(rawValue: value.lowercased()) else {
            throw ToolkitError.usage("\(levelVariable) is '\(value)'; it must be one of "
                + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return level
    }

    /// Makes `state`'s `agent.log` safe to append to before a process is started with its output
    /// there: a regular file of this account, mode 0600 (see `AgentLogFile.open`).
    public static func prepare(state: StateDirectory) throws {
        try state.prepareOwnDirectories()
        close(try AgentLogFile.open(file(state)))
    }

    private static let sink = Mutex<(file: AgentLogFile, level: Logger.Level)?>(nil)

    /// Sends this process's log records to `state`'s `agent.log`. Called by the agent's entry
    /// points (`toolkit agent`, `--supervise`); the first call wins, later ones change nothing.
    public static func bootstrap(state: StateDirectory) throws {
        let level = try level()
        try state.prepareOwnDirectories()
        let file = try AgentLogFile(url: file(state))
        let installed = sink.withLock { sink in
            guard sink == nil else { return false }
            sink = (file, level)
            return true
        }
        guard installed else { return }
        LoggingSystem.bootstrap { label in AgentLogHandler(label: label, file: file, logLevel: level) }
    }

    /// A logger for one part of the agent. Before `bootstrap` (the CLI, tests that use the
    /// agent's types in their own process) its records go nowhere.
    static func logger(_ label: String) -> Logger {
        guard let (file, level) = sink.withLock({ $0 }) else {
            return Logger(label: label) { _ in SwiftLogNoOpLogHandler() }
        }
        return Logger(label: label) { label in AgentLogHandler(label: label, file: file, logLevel: level) }
    }
}

/// Writes each record as one `AgentLogLine` to an `AgentLogFile`.
struct AgentLogHandler: LogHandler {
    let label: String
    let file: AgentLogFile
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, file: AgentLogFile, logLevel: Logger.Level) {
        self.label = label
        self.file = file
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let given = event.metadata { all.merge(given) { $1 } }
        if let error = event.error { all["error"] = "\(error)" }
        file.append(AgentLogLine.format(at: Date(), level: event.level, label: label, message: event.message.description,
                                        metadata: all))
    }
}

/// One record as a line: `2026-11-25T17:13:01.042Z info agent: agent started backend=gateway pid=4242`.
/// Newlines in the message are escaped; metadata values with spaces, quotes or `=` are quoted.
enum AgentLogLine {
    static func format(at date: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var line = "\(timestamp(date)) \(level.rawValue) \(label): \(escaped(message))"
        for key in metadata.keys.sorted() {
            line += " \(key)=\(quotedIfNeeded(metadata[key].map { "\($0)" } ?? ""))"
        }
        return line + "\n"
    }

    /// ISO 8601, UTC, to the millisecond.
    static func timestamp(_ date: Date) -> String {
        let since = date.timeIntervalSince1970
        var seconds = time_t(since.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = min(999, Int((since - since.rounded(.down)) * 1000))
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }

    static func escaped(_ text: String) -> String {
        guard text.contains(where: { $0.isNewline }) else { return text }
        return text.replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n")
            .replacingOccurrences(of: "\r", with: "\\r")
    }

    static func quotedIfNeeded(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return value }
        return "\"" + escaped(value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")) + "\""
    }
}

/// `agent.log`, opened for appending so that the server's account cannot steer root's writes:
/// never through a symlink, only a regular file of this account with one link, mode 0600.
/// Bounded: past `maxBytes` it is renamed `agent.log.1` and a new one begins, so at most twice
/// `maxBytes` stay on disk. The supervisor and the agent both append to it; whichever finds it
/// full first renames it (under `flock`), the other then opens the new one. After a rotation the
/// process's stdout and stderr (opened on the old file by whoever started it) follow to the new one.
///
/// Each record is written whole or not at all (`WholeLines`, under `flock` so that the other
/// process's records are never cut back with ours). Records that cannot be written (a full disk)
/// go to stderr when that is not this file, and are counted: the first record written after them
/// is preceded by "N log records lost: disk full from T1 to T2". A last line cut short (by an
/// older version, or a crash) is cut off when the file is opened, and said so.
final class AgentLogFile: Sendable {
    let url: URL
    let maxBytes: Int
    private let descriptor: Mutex<Int32>
    private let loss = Mutex<(count: Int, from: Date?, cause: String?)>((0, nil, nil))

    var rotatedURL: URL { URL(fileURLWithPath: url.path + ".1") }

    init(url: URL, maxBytes: Int = AgentLog.maxBytes) throws {
        self.url = url
        self.maxBytes = maxBytes
        let fd = try Self.open(url)
        descriptor = Mutex(fd)
        flock(fd, LOCK_EX)
        let torn = AppendOnlyFile(descriptor: fd).cutTornLastLine()
        flock(fd, LOCK_UN)
        if let torn {
            append(AgentLogLine.format(at: Date(), level: .warning, label: "agent.log",
                                       message: "a last line cut short (\(torn.count) bytes) was cut off", metadata: [:]))
        }
    }

    deinit { descriptor.withLock { _ = close($0) } }

    /// A descriptor for appending to `url`. A symlink, a FIFO or a file that is not a regular file
    /// of ours with one link (one another account planted, or a hard link to someone else's) is
    /// removed — not followed, not written — and the file created anew.
    static func open(_ url: URL) throws -> Int32 {
        var reason = ""
        for _ in 0..<3 {
            let fd = Glibc.open(url.path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o600)
            if fd >= 0 {
                var info = stat()
                if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid(), info.st_nlink == 1 {
                    if info.st_mode & 0o7777 != 0o600 { fchmod(fd, 0o600) }
                    return fd
                }
                reason = "not a regular file of uid \(geteuid()) with one link"
                close(fd)
            } else {
                reason = String(cString: strerror(errno))
                guard errno == ELOOP || errno == ENXIO || errno == EACCES else { break }
            }
            guard unlink(url.path) == 0 || errno == ENOENT else {
                reason += "; cannot remove it: \(String(cString: strerror(errno)))"
                break
            }
        }
        throw ToolkitError("cannot open \(url.path) for the agent's log: \(reason)")
    }

    func append(_ line: String) {
        let bytes = Array(line.utf8)
        descriptor.withLock { fd in
            var info = stat()
            if fstat(fd, &info) == 0, info.st_size > 0, Int(info.st_size) + bytes.count > maxBytes { rotate(&fd) }
            flock(fd, LOCK_EX)
            defer { flock(fd, LOCK_UN) }
            let file = AppendOnlyFile(descriptor: fd)
            let lost = loss.withLock { $0 }
            if lost.count > 0, let from = lost.from {
                let note = AgentLogLine.format(
                    at: Date(), level: .warning, label: "agent.log",
                    message: "\(lost.count) log record\(lost.count == 1 ? "" : "s") lost: \(lost.cause ?? "disk full") from "
                        + "\(AgentLogLine.timestamp(from)) to \(AgentLogLine.timestamp(Date()))", metadata: [:])
                do throws(WholeLines.Failure) {
                    try file.append(Array(note.utf8))
                    loss.withLock { $0 = (0, nil, nil) }
                } catch {
                    lose(bytes, error, fd: fd)
                    return
                }
            }
            do throws(WholeLines.Failure) { try file.append(bytes) } catch { lose(bytes, error, fd: fd) }
        }
    }

    /// A record that could not be written: counted, and sent to stderr unless stderr is this file.
    private func lose(_ bytes: [UInt8], _ failure: WholeLines.Failure, fd: Int32) {
        loss.withLock { loss in
            loss.count += 1
            loss.from = loss.from ?? Date()
            if loss.cause == nil || failure.isDiskFull { loss.cause = failure.isDiskFull ? "disk full" : "write failed (\(failure))" }
        }
        var mine = stat(), standard = stat()
        guard fstat(fd, &mine) == 0, fstat(STDERR_FILENO, &standard) == 0,
              mine.st_dev != standard.st_dev || mine.st_ino != standard.st_ino else { return }
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    private func rotate(_ fd: inout Int32) {
        var mine = stat()
        guard fstat(fd, &mine) == 0 else { return }
        flock(fd, LOCK_EX)
        var current = stat()
        // Still the file at our path: nobody rotated it yet.
        if lstat(url.path, &current) == 0, current.st_dev == mine.st_dev, current.st_ino == mine.st_ino {
            rename(url.path, rotatedURL.path)
        }
        // If no new file can be made, the old one goes on (over its bound) rather than losing records.
        let next = try? Self.open(url)
        flock(fd, LOCK_UN)
        guard let next else { return }
        for standard in [STDOUT_FILENO, STDERR_FILENO] {
            var info = stat()
            if fstat(standard, &info) == 0, info.st_dev == mine.st_dev, info.st_ino == mine.st_ino { dup2(next, standard) }
        }
        close(fd)
        fd = next
    }
}
