import Flavor
import MariaDB

extension MariaDBConnection {
    /// The server's flavor as it is, not as its version string says (`ServerFlavor(reported:...)`):
    /// it is MariaDB when it answers MariaDB's own `@@gtid_binlog_pos`, at the version its InnoDB
    /// plugin reports. Nil when no version can be read; throws what the server said otherwise.
    public func identifyFlavor() throws(MariaDBError) -> ServerFlavor? {
        var answers = true
        do {
            _ = try query("SELECT @@GLOBAL.gtid_binlog_pos")
        } catch {
            // ER_UNKNOWN_SYSTEM_VARIABLE: MySQL has no such variable.
            guard error.number == 1193 else { throw error }
            answers = false
        }
        let innodb = answers
            ? try query("SELECT PLUGIN_AUTH_VERSION FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'InnoDB'").rows.first?.first ?? nil
            : nil
        return ServerFlavor(reported: serverVersion, answersMariaDBVariable: answers, innodbVersion: innodb)
    }
}
