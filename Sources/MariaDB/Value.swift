/// A value bound to a prepared statement parameter.
public enum Value: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case bytes([UInt8])
}

extension Value: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
}

/// Rows read back as text, as the server formats them (NULL stays nil).
public struct ResultSet: Sendable {
    public let columns: [String]
    public let rows: [[String?]]

    public init(columns: [String], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }

    /// The value of `column` in row `row`, matched case-insensitively.
    public func value(_ column: String, row: Int = 0) -> String? {
        guard row < rows.count,
              let index = columns.firstIndex(where: { $0.caseInsensitiveCompare(column) }) else { return nil }
        return rows[row][index]
    }

    /// The first column of the first row.
    public var scalar: String? { rows.first?.first ?? nil }

    /// The first row as column → value, NULL as ""; empty when there is no row (`SHOW SLAVE STATUS`
    /// of a server that is not a replica).
    public var firstRowByColumn: [String: String] {
        guard let row = rows.first else { return [:] }
        var values: [String: String] = [:]
        for (index, column) in columns.enumerated() { values[column] = row[index] ?? "" }
        return values
    }
}

extension String {
    fileprivate func caseInsensitiveCompare(_ other: String) -> Bool {
        lowercased() == other.lowercased()
    }
}
