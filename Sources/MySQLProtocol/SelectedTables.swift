/// The tables a SELECT reads, from its text: every name after FROM and JOIN or STRAIGHT_JOIN (and the rest of a
/// FROM's comma list), as written (`table` or `db.table`, without backticks). Nil when the text is
/// not a SELECT; empty for one that reads no table (`SELECT 1`, `SELECT @@version`) or only the
/// server's own schemas. A query-based sync reads its tables this way. Pure; bounded by the text.
public enum SelectedTables {
    static let systemSchemas: Set<String> = ["information_schema", "mysql", "performance_schema", "sys"]

    /// Called for every statement a client sends through the gateway, so its words are compared
    /// in place: only the names after FROM and JOIN become strings.
    public static func parse(_ text: String) -> [String]? {
        var lexer = Lexer(Array(text.utf8))
        guard let first = lexer.next(), case .word(let verb) = first,
              lexer.word(verb, is: "select") || lexer.word(verb, is: "with") else { return nil }
        var tables: [String] = []
        var previous: Token? = first
        while let token = lexer.next() {
            defer { previous = token }
            guard case .word(let word) = token else { continue }
            let isFrom = lexer.word(word, is: "from")
            guard isFrom || lexer.word(word, is: "join") || lexer.word(word, is: "straight_join") else { continue }
            if case .punctuation(UInt8(ascii: "."))? = previous { continue } // `t.from`: a column, not the keyword
            readNames(&lexer, into: &tables, list: isFrom)
        }
        var seen: Set<String> = []
        return tables.filter { name in
            let lowered = name.lowercased()
            let parts = lowered.split(separator: ".")
            if parts.count == 2, systemSchemas.contains(String(parts[0])) { return false }
            if lowered == "dual" { return false }
            return seen.insert(lowered).inserted
        }
    }

    /// `name [AS alias] [, name ...]` after FROM (a list) or JOIN (one).
    private static func readNames(_ lexer: inout Lexer, into tables: inout [String], list: Bool) {
        while true {
            guard case .name(let first)? = lexer.peekName() else { return }
            _ = lexer.next()
            var name = first
            if lexer.peekPunctuation(UInt8(ascii: ".")) {
                _ = lexer.next()
                if case .name(let second)? = lexer.peekName() {
                    _ = lexer.next()
                    name += "." + second
                }
            }
            tables.append(name)
            guard list else { return }
            // An alias, then a comma for the next table, or anything else ends the list.
            while let token = lexer.peek() {
                if case .punctuation(UInt8(ascii: ",")) = token { _ = lexer.next(); break }
                if case .word(let word) = token, !lexer.isReserved(word) { _ = lexer.next(); continue }
                if case .quoted = token { _ = lexer.next(); continue }
                return
            }
            if lexer.peek() == nil { return }
        }
    }

    /// Words that end a FROM list's entry (never an alias), in lowercase.
    static let reserved: [StaticString] = [
        "where", "join", "inner", "left", "right", "cross", "natural", "straight_join", "on", "using", "group", "order",
        "limit", "having", "union", "for", "lock", "into", "window", "procedure", "partition", "force", "use", "ignore", "except",
        "intersect", "outer", "full",
    ]

    enum Token: Equatable {
        /// Where the word lies in the text's bytes.
        case word(Range<Int>)
        /// A backtick-quoted identifier.
        case quoted(String)
        case punctuation(UInt8)
        case literal
    }

    struct Lexer {
        let bytes: [UInt8]
        var index = 0
        var peeked: Token??

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        enum Name { case name(String) }

        mutating func peek() -> Token? {
            if let peeked { return peeked }
            let token = scan()
            peeked = .some(token)
            return token
        }

        mutating func next() -> Token? {
            if let peeked { self.peeked = nil; return peeked }
            return scan()
        }

        mutating func peekName() -> Name? {
            switch peek() {
            case .word(let word)? where !isReserved(word): return .name(String(decoding: bytes[word], as: UTF8.self))
            case .quoted(let name)?: return .name(name)
            default: return nil
            }
        }

        mutating func peekPunctuation(_ byte: UInt8) -> Bool {
            if case .punctuation(let found)? = peek() { return found == byte }
            return false
        }

        /// Whether the word is `keyword` (lowercase ASCII), in any case.
        func word(_ range: Range<Int>, is keyword: StaticString) -> Bool {
            guard range.count == keyword.utf8CodeUnitCount else { return false }
            let expected = UnsafeBufferPointer(start: keyword.utf8Start, count: keyword.utf8CodeUnitCount)
            for (offset, byte) in zip(range, expected) {
                let found = bytes[offset]
                guard (found >= 0x41 && found <= 0x5A ? found | 0x20 : found) == byte else { return false }
            }
            return true
        }

        func isReserved(_ range: Range<Int>) -> Bool {
            SelectedTables.reserved.contains { word(range, is: $0) }
        }

        private mutating func scan() -> Token? {
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1; continue }
                if byte == 0x2F, index + 1 < bytes.count, bytes[index + 1] == 0x2A { // /* */
                    index += 2
                    while index + 1 < bytes.count, !(bytes[index] == 0x2A && bytes[index + 1] == 0x2F) { index += 1 }
                    index = min(bytes.count, index + 2)
                    continue
                }
                if byte == 0x23 || (byte == 0x2D && index + 1 < bytes.count && bytes[index + 1] == 0x2D) { // # or --
                    while index < bytes.count, bytes[index] != 0x0A { index += 1 }
                    continue
                }
                if byte == 0x60 { // `name`
                    index += 1
                    var name: [UInt8] = []
                    while index < bytes.count {
                        if bytes[index] == 0x60 {
                            if index + 1 < bytes.count, bytes[index + 1] == 0x60 { name.append(0x60); index += 2; continue }
                            index += 1
                            break
                        }
                        name.append(bytes[index])
                        index += 1
                    }
                    return .quoted(String(decoding: name, as: UTF8.self))
                }
                if byte == 0x27 || byte == 0x22 { // 'string' or "string"
                    let quote = byte
                    index += 1
                    while index < bytes.count {
                        if bytes[index] == 0x5C { index += 2; continue }
                        if bytes[index] == quote {
                            if index + 1 < bytes.count, bytes[index + 1] == quote { index += 2; continue }
                            index += 1
                            break
                        }
                        index += 1
                    }
                    return .literal
                }
                if Self.isWordByte(byte) {
                    let start = index
                    while index < bytes.count, Self.isWordByte(bytes[index]) { index += 1 }
                    return .word(start..<index)
                }
                index += 1
                return .punctuation(byte)
            }
            return nil
        }

        static func isWordByte(_ byte: UInt8) -> Bool {
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
                || byte == 0x24 || byte >= 0x80
        }
    }
}
