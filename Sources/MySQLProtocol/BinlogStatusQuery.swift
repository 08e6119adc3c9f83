/// A statement that asks the server where its binlog stands: `SHOW MASTER STATUS` (MariaDB and
/// MySQL before 8.4), `SHOW BINARY LOG STATUS` (MySQL 8.2+) or `SHOW BINLOG STATUS` (MariaDB
/// 10.5+), in any case, with comments and a trailing `;`. A binlog reader asks it before its
/// initial snapshot (Debezium, Airbyte's CDC mode) to know where its stream will start; a
/// query-based sync has no use for it. Pure; reads at most the first few words.
public enum BinlogStatusQuery {
    public static func matches(_ text: String) -> Bool {
        var lexer = SelectedTables.Lexer(Array(text.utf8))
        guard case .word(let show)? = lexer.next(), lexer.word(show, is: "show"),
              case .word(let second)? = lexer.next() else { return false }
        if lexer.word(second, is: "binary") {
            guard case .word(let log)? = lexer.next(), lexer.word(log, is: "log") else { return false }
        } else if !lexer.word(second, is: "master") && !lexer.word(second, is: "binlog") {
            return false
        }
        guard case .word(let status)? = lexer.next(), lexer.word(status, is: "status") else { return false }
        switch lexer.next() {
        case nil, .punctuation(UInt8(ascii: ";"))?: return lexer.next() == nil
        default: return false
        }
    }
}
