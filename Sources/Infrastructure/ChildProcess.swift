import CSpawn
import Foundation

/// Starts programs with posix_spawn: arguments never carry secrets, stdin is /dev/null and
/// output goes to a log file. `detached` children get a session of their own so that they
/// outlive the command that started them and miss its terminal's Ctrl-C.
public enum ChildProcess {
    public static func spawn(_ executable: String, _ arguments: [String], log: URL, detached: Bool,
                             environment: [String: String]? = nil) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // Never through a symlink: the log's directory must be ours, and this is the second line.
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0o640)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        cspawn_addclosefrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if detached { flags |= cspawn_setsid_flag() }
        posix_spawnattr_setflags(&attributes, flags)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, env)
        guard status == 0 else {
            throw ToolkitError("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return pid
    }

    /// What a program printed, and how it ended.
    /// This program's own file (`/proc/self/exe`), to run it again as a child or to recognise a
    /// process that runs it; nil where /proc cannot tell.
    public static var selfExecutable: String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    public struct Captured: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// What a program printed, as bytes, and why it ended.
    public struct CapturedBytes: Sendable {
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        /// Killed at the time limit.
        public var timedOut: Bool
        /// Killed when its output passed the limit (`stdout` holds the limit's worth).
        public var overLimit: Bool
    }

    /// Runs a program to completion with a time limit, capturing its output: posix_spawn, poll and
    /// waitpid, so that the child is always reaped (Foundation's Process misses exits of children
    /// when others were spawned with posix_spawn) and a grandchild holding the pipes open cannot
    /// keep us waiting.
    public static func capture(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                               timeout: Duration = .seconds(120)) throws -> Captured {
        let captured = try captureBytes(executable, arguments, environment: environment, timeout: timeout)
        return Captured(status: captured.status, stdout: String(decoding: captured.stdout, as: UTF8.self),
                        stderr: String(decoding: captured.stderr, as: UTF8.self))
    }

    /// `capture`, keeping the bytes; the child is killed (SIGKILL) at `timeout` or once it printed
    /// more than `outputLimit` bytes on stdout (stderr keeps its last 64 KiB).
    public static func captureBytes(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                                    timeout: Duration = .seconds(120), outputLimit: Int = .max) throws -> CapturedBytes {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0 else { throw ToolkitError("pipe: \(String(cString: strerror(errno)))") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw ToolkitError("pipe: \(String(cString: strerror(errno)))")
        }
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        cspawn_addclosefrom(&actions, 3)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, env)
        close(outPipe[1]); close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard spawned == 0 else { throw ToolkitError("cannot run \(executable): \(String(cString: strerror(spawned)))") }

        var out: [UInt8] = [], err: [UInt8] = []
        var open = [outPipe[0], errPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var killed = false
        var timedOut = false
        var overLimit = false
        var exitStatus: Int32?
        func keep(_ fd: Int32, _ count: Int) {
            if fd == outPipe[0] {
                let room = max(0, outputLimit - out.count)
                out += buffer[0..<min(count, room)]
                if count > room && !killed { overLimit = true; killTree(pid); killed = true }
            } else {
                err += buffer[0..<count]
                if err.count > 131_072 { err.removeFirst(err.count - 65_536) }
            }
        }
        while exitStatus == nil || !open.isEmpty {
            if clock.now > deadline && !killed { timedOut = true; killTree(pid); killed = true }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if !fds.isEmpty, poll(&fds, nfds_t(fds.count), 100) > 0 {
                for entry in fds where entry.revents != 0 {
                    let count = read(entry.fd, &buffer, buffer.count)
                    if count > 0 {
                        keep(entry.fd, count)
                    } else {
                        open.removeAll { $0 == entry.fd }
                    }
                }
            } else if fds.isEmpty {
                Thread.sleep(forTimeInterval: 0.01)
            }
            if exitStatus == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    exitStatus = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                    // Collect what is already in the pipes, then stop: a grandchild may hold them open.
                    for fd in open {
                        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                        while poll(&entry, 1, 0) > 0 {
                            let count = read(fd, &buffer, buffer.count)
                            if count <= 0 { break }
                            keep(fd, count)
                        }
                    }
                    open = []
                }
            }
        }
        return CapturedBytes(status: exitStatus ?? 1, stdout: out, stderr: err, timedOut: timedOut, overLimit: overLimit)
    }

    /// SIGKILL to `pid` and every process descended from it (`sh -c` leaves its own children): the
    /// descendants first, found in /proc, so that none is re-parented before it is seen.
    static func killTree(_ pid: pid_t) {
        var parents: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { parents[parent, default: []].append(child) }
        }
        var order: [pid_t] = []
        var next = [pid]
        while let current = next.popLast(), order.count < 10_000 {
            order.append(current)
            next += parents[current] ?? []
        }
        for process in order.reversed() { kill(process, SIGKILL) }
    }

    /// Runs a program to completion and returns its exit status.
    public static func run(_ executable: String, _ arguments: [String], log: URL) throws -> Int32 {
        let pid = try spawn(executable, arguments, log: log, detached: false)
        return wait(pid)
    }

    /// Waits for a child; returns its exit status (128 + signal when killed).
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    /// True while `pid` runs (reaps it first if it is our exited child). A zombie — a dead
    /// process nobody reaped, common when PID 1 does not reap orphans — counts as dead.
    public static func isAlive(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { return false }
        guard kill(pid, 0) == 0 || errno == EPERM else { return false }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
            if state == "Z" || state == "X" { return false }
        }
        return true
    }

    /// The first of `names` found on PATH or in the system directories servers live in.
    public static func find(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/sbin"]
        for name in names {
            for directory in directories {
                let candidate = directory + "/" + name
                if access(candidate, X_OK) == 0 { return candidate }
            }
        }
        return nil
    }
}
