import Foundation
import Infrastructure
import Testing

@Suite struct ServerOptionTests {
    @Test func parsesKeyEqualsValue() throws {
        let option = try ServerOption(parsing: "version=8.0.40-toolkit")
        #expect(option.name == "version")
        #expect(option.value == "8.0.40-toolkit")
        #expect(option.line == "version = 8.0.40-toolkit")
        #expect(try ServerOption(parsing: " max-connections = 50 ").line == "max-connections = 50")
        #expect(try ServerOption(parsing: "sql_mode=").value == "")
    }

    @Test func normalisesSpellingsAndPrefixes() {
        #expect(ServerOption.normalised("Server-ID") == "server_id")
        #expect(ServerOption.normalised("loose-skip-log-bin") == "log_bin")
        #expect(ServerOption.normalised("loose_server_id") == "server_id")
        #expect(ServerOption.normalised("maximum-max_connections") == "max_connections")
    }

    @Test(arguments: ["server-id=2", "loose_server_id=2", "log_bin=x", "log-bin-index=x", "gtid_domain_id=3",
                      "gtid-strict-mode=OFF", "ssl-cert=/tmp/c.pem", "ssl=0", "skip-ssl=1", "port=1", "bind-address=0.0.0.0",
                      "socket=/tmp/s", "datadir=/tmp", "binlog_format=STATEMENT", "BINLOG-ROW-IMAGE=MINIMAL",
                      "enforce_gtid_consistency=OFF", "skip-networking=1", "user=root"])
    func refusesOwnedOptions(_ text: String) {
        #expect {
            try ServerOption(parsing: text)
        } throws: { error in
            guard let error = error as? ToolkitError else { return false }
            return error.exitCode == 2 && error.message.hasPrefix("--server-option ") && !error.message.contains("\n")
        }
    }

    @Test(arguments: ["version", "=1", "a b=1", "x\n[mysqld]=1", "!include=/etc/passwd", "max_connections=1\nport=1",
                      "x=1\r", "x=\u{7F}", "#x=1", "loose-=1"])
    func refusesMalformedInput(_ text: String) {
        #expect {
            try ServerOption(parsing: text)
        } throws: { error in
            guard let error = error as? ToolkitError else { return false }
            return error.exitCode == 2 && error.message.hasPrefix("--server-option") && !error.message.contains("\n")
                && !error.message.contains("\r")
        }
    }

    @Test func laterOptionOfTheSameNameWins() throws {
        let options = try ServerOption.parseAll(["max_connections=10", "version=a", "max-connections=20"])
        #expect(options.map(\.description) == ["version=a", "max-connections=20"])
    }

    @Test func rendersOptionsThenIncludeDirectory() throws {
        let lines = ServerOption.optionFileLines([try ServerOption(parsing: "version=8.0.40-toolkit")],
                                                 includeDirectory: URL(fileURLWithPath: "/state/conf.d"))
        #expect(lines == ["# up --server-option (kept in toolkit.json)", "version = 8.0.40-toolkit", "", "!includedir /state/conf.d"])
        #expect(ServerOption.optionFileLines([], includeDirectory: nil).isEmpty)
    }

    @Test func keptInTheSourceConfig() throws {
        var config = SourceConfig(flavor: "mariadb", publicPort: 3306, serverPort: 3307, database: "testdb", adminUser: "root",
                                  adminPassword: "p", etlUser: "hevo", etlPassword: "q")
        config.serverOptions = [ServerOption(name: "version", value: "8.0.40-toolkit")]
        let decoded = try JSONDecoder().decode(SourceConfig.self, from: JSONEncoder().encode(config))
        #expect(decoded.serverOptions == config.serverOptions)
        #expect(String(decoding: try JSONEncoder().encode(config), as: UTF8.self).contains("\"server_options\""))
    }
}
