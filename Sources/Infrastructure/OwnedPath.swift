import Foundation

/// Directories and files that one account owns and no other can write: what root may trust.
/// Everything is opened without following symlinks and checked on the descriptor it opened.
public enum OwnedPath {
    /// Creates `url` with `mode` if missing and makes it belong to `owner` with exactly `mode`.
    /// Refuses a symlink or anything that is not a directory.
    public static func prepareDirectory(_ url: URL, owner: uid_t, group: gid_t, mode: mode_t) throws {
        if mkdir(url.path, mode) != 0 && errno != EEXIST {
            throw ToolkitError("cannot create \(url.path): \(String(cString: strerror(errno)))")
        }
        let fd = try openDirectory(url)
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ToolkitError("cannot inspect \(url.path): \(String(cString: strerror(errno)))") }
        if info.st_uid != owner || info.st_gid != group {
            guard fchown(fd, owner, group) == 0 else {
                throw ToolkitError("\(url.path) belongs to uid \(info.st_uid) and cannot be given to uid \(owner): \(String(cString: strerror(errno)))")
            }
        }
        if info.st_mode & 0o7777 != mode { fchmod(fd, mode) }
    }

    /// Creates `url` and any missing parent with exactly `mode` (whatever the umask); true when `url` itself was created.
    @discardableResult
    public static func createDirectories(_ url: URL, mode: mode_t) throws -> Bool {
        var missing: [URL] = []
        var current = url.standardizedFileURL
        while current.path != "/", !exists(current) {
            missing.insert(current, at: 0)
            current = current.deletingLastPathComponent()
        }
        for directory in missing {
            if mkdir(directory.path, mode) != 0 {
                if errno == EEXIST { continue }
                throw ToolkitError("cannot create \(directory.path): \(String(cString: strerror(errno)))")
            }
            chmod(directory.path, mode)
        }
        return !missing.isEmpty && missing.last?.path == url.standardizedFileURL.path
    }

    /// An account other than this one, with its groups, as the kernel checks its permissions.
    public struct Account: Sendable {
        public var name: String
        public var uid: uid_t
        public var groups: [gid_t]

        public init(name: String, uid: uid_t, groups: [gid_t]) {
            self.name = name
            self.uid = uid
            self.groups = groups
        }

        /// The account `name` with its primary and supplementary groups; nil when there is none.
        public static func named(_ name: String) -> Account? {
            guard let entry = getpwnam(name) else { return nil }
            let uid = entry.pointee.pw_uid, gid = entry.pointee.pw_gid
            var count: Int32 = 64
            var groups = [gid_t](repeating: 0, count: Int(count))
            if getgrouplist(name, gid, &groups, &count) < 0 {
                groups = [gid_t](repeating: 0, count: Int(count))
                _ = getgrouplist(name, gid, &groups, &count)
            }
            return Account(name: name, uid: uid, groups: Array(groups.prefix(Int(max(count, 0)))) + [gid])
        }

        /// Whether this account may search (enter) a directory with these owner, group and mode bits.
        public func maySearch(_ info: stat) -> Bool {
            if uid == 0 { return true }
            if info.st_uid == uid { return info.st_mode & 0o100 != 0 }
            if groups.contains(info.st_gid) { return info.st_mode & 0o010 != 0 }
            return info.st_mode & 0o001 != 0
        }
    }

    /// The first existing directory from `/` down to `url` (symlinks resolved) that `account` may not
    /// enter, with its status; nil when it can reach `url` (or the part of it that exists).
    public static func firstUnsearchable(on url: URL, by account: Account) -> (URL, stat)? {
        var path = "/"
        for component in resolved(url).pathComponents where component != "/" {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            if !account.maySearch(info) { return (URL(fileURLWithPath: path), info) }
            path = (path as NSString).appendingPathComponent(component)
        }
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return account.maySearch(info) ? nil : (URL(fileURLWithPath: path), info)
    }

    /// `url` with the symlinks of its existing part resolved; the missing rest appended as it is.
    public static func resolved(_ url: URL) -> URL {
        var existing = url.standardizedFileURL
        var rest: [String] = []
        while existing.path != "/", !exists(existing) {
            rest.insert(existing.lastPathComponent, at: 0)
            existing = existing.deletingLastPathComponent()
        }
        guard let real = realpath(existing.path, nil) else { return url.standardizedFileURL }
        defer { free(real) }
        return rest.reduce(URL(fileURLWithPath: String(cString: real))) { $0.appendingPathComponent($1) }
    }

    private static func exists(_ url: URL) -> Bool {
        var info = stat()
        return lstat(url.path, &info) == 0
    }

    /// Throws unless `url` is a directory (not a symlink) owned by `owner` (or root) that no other account can write.
    /// With `closingOwn`, a directory of `owner`'s that its group or others could write (a umask of 002) is closed first.
    public static func requireTrusted(directory url: URL, owner: uid_t = geteuid(), closingOwn: Bool = false) throws {
        let fd = try openDirectory(url)
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ToolkitError("cannot inspect \(url.path): \(String(cString: strerror(errno)))") }
        guard info.st_uid == owner || info.st_uid == 0 else {
            throw ToolkitError("\(url.path) belongs to uid \(info.st_uid), not to this account (uid \(owner)); refusing to trust it")
        }
        if closingOwn, info.st_uid == owner, info.st_mode & 0o022 != 0, fchmod(fd, info.st_mode & 0o7755) == 0 {
            info.st_mode &= 0o7755
        }
        guard info.st_mode & 0o022 == 0 else {
            throw ToolkitError("\(url.path) can be written by other accounts (mode \(String(info.st_mode & 0o777, radix: 8))); refusing to trust it")
        }
    }

    /// The contents of a regular file owned by this account (or root) that no one else can write; nil when it is absent.
    public static func readTrusted(_ url: URL, limit: Int = 65_536) throws -> Data? {
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw ToolkitError("cannot open \(url.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ToolkitError("\(url.path) is not a regular file; refusing to read it")
        }
        guard info.st_uid == geteuid() || info.st_uid == 0, info.st_mode & 0o022 == 0 else {
            throw ToolkitError("\(url.path) belongs to uid \(info.st_uid) or can be written by others; refusing to trust it")
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < limit {
            let count = read(fd, &buffer, min(buffer.count, limit - data.count))
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }

    /// The last `bytes` of a regular file another account may own (the server's error log): no symlink
    /// followed, no FIFO waited on. Nil when it cannot be read that way.
    public static func tail(_ url: URL, bytes: Int = 65_536) -> Data? {
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        if info.st_size > bytes { lseek(fd, off_t(info.st_size) - off_t(bytes), SEEK_SET) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < bytes {
            let count = read(fd, &buffer, min(buffer.count, bytes - data.count))
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return data
    }

    /// Creates a new file readable by this account alone (O_EXCL, no symlinks followed) holding `contents`.
    public static func createPrivate(_ url: URL, contents: Data) throws {
        unlink(url.path)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ToolkitError("cannot create \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let written = contents.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == contents.count else { throw ToolkitError("cannot write \(url.path): \(String(cString: strerror(errno)))") }
    }

    private static func openDirectory(_ url: URL) throws -> Int32 {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno == ELOOP || errno == ENOTDIR ? "is a symlink or not a directory" : String(cString: strerror(errno))
            throw ToolkitError("\(url.path): \(reason); refusing to use it")
        }
        return fd
    }
}

/// One process, told apart from any later process that reuses its pid by its start time.
public struct ProcessIdentity: Codable, Sendable, Hashable {
    public var pid: pid_t
    /// Field 22 of /proc/PID/stat: clock ticks after boot at which the process started.
    public var startTicks: UInt64

    public init(pid: pid_t, startTicks: UInt64) {
        self.pid = pid
        self.startTicks = startTicks
    }

    /// The identity of the running process `pid`, read from /proc.
    public static func of(_ pid: pid_t) -> ProcessIdentity? {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name start at field 3 (state); start time is field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = UInt64(fields[19]) else { return nil }
        return ProcessIdentity(pid: pid, startTicks: ticks)
    }

    /// True while this very process runs (not a later one with the same pid).
    public var isRunning: Bool {
        ChildProcess.isAlive(pid) && Self.of(pid) == self
    }

    /// The program the process runs (/proc/PID/exe), without the " (deleted)" of an upgraded binary.
    /// Reading another account's exe link needs CAP_SYS_PTRACE, which a container's root lacks
    /// (the server runs as `mysql`): then the path it was started with (argv[0] in
    /// /proc/PID/cmdline, readable by all) stands in; the start time already pins the process.
    public var executable: String? {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe") {
            return target.hasSuffix(" (deleted)") ? String(target.dropLast(10)) : target
        }
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
              let first = cmdline.split(separator: 0, omittingEmptySubsequences: false).first, !first.isEmpty else { return nil }
        return String(decoding: first, as: UTF8.self)
    }
}
