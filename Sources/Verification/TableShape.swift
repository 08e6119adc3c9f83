/// A column both sides have, named as the source names it.
public struct ComparedColumn: Sendable, Hashable {
    public var name: String
    public var kind: ColumnKind
    public init(name: String, kind: ColumnKind) {
        self.name = name
        self.kind = kind
    }
}

/// What is compared for one table: the columns both sides have, the key among them.
public struct TableShape: Sendable {
    public var table: String
    public var columns: [ComparedColumn]
    /// Indexes into `columns`; empty = no key, the table is compared as a multiset.
    public var key: [Int]
    /// Source columns the destination does not have.
    public var notReplicatedColumns: [String]

    public init(table: String, columns: [ComparedColumn], key: [Int], notReplicatedColumns: [String] = []) {
        self.table = table
        self.columns = columns
        self.key = key
        self.notReplicatedColumns = notReplicatedColumns
    }

    public var keyColumns: [String] { key.map { columns[$0].name } }

    /// Normalises one row read as text, in `columns` order; `formats` per column (or one for all).
    public func row(_ values: [String?], formats: [ValueFormat]) -> Row {
        var cells: [Cell] = []
        cells.reserveCapacity(columns.count)
        for (index, column) in columns.enumerated() {
            let format = formats.count == 1 ? formats[0] : formats[index]
            cells.append(Normalisation.cell(index < values.count ? values[index] : nil, kind: column.kind, format: format))
        }
        let text = keyText(cells)
        return Row(cells: cells, key: text, number: key.count == 1 && numericKey ? Int64(text) : nil)
    }

    /// The key's text: the key cells' canonical forms, joined by U+001F.
    public func keyText(_ cells: [Cell]) -> String {
        guard !key.isEmpty else { return "" }
        if key.count == 1 { return Self.text(cells[key[0]]) }
        return key.map { Self.text(cells[$0]) }.joined(separator: "\u{1F}")
    }

    static func text(_ cell: Cell) -> String {
        switch cell {
        case .null: return "NULL"
        case .text(let text), .invalid(let text): return text
        case .number(let value): return String(value)
        case .instant(let micros, _): return String(micros)
        case .zeroDate: return "0000-00-00"
        }
    }

    /// Whether keys sort as numbers (every key column a whole number).
    var numericKey: Bool { !key.isEmpty && key.allSatisfy { columns[$0].kind == .integer || columns[$0].kind == .boolean } }
}

/// One normalised row.
public struct Row: Sendable, Hashable {
    public var cells: [Cell]
    public var key: String
    /// The key as a number, when it is one whole-number column (hashed faster than text).
    public var number: Int64?
    public init(cells: [Cell], key: String, number: Int64? = nil) {
        self.cells = cells
        self.key = key
        self.number = number
    }
}
