/// Where a real GTID gap goes: the sequence numbers to skip and the first one written after.
/// Pure: parses the server's GTID state as it prints it.
public enum GTIDGap {
    /// MariaDB: the last sequence number of `domain` in `gtid_binlog_pos` ("0-1-42,1-2-7"), 0 if none.
    public static func mariaDBLastSeqNo(binlogPos: String, domain: Int) -> UInt64 {
        binlogPos.split(separator: ",").compactMap { entry -> UInt64? in
            let parts = entry.trimmingWhitespace().split(separator: "-")
            guard parts.count == 3, Int(parts[0]) == domain else { return nil }
            return UInt64(parts[2])
        }.max() ?? 0
    }

    /// MySQL: the highest transaction number of `uuid` in `gtid_executed` ("uuid:1-42:50,other:1-3"), 0 if none.
    public static func mySQLLastNumber(executed: String, uuid: String) -> UInt64 {
        executed.split(separator: ",").compactMap { entry -> UInt64? in
            let parts = entry.trimmingWhitespace().split(separator: ":")
            guard parts.count >= 2, parts[0].lowercased() == uuid.lowercased() else { return nil }
            return parts.dropFirst().compactMap { UInt64($0.split(separator: "-").last ?? "") }.max()
        }.max() ?? 0
    }

    /// After `last`, skipping `gap` numbers: the first number written, and the missing range.
    public static func plan(last: UInt64, gap: Int) -> (first: UInt64, missing: ClosedRange<UInt64>) {
        let first = last + UInt64(gap) + 1
        return (first, (last + 1)...(first - 1))
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var text = self
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return text
    }
}
