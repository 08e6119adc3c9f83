import Foundation
import Infrastructure
import PostgreSQL
import Testing

/// A PostgreSQL cluster from Debian's packages, started as the `postgres` account in a temporary
/// directory on a free loopback port (trust authentication, so no password is involved), with one
/// database. Stopped and removed when the test process exits.
final class PostgresFixture: Sendable {
    let directory: URL
    let port: Int
    let database = "dest"

    private nonisolated(unsafe) static var started: [PostgresFixture] = []
    private static let lock = NSLock()

    static let binaries: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }()

    static var isAvailable: Bool { binaries != nil && getpwnam("postgres") != nil }

    /// One cluster shared by the tests that only need a destination database.
    static let shared: PostgresFixture = {
        do { return try PostgresFixture(name: "shared") } catch { fatalError("cannot start PostgreSQL: \(error)") }
    }()

    init(name: String) throws {
        guard let bin = Self.binaries else { throw FixtureError("PostgreSQL's initdb is not installed") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-pg-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: directory.path)
        port = PortProbe.ephemeral()
        let data = directory.appendingPathComponent("data").path
        try Self.asPostgres("\(bin)/initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"])
        try Self.asPostgres("\(bin)/pg_ctl", ["-D", data, "-l", directory.appendingPathComponent("log").path, "-w", "-o",
                                              "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
        Self.lock.withLock {
            if Self.started.isEmpty { atexit { PostgresFixture.stopAll() } }
            Self.started.append(self)
        }
        let admin = try PostgresConnection(host: "127.0.0.1", port: port, user: "postgres", database: "postgres")
        defer { admin.close() }
        try admin.execute("CREATE DATABASE \(database)")
    }

    static func asPostgres(_ program: String, _ arguments: [String]) throws {
        let run = try Run.program("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--clear-groups", program] + arguments,
                                  timeout: 60)
        guard run.status == 0 else { throw FixtureError("\(program) failed: \(run.stderr)") }
    }

    func stop() {
        if let bin = Self.binaries {
            try? Self.asPostgres("\(bin)/pg_ctl", ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(at: directory)
    }

    static func stopAll() {
        for fixture in started { fixture.stop() }
    }

    func connect() throws -> PostgresConnection {
        try PostgresConnection(host: "127.0.0.1", port: port, user: "postgres", database: database)
    }

    /// The destination URL for `toolkit verify`.
    var url: String { "postgres://postgres@127.0.0.1:\(port)/\(database)" }
}
