import Foundation
import Infrastructure
import MariaDB
import Testing

/// `toolkit up --server-option`, `conf.d/` and `up --restart` against the real server `up` starts.
@Suite("up: server options, conf.d and --restart", .tags(.integration, .endToEnd, .slow), .serialized)
final class ServerOptionUpTests {
    let state: StateDirectory
    let port: Int
    let environment: [String: String]

    init() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-options-\(getpid())-\(UUID().uuidString.prefix(6))")
        state = StateDirectory(root: root)
        port = PortProbe.ephemeral()
        var env = ProcessInfo.processInfo.environment
        env["TOOLKIT_HOME"] = root.path
        for name in ["MYSQL_HOST", "MYSQL_PORT", "MYSQL_USER", "MYSQL_PWD", "MYSQL_DATABASE", "MYSQL_ROOT_PASSWORD"] { env[name] = nil }
        environment = env
    }

    deinit {
        _ = try? Run.toolkit(["down", "--purge", "--force"], environment: environment)
        try? FileManager.default.removeItem(at: state.root)
    }

    func toolkit(_ arguments: [String], expect status: Int32 = 0) throws -> Run {
        let run = try Run.toolkit(arguments, environment: environment, timeout: 180)
        #expect(run.status == status, "toolkit \(arguments.joined(separator: " ")): \(run.stdout)\n\(run.stderr)")
        return run
    }

    func serverVariable(_ name: String) throws -> String? {
        let connection = try MariaDBConnection(ConnectionOptions(user: "root", password: "rootpassword", socket: state.socketFile.path))
        defer { connection.close() }
        return try connection.query("SELECT @@\(name)").scalar
    }

    func config() throws -> SourceConfig { try #require(try SourceConfig.load(from: state.configFile)) }

    @Test func ownedOptionsAreRefusedBeforeAnythingChanges() throws {
        for owned in ["server-id=2", "loose_server_id=2", "log_bin=x", "gtid_domain_id=3", "gtid-strict-mode=OFF", "ssl-cert=/x"] {
            let run = try toolkit(["up", "--port", "\(port)", "--server-option", owned], expect: 2)
            #expect(run.stderr.contains("--server-option"), "\(run.stderr)")
            #expect(run.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "\(run.stderr)")
        }
        let injected = try toolkit(["up", "--port", "\(port)", "--server-option", "max_connections=5\nport=1"], expect: 2)
        #expect(injected.stderr.contains("--server-option"))
        #expect(!FileManager.default.fileExists(atPath: state.root.path), "a refused up created \(state.root.path)")
    }

    @Test func optionsReachTheServerAndChangesWaitForRestart() throws {
        try toolkit(["up", "--port", "\(port)", "--server-option", "version=8.0.40-toolkit"])
        #expect(try serverVariable("version") == "8.0.40-toolkit")
        #expect(try config().serverOptions == [ServerOption(name: "version", value: "8.0.40-toolkit")])
        let status = try toolkit(["status", "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let server = try #require(json["server"] as? [String: Any], "\(status.stdout)")
        #expect(server["flavor"] as? String == "mariadb")
        #expect(server["reported_version"] as? String == "8.0.40-toolkit")

        // Kept across up; an up of the running source with the same options needs no restart.
        let again = try toolkit(["up", "--port", "\(port)", "--json"])
        #expect(!again.stdout.contains("\"restart_needed\""), "\(again.stdout)")
        #expect(try config().serverOptions?.map(\.description) == ["version=8.0.40-toolkit"])

        // A changed option: recorded, not applied, and said so.
        let changed = try toolkit(["up", "--port", "\(port)", "--server-option", "version=8.0.41-toolkit"])
        #expect(changed.stdout.contains("toolkit up --restart"), "\(changed.stdout)")
        #expect(try serverVariable("version") == "8.0.40-toolkit")
        let pending = try toolkit(["up", "--port", "\(port)", "--json"])
        #expect(pending.stdout.contains("\"restart_needed\" : true"), "\(pending.stdout)")
        try toolkit(["up", "--port", "\(port)", "--restart"])
        #expect(try serverVariable("version") == "8.0.41-toolkit")

        // conf.d: a file another account could write is refused before the server stops; a trusted one is applied.
        let confD = state.includeDirectory
        try FileManager.default.createDirectory(at: confD, withIntermediateDirectories: true)
        chmod(confD.path, 0o755)
        let extra = confD.appendingPathComponent("extra.cnf")
        try "[mysqld]\nmax_connections = 123\n".write(to: extra, atomically: true, encoding: .utf8)
        chmod(extra.path, 0o666)
        let refused = try toolkit(["up", "--port", "\(port)", "--restart"], expect: 1)
        #expect(refused.stderr.contains(extra.path) && refused.stderr.contains("666"), "\(refused.stderr)")
        #expect(try serverVariable("max_connections") == "1000")
        chmod(extra.path, 0o644)
        try toolkit(["up", "--port", "\(port)", "--restart"])
        #expect(try serverVariable("max_connections") == "123")

        // A bad option: up fails with the server's own message, in one line.
        let bad = try toolkit(["up", "--port", "\(port)", "--restart", "--server-option", "no_such_option=1"], expect: 1)
        #expect(bad.stderr.contains("[ERROR]") && bad.stderr.contains("no_such_option"), "\(bad.stderr)")
        #expect(bad.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "\(bad.stderr)")
        // The recorded options are still the good ones: the next up starts the server again.
        try toolkit(["up", "--port", "\(port)"])
        #expect(try serverVariable("version") == "8.0.41-toolkit")
    }
}
