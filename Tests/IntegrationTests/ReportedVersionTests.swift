import Foundation
import Infrastructure
import Testing

/// A MariaDB that reports a MySQL 8.0 version (its own `version=` option, as a MySQL connector
/// such as Debezium's needs) is still MariaDB: `status` runs MariaDB's CDC checks, shows both
/// versions and answers 0; `monitor` reads it.
@Suite(.serialized) final class ReportedVersionTests {
    let directory: URL
    let server: Background
    let socket: String
    let environment: [String: String]

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("toolkit-version-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let data = directory.appendingPathComponent("data").path
        socket = directory.appendingPathComponent("mysqld.sock").path
        let install = try Run.program("/usr/bin/mariadb-install-db", ["--no-defaults", "--datadir=\(data)", "--user=root",
                                                                     "--auth-root-authentication-method=normal"], timeout: 120)
        #expect(install.status == 0, "\(install.stderr)")
        server = try Background("/usr/sbin/mariadbd", ["--no-defaults", "--datadir=\(data)", "--socket=\(socket)", "--skip-networking",
                                                       "--user=root", "--version=8.0.40-toolkit", "--log-bin=mysql-bin", "--server-id=1",
                                                       "--binlog-format=ROW"])
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: socket), Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        environment = ["TOOLKIT_HOME": directory.appendingPathComponent("home").path, "MYSQL_PWD": "", "PATH": "/usr/bin:/bin"]
    }

    deinit {
        server.signal(SIGTERM)
        _ = server.waitFor(seconds: 30)
        try? FileManager.default.removeItem(at: directory)
    }

    @Test func statusTakesItForMariaDBAndShowsBothVersions() throws {
        let run = try Run.toolkit(["status", "--socket", socket, "--user", "root", "--json"], environment: environment)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let server = try #require(json["server"] as? [String: Any])
        #expect(server["flavor"] as? String == "mariadb")
        #expect((server["version"] as? String)?.hasPrefix("10.") == true, "\(server)")
        #expect(server["reported_version"] as? String == "8.0.40-toolkit")
        #expect(server["error"] == nil, "\(server)")
        #expect((json["checks"] as? [Any])?.isEmpty == false)
        let text = try Run.toolkit(["status", "--socket", socket, "--user", "root"], environment: environment)
        #expect(text.stdout.contains("(reports 8.0.40-toolkit)"), "\(text.stdout)")
    }

    @Test func monitorReadsIt() throws {
        let run = try Run.toolkit(["monitor", "--socket", socket, "--user", "root", "--json"], environment: environment)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
    }
}
