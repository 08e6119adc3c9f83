/// How `transaction` splits its rows into INSERT statements that each fit the server's
/// `max_allowed_packet`. Pure: the numbers only.
public struct TransactionPlan: Sendable, Hashable {
    /// Bytes a statement needs besides the payloads (SQL text, packet headers, the other columns).
    public static let statementOverhead = 1024
    /// Bytes each row adds besides its payload (run id, sequence number, length prefixes).
    public static let rowOverhead = 64
    /// At most this many rows per statement, however small they are.
    public static let maxRowsPerStatement = 1000

    public enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case rowTooLarge(rowBytes: Int, maxAllowedPacket: Int)
        public var description: String {
            switch self {
            case let .rowTooLarge(rowBytes, maxAllowedPacket):
                return "one row of \(rowBytes) bytes does not fit the server's max_allowed_packet (\(maxAllowedPacket) bytes, "
                    + "of which \(maxAllowedPacket - TransactionPlan.statementOverhead - TransactionPlan.rowOverhead) can be payload); "
                    + "use a smaller --size or raise max_allowed_packet"
            }
        }
    }

    public let rows: Int
    public let payloadBytes: Int
    public let maxAllowedPacket: Int
    /// Rows in each INSERT, in order; they add up to `rows`.
    public let statementSizes: [Int]

    /// Fails before anything is written when a single row cannot fit one packet.
    public init(rows: Int, payloadBytes: Int, maxAllowedPacket: Int) throws(Problem) {
        let perRow = payloadBytes + Self.rowOverhead
        let room = maxAllowedPacket - Self.statementOverhead
        guard perRow <= room else { throw .rowTooLarge(rowBytes: payloadBytes, maxAllowedPacket: maxAllowedPacket) }
        let perStatement = max(1, min(Self.maxRowsPerStatement, room / perRow))
        var sizes: [Int] = []
        var left = rows
        while left > 0 {
            let take = min(perStatement, left)
            sizes.append(take)
            left -= take
        }
        self.rows = rows
        self.payloadBytes = payloadBytes
        self.maxAllowedPacket = maxAllowedPacket
        self.statementSizes = sizes
    }

    /// The largest number of rows any one statement carries.
    public var rowsPerStatement: Int { statementSizes.max() ?? 0 }

    /// Bytes the largest statement sends: always at most `maxAllowedPacket`.
    public var largestStatementBytes: Int {
        Self.statementOverhead + rowsPerStatement * (payloadBytes + Self.rowOverhead)
    }
}
