/// The toolkit's own tables at the source, which no data check compares: `_toolkit_meta` (its
/// version, the generator's sequence) and `_toolkit_heartbeat` (the soak's heartbeat, always a
/// little behind at a destination).
public enum BookkeepingTables {
    public static let names: Set<String> = ["_toolkit_meta", "_toolkit_heartbeat"]

    /// Whether `table` (a bare name, any case) is one of them.
    public static func contains(_ table: String) -> Bool { names.contains(table.lowercased()) }
}
