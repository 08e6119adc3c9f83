import Flavor
import MariaDB

/// Is this server ready to be a CDC source? Each check says what it saw and how to fix it.
public enum ReadinessChecks {
    public static func run(_ connection: MariaDBConnection, flavor: ServerFlavor, etlUser: String) throws -> [StatusReport.Check] {
        var names = ["log_bin", "binlog_format", "binlog_row_image", "server_id", "binlog_expire_logs_seconds"]
        if let gtidMode = flavor.gtidModeVariable { names.append(gtidMode) }
        if flavor.family == .mariadb { names.append("gtid_strict_mode") }
        let quoted = names.map { "'\($0)'" }.joined(separator: ", ")
        let rows = try connection.query("SHOW GLOBAL VARIABLES WHERE Variable_name IN (\(quoted))").rows
        var value: [String: String] = [:]
        for row in rows { value[(row[0] ?? "").lowercased()] = row[1] ?? "" }
        func get(_ name: String) -> String { value[name] ?? "" }

        var checks: [StatusReport.Check] = [
            .init(name: "binary_log", ok: get("log_bin") == "ON", value: get("log_bin"),
                  fix: "start the server with log_bin=mysql-bin"),
            .init(name: "binlog_format", ok: get("binlog_format") == "ROW", value: get("binlog_format"),
                  fix: "SET GLOBAL binlog_format = 'ROW' (and binlog_format=ROW in the server options)"),
            .init(name: "binlog_row_image", ok: get("binlog_row_image") == "FULL", value: get("binlog_row_image"),
                  fix: "SET GLOBAL binlog_row_image = 'FULL' (and in the server options)"),
            .init(name: "server_id", ok: (Int(get("server_id")) ?? 0) > 0, value: get("server_id"),
                  fix: "set server_id to a non-zero number unique among servers and readers"),
        ]
        if let gtidMode = flavor.gtidModeVariable {
            checks.append(.init(name: "gtid", ok: get(gtidMode) == "ON", value: "gtid_mode=\(get(gtidMode))",
                                fix: "gtid_mode=ON and enforce_gtid_consistency=ON in the server options"))
        } else {
            let position = try connection.query(flavor.gtidExecutedQuery).scalar ?? ""
            checks.append(.init(name: "gtid", ok: true,
                                value: "always on; gtid_binlog_pos=\(position.isEmpty ? "(empty)" : position), gtid_strict_mode=\(get("gtid_strict_mode"))",
                                fix: nil))
        }
        let retention = Int(get("binlog_expire_logs_seconds")) ?? 0
        checks.append(.init(name: "binlog_retention", ok: retention == 0 || retention >= 86_400,
                            value: retention == 0 ? "never expires" : "\(retention / 3600) h",
                            fix: "keep binlogs at least a day: SET GLOBAL binlog_expire_logs_seconds = 604800"))
        checks.append(try replicationGrant(connection, flavor: flavor, etlUser: etlUser))
        return checks.map { check in
            var check = check
            if check.ok { check.fix = nil }
            return check
        }
    }

    /// Does some account of `etlUser` hold the replication privileges a binlog reader needs?
    static func replicationGrant(_ connection: MariaDBConnection, flavor: ServerFlavor, etlUser: String) throws -> StatusReport.Check {
        let hosts = try connection.query("SELECT Host FROM mysql.user WHERE User = ?", [.text(etlUser)]).rows.compactMap { $0[0] }
        let fix = "GRANT \(flavor.replicationPrivileges.joined(separator: ", ")) ON *.* TO '\(etlUser)'@'%'"
        guard !hosts.isEmpty else {
            return .init(name: "etl_user_replication", ok: false, value: "user '\(etlUser)' does not exist", fix: "CREATE USER, then " + fix)
        }
        for host in hosts {
            let grants = try connection.query("SHOW GRANTS FOR \(SQLText.account(etlUser, host))").rows.compactMap { $0[0] }.joined(separator: " ")
            let upper = grants.uppercased()
            if upper.contains("REPLICATION SLAVE") || upper.contains("REPLICATION REPLICA") || upper.contains("ALL PRIVILEGES ON *.*") {
                return .init(name: "etl_user_replication", ok: true, value: "'\(etlUser)'@'\(host)' has REPLICATION SLAVE", fix: nil)
            }
        }
        return .init(name: "etl_user_replication", ok: false, value: "'\(etlUser)' lacks REPLICATION SLAVE", fix: fix)
    }
}
