import Verification

/// A column as one side declares it.
public struct DeclaredColumn: Sendable, Hashable {
    public var name: String
    /// The side's own type name, lower case (information_schema's DATA_TYPE / data_type).
    public var dataType: String
    /// How the source's values of this column are normalised (meaningful for the source side).
    public var kind: ColumnKind
    /// Fractional-second digits of a datetime column on this side; nil when unknown.
    public var instantDigits: Int?

    public init(name: String, dataType: String, kind: ColumnKind, instantDigits: Int? = nil) {
        self.name = name
        self.dataType = dataType
        self.kind = kind
        self.instantDigits = instantDigits
    }
}

/// Something `verify` reads tables from: the source, a database destination, a directory of files.
public protocol TableSource: AnyObject {
    /// Table names as the side spells them.
    func tableNames() throws -> [String]
    /// The table's columns, in order; empty when the table does not exist.
    func columns(of table: String) throws -> [DeclaredColumn]
    /// Every row of `table`, `columns` (names as this side spells them) in order, as text, handed to
    /// `body` as it is read (the array may be reused between rows).
    func forEachRow(of table: String, columns: [DeclaredColumn], _ body: ([String?]) throws -> Void) throws
    /// The rows whose whole-number key `keyColumn` is among `keys`; nil when this side cannot select by key.
    func rows(of table: String, columns: [DeclaredColumn], keyColumn: DeclaredColumn, in keys: [Int64]) throws -> [[String?]]?
    /// How this side writes binary and datetime values.
    func format(of column: DeclaredColumn) -> ValueFormat
    /// How long `verify --wait` waits at least before it reads this side again.
    var recheckInterval: Duration { get }
}

extension TableSource {
    public var recheckInterval: Duration { .seconds(1) }

    /// Every row of `table`, collected.
    public func rows(of table: String, columns: [DeclaredColumn]) throws -> [[String?]] {
        var rows: [[String?]] = []
        try forEachRow(of: table, columns: columns) { rows.append($0) }
        return rows
    }
}

/// A failure to read a side, in one line.
public struct ReadError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// The request names something that is not there (a --table, --key or --columns name): bad input, not a failed read.
    public let isUsage: Bool
    public init(_ description: String, usage: Bool = false) {
        self.description = description
        isUsage = usage
    }
}
