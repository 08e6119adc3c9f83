/// A note is a line on the journal's timeline, not a place to store data.
extension JournalNote {
    public static let maxDetailBytes = 4096
    public static let maxCommandBytes = 64

    /// Throws a 400 `AgentFailure` naming the field when the note is larger than a journal line should be.
    public func checkSize() throws(AgentFailure) {
        guard detail.utf8.count <= Self.maxDetailBytes else {
            throw AgentFailure(status: 400, message: "a note's detail must be at most \(Self.maxDetailBytes) bytes, got \(detail.utf8.count)")
        }
        if let command, command.utf8.count > Self.maxCommandBytes {
            throw AgentFailure(status: 400, message: "a note's command must be at most \(Self.maxCommandBytes) bytes, got \(command.utf8.count)")
        }
    }
}
