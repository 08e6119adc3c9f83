/// Folds a change log (Singer's target-jsonl, Debezium's files) into the rows it leaves live:
/// lines in order, by key, the last line wins and a delete removes the key. A line equal to the
/// previous line of the same key (metadata left out) is a redelivery — at-least-once delivery,
/// reported but not a difference.
public enum ChangeLog {
    public struct Line: Sendable {
        public var key: String
        /// The line's data without metadata columns, to recognise a redelivery.
        public var signature: [String?]
        public var isDelete: Bool
        public var row: Row
        public init(key: String, signature: [String?], isDelete: Bool, row: Row) {
            self.key = key
            self.signature = signature
            self.isDelete = isDelete
            self.row = row
        }
    }

    public struct Folded: Sendable {
        /// The live rows, in the order their keys first appeared.
        public var rows: [Row]
        public var redelivered: Int
    }

    public static func fold(_ lines: [Line]) -> Folded {
        var order: [String] = []
        var last: [String: Line] = [:]
        var redelivered = 0
        for line in lines {
            if let previous = last[line.key] {
                if previous.signature == line.signature && previous.isDelete == line.isDelete { redelivered += 1 }
            } else {
                order.append(line.key)
            }
            last[line.key] = line
        }
        let rows = order.compactMap { key -> Row? in
            guard let line = last[key], !line.isDelete else { return nil }
            return line.row
        }
        return Folded(rows: rows, redelivered: redelivered)
    }
}
