/// A failure the CLI reports in one line. `usage` errors exit 2 and change nothing; `blocked`
/// (something holds what the command would change: a run holds the source) exits 3 and changes
/// nothing; the rest exit 1.
public struct ToolkitError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case usage, blocked, operation }
    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A failed operation (exit 1).
    public init(_ message: String) {
        self.init(.operation, message)
    }

    public static func usage(_ message: String) -> ToolkitError { ToolkitError(.usage, message) }
    public static func blocked(_ message: String) -> ToolkitError { ToolkitError(.blocked, message) }

    public var description: String { message }
    public var exitCode: Int32 {
        switch kind {
        case .usage: 2
        case .blocked: 3
        case .operation: 1
        }
    }
}
