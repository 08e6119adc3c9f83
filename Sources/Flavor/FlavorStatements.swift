/// Version-dependent statements and names. Each answers for MariaDB 10.6+, MySQL 8.0 and 8.4.
extension ServerFlavor {
    /// Current binlog file and position (and, on MySQL, Executed_Gtid_Set).
    public var binlogStatusStatement: String {
        if family == .mysql && isAtLeast(8, 2) { return "SHOW BINARY LOG STATUS" }
        return "SHOW MASTER STATUS"
    }

    public var binaryLogsStatement: String { "SHOW BINARY LOGS" }

    /// The variable that holds every GTID written to the binary log.
    public var gtidExecutedVariable: String {
        family == .mysql ? "gtid_executed" : "gtid_binlog_pos"
    }

    /// The variable that holds the GTIDs no longer in any binlog file (MariaDB keeps the state instead).
    public var gtidPurgedVariable: String {
        family == .mysql ? "gtid_purged" : "gtid_binlog_state"
    }

    /// `SELECT @@GLOBAL.<gtid executed>` returning one column named `gtid`.
    public var gtidExecutedQuery: String { "SELECT @@GLOBAL.\(gtidExecutedVariable) AS gtid" }

    /// Forget every binlog file and GTID.
    public var resetBinaryLogsStatement: String {
        if family == .mysql && isAtLeast(8, 4) { return "RESET BINARY LOGS AND GTIDS" }
        return "RESET MASTER"
    }

    public var replicaStatusStatement: String {
        family == .mysql && isAtLeast(8, 0, 22) ? "SHOW REPLICA STATUS" : "SHOW SLAVE STATUS"
    }

    public var startReplicaStatement: String {
        family == .mysql && isAtLeast(8, 0, 22) ? "START REPLICA" : "START SLAVE"
    }

    public var stopReplicaStatement: String {
        family == .mysql && isAtLeast(8, 0, 22) ? "STOP REPLICA" : "STOP SLAVE"
    }

    /// Points a replica at a source. `retrySeconds` is how long it waits between reconnects.
    public func changeSourceStatement(host: String, port: Int, user: String, password: String,
                                      retrySeconds: Int, useGTID: Bool = true) -> String {
        if family == .mysql && isAtLeast(8, 0, 23) {
            var parts = ["SOURCE_HOST=\(SQLText.literal(host))", "SOURCE_PORT=\(port)",
                         "SOURCE_USER=\(SQLText.literal(user))", "SOURCE_PASSWORD=\(SQLText.literal(password))",
                         "SOURCE_CONNECT_RETRY=\(retrySeconds)"]
            if useGTID { parts.append("SOURCE_AUTO_POSITION=1") }
            if isAtLeast(8, 4) { parts.append("GET_SOURCE_PUBLIC_KEY=1") }
            return "CHANGE REPLICATION SOURCE TO " + parts.joined(separator: ", ")
        }
        var parts = ["MASTER_HOST=\(SQLText.literal(host))", "MASTER_PORT=\(port)",
                     "MASTER_USER=\(SQLText.literal(user))", "MASTER_PASSWORD=\(SQLText.literal(password))",
                     "MASTER_CONNECT_RETRY=\(retrySeconds)"]
        if family == .mariadb { parts.append(useGTID ? "MASTER_USE_GTID=slave_pos" : "MASTER_USE_GTID=no") }
        else if useGTID { parts.append("MASTER_AUTO_POSITION=1") }
        return "CHANGE MASTER TO " + parts.joined(separator: ", ")
    }

    /// Global privileges a binlog reader needs, in this flavor's names.
    public var replicationPrivileges: [String] {
        if family == .mariadb && isAtLeast(10, 5, 2) {
            return ["REPLICATION SLAVE", "BINLOG MONITOR", "REPLICA MONITOR"]
        }
        return ["REPLICATION SLAVE", "REPLICATION CLIENT"]
    }

    /// `CREATE USER IF NOT EXISTS` with this flavor's preferred authentication.
    public func createUserStatement(user: String, host: String, password: String) -> String {
        let account = SQLText.account(user, host)
        if family == .mysql && isAtLeast(8, 4) {
            return "CREATE USER IF NOT EXISTS \(account) IDENTIFIED WITH caching_sha2_password BY \(SQLText.literal(password))"
        }
        return "CREATE USER IF NOT EXISTS \(account) IDENTIFIED BY \(SQLText.literal(password))"
    }

    /// Turns this session's binary logging off or on again, so that statements carrying a
    /// password (CREATE/ALTER USER, GRANT) never reach a binlog reader. The same statement on
    /// every flavor; it needs SUPER (MariaDB) or SESSION_VARIABLES_ADMIN (MySQL 8), which root has.
    public func sessionBinaryLogStatement(enabled: Bool) -> String {
        "SET SESSION sql_log_bin = \(enabled ? 1 : 0)"
    }

    public func alterUserPasswordStatement(user: String, host: String, password: String) -> String {
        "ALTER USER \(SQLText.account(user, host)) IDENTIFIED BY \(SQLText.literal(password))"
    }

    /// The account with this password whether it existed or not: created when missing (with this
    /// flavor's authentication), its password set either way.
    public func accountStatements(user: String, host: String, password: String) -> [String] {
        [createUserStatement(user: user, host: host, password: password),
         alterUserPasswordStatement(user: user, host: host, password: password)]
    }

    /// The replication-connection processlist (binlog dump threads).
    public var dumpThreadsQuery: String {
        let table = family == .mysql && isAtLeast(8, 4) ? "performance_schema.processlist" : "information_schema.PROCESSLIST"
        return "SELECT ID, USER, HOST, TIME, COMMAND FROM \(table) WHERE COMMAND IN ('Binlog Dump', 'Binlog Dump GTID') ORDER BY ID"
    }

    /// The variable that names the GTID switch, or nil where GTIDs are always on (MariaDB).
    public var gtidModeVariable: String? { family == .mysql ? "gtid_mode" : nil }

    /// Server settings for a CDC-ready source, as option-file lines.
    public func cdcServerOptions(serverID: Int, retentionSeconds: Int, maxBinlogSizeMB: Int) -> [String] {
        var lines = [
            "log_bin = mysql-bin",
            "server_id = \(serverID)",
            "binlog_format = ROW",
            "binlog_row_image = FULL",
            "binlog_expire_logs_seconds = \(retentionSeconds)",
            "max_binlog_size = \(maxBinlogSizeMB)M",
        ]
        switch family {
        case .mariadb:
            if isAtLeast(10, 5) { lines.append("binlog_row_metadata = FULL") }
            lines += ["log_slave_updates = ON", "gtid_strict_mode = ON"]
        case .mysql:
            lines += ["binlog_row_metadata = FULL", "gtid_mode = ON", "enforce_gtid_consistency = ON",
                      "log_replica_updates = ON"]
        }
        return lines
    }
}
