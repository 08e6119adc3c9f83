/// A failure the CLI reports in one line. `usage` errors exit 2 and change nothing; the rest exit 1.
public struct ToolkitError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case usage, operation }
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

    public var description: String { message }
    public var exitCode: Int32 { kind == .usage ? 2 : 1 }
}
