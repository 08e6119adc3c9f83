/// How a source column's values are normalised before they are compared with the destination's.
public enum ColumnKind: Sendable, Hashable, Codable {
    /// TINYINT..BIGINT, YEAR: compared as whole numbers.
    case integer
    /// TINYINT(1): a number at the source, often a boolean at the destination (1 = true, 0 = false).
    case boolean
    /// DECIMAL/NUMERIC: compared by value (1.50 = 1.5).
    case decimal
    /// FLOAT/DOUBLE: compared within `relativeTolerance`.
    case float(relativeTolerance: Double)
    /// CHAR, VARCHAR, TEXT, ENUM, SET: compared exactly, NULL ≠ ''.
    case text
    /// DATETIME/TIMESTAMP with `digits` fractional digits: compared in UTC at the lower precision of the two sides.
    case instant(digits: Int)
    case date
    case time
    /// JSON: compared as parsed values.
    case json
    /// BINARY, VARBINARY, BLOB: read as hexadecimal, compared as bytes (bytea, or base64 in files).
    case binary

    /// The kind of a MySQL/MariaDB column from `information_schema.COLUMNS`.
    public static func mysql(dataType: String, columnType: String, datetimePrecision: Int?, isJSON: Bool = false) -> ColumnKind {
        let type = dataType.lowercased()
        if isJSON || type == "json" { return .json }
        switch type {
        case "tinyint":
            return columnType.lowercased().hasPrefix("tinyint(1)") ? .boolean : .integer
        case "smallint", "mediumint", "int", "integer", "bigint", "year", "bit":
            return .integer
        case "decimal", "numeric":
            return .decimal
        case "float":
            return .float(relativeTolerance: 1e-5)
        case "double", "real":
            return .float(relativeTolerance: 1e-9)
        case "datetime", "timestamp":
            return .instant(digits: datetimePrecision ?? 0)
        case "date":
            return .date
        case "time":
            return .time
        case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
            return .binary
        default:
            return .text
        }
    }
}
