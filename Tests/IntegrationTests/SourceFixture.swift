import Foundation
import Infrastructure
import MariaDB
import Source
import Testing

extension Tag {
    @Tag static var integration: Self
    @Tag static var endToEnd: Self
    @Tag static var slow: Self
}

/// A real MariaDB server started by the toolkit's own `ManagedSource` in a temporary
/// directory on a free port, stopped and removed when the test process exits.
final class SourceFixture: Sendable {
    let state: StateDirectory
    let port: Int
    let up: UpResult

    private nonisolated(unsafe) static var started: [SourceFixture] = []
    private static let lock = NSLock()

    /// One server shared by every test that does not restart it.
    static let shared: SourceFixture = {
        do { return try SourceFixture(name: "shared") } catch { fatalError("cannot start the test server: \(error)") }
    }()

    init(name: String) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-test-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: root)
        state = StateDirectory(root: root)
        port = PortProbe.ephemeral()
        up = try ManagedSource(state: state).up(.init(publicPort: port, database: "testdb", adminPassword: "rootpassword",
                                                        etlUser: "hevo", etlPassword: "hevopassword"))
        Self.lock.withLock {
            if Self.started.isEmpty { atexit { SourceFixture.stopAll() } }
            Self.started.append(self)
        }
    }

    static func stopAll() {
        for fixture in started {
            _ = try? ManagedSource(state: fixture.state).down(purge: true)
        }
    }

    var admin: ConnectionOptions {
        ConnectionOptions(host: "127.0.0.1", port: port, user: "root", password: "rootpassword", database: "testdb")
    }

    var etl: ConnectionOptions {
        ConnectionOptions(host: "127.0.0.1", port: port, user: "hevo", password: "hevopassword", database: "testdb")
    }

    func connect() throws -> MariaDBConnection { try MariaDBConnection(admin) }

    /// A target for library calls, as a user with the managed source's home would resolve it.
    func target() throws -> Target {
        var overrides = Target.Overrides()
        overrides.home = state.root.path
        return try Target.resolve(overrides, environment: [:])
    }

    /// The environment for running the toolkit binary against this source.
    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = state.root.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD", "MYSQL_DATABASE", "MYSQL_ROOT_PASSWORD"] {
            env[name] = nil
        }
        return env
    }

    /// A fresh table name for one test.
    static func table(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }
}

/// Runs a program to completion with a time limit, capturing stdout and stderr.
struct Run {
    var status: Int32
    var stdout: String
    var stderr: String

    static func program(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                        timeout: TimeInterval = 120) throws -> Run {
        let result = try ChildProcess.capture(path, arguments, environment: environment, timeout: .seconds(timeout))
        return Run(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }

    /// The repository's root (its `scripts/`, `Sources/`).
    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The toolkit binary built by `swift build` (or $TOOLKIT_BIN).
    static var toolkitPath: String {
        ProcessInfo.processInfo.environment["TOOLKIT_BIN"] ?? repository.appendingPathComponent(".build/debug/toolkit").path
    }

    static func toolkit(_ arguments: [String], environment: [String: String], timeout: TimeInterval = 120) throws -> Run {
        try program(toolkitPath, arguments, environment: environment, timeout: timeout)
    }
}

/// The virtual environments `scripts/test-deps` makes for the Python tools the tests drive.
enum ToolVenvs {
    static let root = ProcessInfo.processInfo.environment["TOOLKIT_TEST_VENVS"] ?? "/opt/toolkit-test-venvs"

    /// A file of one environment, e.g. `path("schemathesis", "bin/schemathesis")`.
    static func path(_ venv: String, _ file: String) -> String { "\(root)/\(venv)/\(file)" }
}

final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ new: Value) { lock.withLock { value = new } }
    func update(_ change: (inout Value) -> Void) { lock.withLock { change(&value) } }
}

/// A program running in the background, its output going to a file; always reaped.
final class Background {
    let pid: pid_t
    let output: URL
    private var exit: Int32?

    init(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        output = FileManager.default.temporaryDirectory.appendingPathComponent("background-\(UUID().uuidString).out")
        pid = try ChildProcess.spawn(path, arguments, log: output, detached: false, environment: environment)
    }

    deinit {
        if isRunning { kill(pid, SIGKILL); _ = waitFor(seconds: 5) }
        try? FileManager.default.removeItem(at: output)
    }

    var isRunning: Bool {
        if exit != nil { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            exit = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return false
        }
        return true
    }

    /// Waits up to `seconds` for the program to end; returns its exit status, or nil if it still runs.
    func waitFor(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        return isRunning ? nil : exit
    }

    func signal(_ number: Int32) { kill(pid, number) }

    var text: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
}
