import Flavor
import Testing

@Suite("Flavor: version parsing and version-dependent SQL")
struct FlavorTests {
    @Test("version strings parse to family and numbers", arguments: [
        ("10.11.6-MariaDB-0+deb12u1", ServerFlavor.Family.mariadb, 10, 11, 6),
        ("5.5.5-10.6.18-MariaDB-log", .mariadb, 10, 6, 18),
        ("8.0.36", .mysql, 8, 0, 36),
        ("8.4.0-commercial", .mysql, 8, 4, 0),
    ])
    func parsing(text: String, family: ServerFlavor.Family, major: Int, minor: Int, patch: Int) throws {
        let flavor = try #require(ServerFlavor(versionString: text))
        #expect(flavor.family == family)
        #expect((flavor.major, flavor.minor, flavor.patch) == (major, minor, patch))
    }

    @Test func garbageVersionIsRejected() {
        #expect(ServerFlavor(versionString: "banana") == nil)
        #expect(ServerFlavor(versionString: "") == nil)
    }

    @Test func binlogStatusStatement() {
        #expect(ServerFlavor.mariadb10_6.binlogStatusStatement == "SHOW MASTER STATUS")
        #expect(ServerFlavor.mysql8_0.binlogStatusStatement == "SHOW MASTER STATUS")
        #expect(ServerFlavor.mysql8_4.binlogStatusStatement == "SHOW BINARY LOG STATUS")
    }

    @Test("account statements are kept out of the binary log the same way on every flavor",
          arguments: [ServerFlavor.mariadb10_6, .mariadb10_11, .mysql8_0, .mysql8_4])
    func sessionBinaryLog(_ flavor: ServerFlavor) {
        #expect(flavor.sessionBinaryLogStatement(enabled: false) == "SET SESSION sql_log_bin = 0")
        #expect(flavor.sessionBinaryLogStatement(enabled: true) == "SET SESSION sql_log_bin = 1")
    }

    @Test func gtidVariables() {
        #expect(ServerFlavor.mariadb10_11.gtidExecutedVariable == "gtid_binlog_pos")
        #expect(ServerFlavor.mysql8_0.gtidExecutedVariable == "gtid_executed")
        #expect(ServerFlavor.mysql8_4.gtidPurgedVariable == "gtid_purged")
        #expect(ServerFlavor.mariadb10_6.gtidModeVariable == nil)
        #expect(ServerFlavor.mysql8_0.gtidModeVariable == "gtid_mode")
    }

    @Test func resetStatement() {
        #expect(ServerFlavor.mariadb10_11.resetBinaryLogsStatement == "RESET MASTER")
        #expect(ServerFlavor.mysql8_0.resetBinaryLogsStatement == "RESET MASTER")
        #expect(ServerFlavor.mysql8_4.resetBinaryLogsStatement == "RESET BINARY LOGS AND GTIDS")
    }

    @Test func replicaStatements() {
        #expect(ServerFlavor.mariadb10_11.replicaStatusStatement == "SHOW SLAVE STATUS")
        #expect(ServerFlavor.mysql8_0.replicaStatusStatement == "SHOW REPLICA STATUS")
        #expect(ServerFlavor.mysql8_4.startReplicaStatement == "START REPLICA")
        let mariadb = ServerFlavor.mariadb10_11.changeSourceStatement(host: "127.0.0.1", port: 3307, user: "hevo", password: "p'w", retrySeconds: 1)
        #expect(mariadb == "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=3307, MASTER_USER='hevo', MASTER_PASSWORD='p''w', MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos")
        let mysql = ServerFlavor.mysql8_4.changeSourceStatement(host: "h", port: 1, user: "u", password: "p", retrySeconds: 2)
        #expect(mysql.hasPrefix("CHANGE REPLICATION SOURCE TO SOURCE_HOST='h'"))
        #expect(mysql.contains("SOURCE_AUTO_POSITION=1"))
        #expect(mysql.contains("GET_SOURCE_PUBLIC_KEY=1"))
    }

    @Test func privilegesAndAuth() {
        #expect(ServerFlavor.mariadb10_11.replicationPrivileges == ["REPLICATION SLAVE", "BINLOG MONITOR", "REPLICA MONITOR"])
        #expect(ServerFlavor.mysql8_0.replicationPrivileges == ["REPLICATION SLAVE", "REPLICATION CLIENT"])
        #expect(ServerFlavor.mysql8_4.createUserStatement(user: "u", host: "%", password: "p").contains("caching_sha2_password"))
        #expect(!ServerFlavor.mariadb10_11.createUserStatement(user: "u", host: "%", password: "p").contains("WITH"))
        #expect(ServerFlavor.mysql8_4.accountStatements(user: "u", host: "%", password: "p")
                == ["CREATE USER IF NOT EXISTS 'u'@'%' IDENTIFIED WITH caching_sha2_password BY 'p'", "ALTER USER 'u'@'%' IDENTIFIED BY 'p'"])
    }

    @Test func cdcOptions() {
        let mariadb = ServerFlavor.mariadb10_11.cdcServerOptions(serverID: 1, retentionSeconds: 60, maxBinlogSizeMB: 100)
        #expect(mariadb.contains("binlog_format = ROW"))
        #expect(mariadb.contains("binlog_row_image = FULL"))
        #expect(mariadb.contains("binlog_row_metadata = FULL"))
        #expect(!mariadb.contains { $0.hasPrefix("gtid_mode") })
        let mysql = ServerFlavor.mysql8_0.cdcServerOptions(serverID: 1, retentionSeconds: 60, maxBinlogSizeMB: 100)
        #expect(mysql.contains("gtid_mode = ON"))
        #expect(mysql.contains("enforce_gtid_consistency = ON"))
    }

    @Test func quoting() {
        #expect(SQLText.identifier("a`b") == "`a``b`")
        #expect(SQLText.literal("it's \\ here") == "'it''s \\\\ here'")
        #expect(SQLText.account("hevo", "%") == "'hevo'@'%'")
        #expect(SQLText.isPlainIdentifier("users_2"))
        #expect(!SQLText.isPlainIdentifier("users; DROP TABLE x"))
        #expect(!SQLText.isPlainIdentifier("123"))
    }

    /// What a server is comes from what it answers, not what it calls itself.
    @Test func aMariaDBThatReportsMySQLIsMariaDB() {
        let disguised = ServerFlavor(reported: "8.0.40-toolkit", answersMariaDBVariable: true, innodbVersion: "10.11.19")
        #expect(disguised == ServerFlavor(family: .mariadb, major: 10, minor: 11, patch: 19))
        #expect(ServerFlavor(reported: "10.11.6-MariaDB", answersMariaDBVariable: true, innodbVersion: nil)?.family == .mariadb)
        #expect(ServerFlavor(reported: "8.0.36", answersMariaDBVariable: false, innodbVersion: nil) == .mysql8_0)
        #expect(ServerFlavor(reported: "garbage", answersMariaDBVariable: false, innodbVersion: nil) == nil)
    }
}
