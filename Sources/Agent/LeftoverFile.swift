import Faults
import Foundation
import Infrastructure
import Logging
import Synchronization

/// What the agent changed outside itself (an iptables chain, a stopped server), written down as it
/// changes so that the next agent can undo it if this one dies. Lives in the agent's own `run/`;
/// read only when it is a regular file of ours (no symlink followed), replaced atomically. The
/// faults in force are kept apart, in `ScheduleFile`, so that voiding them never loses this.
final class LeftoverFile: Sendable {
    struct Contents: Codable {
        var iptables = false
        var serviceStopped = false
    }

    let url: URL
    private let contents: Mutex<Contents>
    private let log = AgentLog.logger("agent.leftovers")

    init(url: URL) {
        self.url = url
        var existing: Contents?
        do {
            if let data = try OwnedPath.readTrusted(url, limit: 1 << 20), !data.isEmpty {
                existing = try JSONDecoder().decode(Contents.self, from: data)
            }
        } catch {
            // What is still in place outside (our chain, a stopped server) is found again at start.
            log.error("the previous agent's record cannot be read; starting from nothing", metadata: ["file": "\(url.path)", "error": "\(error)"])
        }
        contents = Mutex(existing ?? Contents())
    }

    var iptables: Bool { contents.withLock { $0.iptables } }
    var serviceStopped: Bool { contents.withLock { $0.serviceStopped } }

    /// Records what changed; returns what failed (a full disk), which is also logged.
    @discardableResult
    func record(iptables: Bool? = nil, serviceStopped: Bool? = nil) -> String? {
        let snapshot = contents.withLock { contents in
            if let iptables { contents.iptables = iptables }
            if let serviceStopped { contents.serviceStopped = serviceStopped }
            return contents
        }
        do { try JSONEncoder().encode(snapshot).write(to: url, options: .atomic) } catch {
            log.error("cannot record what the agent changed for a successor", metadata: ["file": "\(url.path)", "error": "\(error)"])
            return "cannot record what the agent changed (\(url.path): \(Self.reason(error)))"
        }
        return nil
    }

    /// Forgets the changes outside the agent (they were undone).
    @discardableResult
    func clear() -> String? { record(iptables: false, serviceStopped: false) }

    /// The system's words for a failed write ("No space left on device"), not Foundation's wrapper.
    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        return "\(error)"
    }
}

/// The faults the agent has in force with their wall-clock deadlines (`ScheduleRecord`), in
/// `run/agent-schedule.json`, so that an agent started after this one died goes on with them.
/// Written to a new file renamed over the old one; removed (which needs no space) to void it.
struct ScheduleFile: ScheduleRecordStorage {
    let url: URL

    init(state: StateDirectory) { url = state.runDirectory.appendingPathComponent("agent-schedule.json") }

    var saved: SavedSchedule<ScheduleFile> { SavedSchedule(storage: self) }

    func read() throws -> Data? { try OwnedPath.readTrusted(url, limit: 1 << 20) }

    func replace(with data: Data) throws {
        let temporary = url.path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Self.failure("cannot create \(temporary)") }
        var ok = data.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let written = write(fd, raw.baseAddress! + done, raw.count - done)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { if written == 0 { errno = ENOSPC }; return false }
                done += written
            }
            return true
        }
        let error = errno
        ok = ok && fsync(fd) == 0
        let syncError = errno
        close(fd)
        guard ok else {
            unlink(temporary)
            errno = error != 0 ? error : syncError
            throw Self.failure("cannot write \(temporary)")
        }
        guard rename(temporary, url.path) == 0 else {
            let error = errno
            unlink(temporary)
            errno = error
            throw Self.failure("cannot rename \(temporary)")
        }
    }

    func remove() throws {
        guard unlink(url.path) == 0 || errno == ENOENT else { throw Self.failure("cannot remove \(url.path)") }
    }

    func empty() throws {
        let fd = open(url.path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return }
            throw Self.failure("cannot open \(url.path)")
        }
        defer { close(fd) }
        guard ftruncate(fd, 0) == 0 else { throw Self.failure("cannot empty \(url.path)") }
    }

    private static func failure(_ what: String) -> ToolkitError {
        ToolkitError("\(what): \(String(cString: strerror(errno)))")
    }
}
