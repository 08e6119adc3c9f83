import Foundation

/// Who holds a source for a test: one `run` (or soak) at a time, so that two of them never
/// claim the same fault window. The holder is written into the lock file; the lock itself is the
/// kernel's (an open-file-description lock on `run/run.lock`), so it ends with the holder's
/// process however that process ends, and no stale file can block the next run.
public struct RunLockHolder: Codable, Sendable, Hashable {
    public var pid: Int32
    /// What holds it: "run TC-004".
    public var command: String
    /// Seconds since 1970.
    public var started: Double

    public init(pid: Int32, command: String, started: Double) {
        self.pid = pid
        self.command = command
        self.started = started
    }

    /// "run TC-004 (pid 4711, started 19:50:01 UTC)".
    public var description: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss"
        return "\(command) (pid \(pid), started \(formatter.string(from: Date(timeIntervalSince1970: started))) UTC)"
    }
}

/// The run lock of one state directory, held from `acquire` until `release` or the process's end.
/// The descriptor is close-on-exec: a step's child process never inherits the lock.
public final class RunLock: @unchecked Sendable {
    public enum Failure: Error, CustomStringConvertible {
        /// Another process holds the source (its holder, when its file could be read).
        case busy(RunLockHolder?)
        case unusable(String)

        public var isBusy: Bool {
            if case .busy = self { return true }
            return false
        }

        public var description: String {
            switch self {
            case .busy(let holder): "the source is held by " + (holder?.description ?? "another run")
            case .unusable(let reason): "cannot take the source's run lock: \(reason)"
            }
        }
    }

    public let holder: RunLockHolder
    private var fd: Int32

    private init(fd: Int32, holder: RunLockHolder) {
        self.fd = fd
        self.holder = holder
    }

    deinit { release() }

    public static func file(_ state: StateDirectory) -> URL { state.runDirectory.appendingPathComponent("run.lock") }

    /// Takes the lock for `command`, or says who holds it. Never waits.
    public static func acquire(state: StateDirectory, command: String, pid: Int32 = getpid(),
                               now: Double = Date().timeIntervalSince1970) throws(Failure) -> RunLock {
        let url = file(state)
        let fd = open(url.path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o600)
        guard fd >= 0 else { throw .unusable("\(url.path): \(String(cString: strerror(errno)))") }
        do throws(Failure) {
            try requireOwn(fd, url)
            var lock = flock()
            lock.l_type = Int16(F_WRLCK)
            lock.l_whence = Int16(SEEK_SET)
            guard fcntl(fd, ofdSetLock, &lock) == 0 else {
                if errno == EAGAIN || errno == EACCES { throw .busy(readHolder(fd)) }
                throw .unusable("\(url.path): \(String(cString: strerror(errno)))")
            }
            let holder = RunLockHolder(pid: pid, command: command, started: now)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let data = (try? encoder.encode(holder)) ?? Data()
            let written = data.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            guard written == data.count, ftruncate(fd, off_t(data.count)) == 0 else {
                throw .unusable("cannot write \(url.path): \(String(cString: strerror(errno)))")
            }
            return RunLock(fd: fd, holder: holder)
        } catch {
            close(fd)
            throw error
        }
    }

    /// Who holds the source now; nil when no one does (or the state directory has no lock file).
    /// Takes no lock, so it never gets in the way of a run starting.
    public static func currentHolder(state: StateDirectory) -> RunLockHolder? {
        let url = file(state)
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard (try? requireOwn(fd, url)) != nil else { return nil }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        guard fcntl(fd, ofdGetLock, &lock) == 0, lock.l_type != Int16(F_UNLCK) else { return nil }
        return readHolder(fd) ?? RunLockHolder(pid: 0, command: "another run", started: 0)
    }

    /// Ends the hold; idempotent.
    public func release() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
    }

    // Linux's open-file-description locks: owned by this descriptor, not by the process, so that
    // no other descriptor of the same file closed in this process ends the hold (as it would end
    // a classic POSIX lock).
    private static let ofdGetLock: Int32 = 36
    private static let ofdSetLock: Int32 = 37

    /// The lock file must be ours (or root's) and writable by no one else: root trusts no
    /// holder another account could have written.
    private static func requireOwn(_ fd: Int32, _ url: URL) throws(Failure) {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw .unusable("\(url.path) is not a regular file") }
        guard info.st_uid == geteuid() || info.st_uid == 0, info.st_mode & 0o022 == 0 else {
            throw .unusable("\(url.path) belongs to uid \(info.st_uid) or can be written by others; refusing to trust it")
        }
    }

    private static func readHolder(_ fd: Int32) -> RunLockHolder? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return try? JSONDecoder().decode(RunLockHolder.self, from: Data(buffer[0..<count]))
    }
}

/// A process and its ancestors, nearest first, from /proc (at most `limit` of them).
public enum ProcessLineage {
    public static func ancestors(of pid: Int32, limit: Int = 64) -> [Int32] {
        var chain: [Int32] = []
        var current = pid
        while current > 0, chain.count < limit, !chain.contains(current) {
            chain.append(current)
            guard let stat = try? String(contentsOfFile: "/proc/\(current)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { break }
            // Field 4 (the parent) is the second after the command name.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, let parent = Int32(fields[1]) else { break }
            current = parent
        }
        return chain
    }
}
