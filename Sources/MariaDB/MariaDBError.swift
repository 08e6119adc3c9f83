/// An error reported by the server or by Connector/C, captured at the moment of failure.
public struct MariaDBError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The MySQL/MariaDB error number (e.g. 1045, 2003).
    public let number: UInt32
    /// The five-character SQLSTATE ("HY000" when the library has none).
    public let sqlState: String
    /// The library's message text.
    public let message: String

    public init(number: UInt32, sqlState: String, message: String) {
        self.number = number
        self.sqlState = sqlState
        self.message = message
    }

    /// Client-side errors (2000-2999) mean the server could not be reached or the link broke.
    public var isConnectionLost: Bool {
        [2002, 2003, 2005, 2006, 2011, 2013, 2026, 2055, 4031].contains(number)
    }

    public var description: String { "ERROR \(number) (\(sqlState)): \(message)" }
}
