/// Extracts the value of `@slave_connect_state` from a MariaDB replica's SET statement.
///
/// Accepts `SET @slave_connect_state='0-1-42'`, spaces around `=`, `:=`, double
/// quotes, a quoted variable name (`` @`slave_connect_state` ``) and the variable
/// appearing after other assignments in the same SET.
enum SlaveConnectState {
    private static let name = Array("slave_connect_state".utf8)

    static func parse(_ text: ArraySlice<UInt8>) -> String? {
        guard QueryCommand.isSetStatement(text) else { return nil }
        var index = text.startIndex

        while let at = text[index...].firstIndex(of: UInt8(ascii: "@")) {
            index = at + 1
            guard let afterName = matchVariableName(text, at: index) else { continue }
            index = afterName
            skipSpace(text, &index)
            if text[index...].hasASCIIPrefixCaseInsensitive(":=") {
                index += 2
            } else if index < text.endIndex, text[index] == UInt8(ascii: "=") {
                index += 1
            } else {
                continue
            }
            skipSpace(text, &index)
            return readValue(text, at: index)
        }
        return nil
    }

    /// Matches `slave_connect_state`, optionally quoted; returns the index after it.
    private static func matchVariableName(_ text: ArraySlice<UInt8>, at start: Int) -> Int? {
        var index = start
        var quote: UInt8?
        if index < text.endIndex, [UInt8(ascii: "`"), UInt8(ascii: "'"), UInt8(ascii: "\"")].contains(text[index]) {
            quote = text[index]
            index += 1
        }
        guard text[index...].hasASCIIPrefixCaseInsensitive(name) else { return nil }
        index += name.count
        if let quote {
            guard index < text.endIndex, text[index] == quote else { return nil }
            index += 1
        } else if index < text.endIndex, isIdentifierByte(text[index]) {
            return nil  // e.g. @slave_connect_state_x
        }
        return index
    }

    /// A quoted string (with `\x` escapes and doubled quotes) or a bare word.
    private static func readValue(_ text: ArraySlice<UInt8>, at start: Int) -> String {
        var index = start
        guard index < text.endIndex else { return "" }
        let first = text[index]
        guard first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") else {
            let end = text[index...].firstIndex { isSpace($0) || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: ";") }
            return String(lenientUTF8: text[index..<(end ?? text.endIndex)])
        }
        index += 1
        var value: [UInt8] = []
        while index < text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "\\"), index + 1 < text.endIndex {
                value.append(text[index + 1])
                index += 2
                continue
            }
            if byte == first {
                if index + 1 < text.endIndex, text[index + 1] == first {
                    value.append(first)
                    index += 2
                    continue
                }
                break
            }
            value.append(byte)
            index += 1
        }
        return String(decoding: value, as: UTF8.self)
    }

    private static func skipSpace(_ text: ArraySlice<UInt8>, _ index: inout Int) {
        while index < text.endIndex, isSpace(text[index]) {
            index += 1
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte.isASCIISpace
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$")
    }
}
