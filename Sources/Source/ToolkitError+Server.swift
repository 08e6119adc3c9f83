import Infrastructure
import MariaDB

extension ToolkitError {
    /// Wraps a server error with what we were doing: "connecting to root@127.0.0.1:3306: ERROR 2003 (HY000): ...".
    public static func server(_ doing: String, _ error: MariaDBError) -> ToolkitError {
        ToolkitError(.operation, "\(doing): \(error)")
    }
}
