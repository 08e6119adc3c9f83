/// The tag every generated row carries in its e-mail address: a global, ordered sequence number.
/// `gen-000000000042@toolkit.test` is row 42 of everything `generate-data` ever wrote to this source,
/// so a lost or doubled insert shows up as a missing or repeated number.
public enum GeneratedTag {
    public static let suffix = "@toolkit.test"

    public static func email(_ sequence: Int64) -> String {
        let digits = String(sequence)
        return "gen-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + suffix
    }

    public static func name(_ sequence: Int64) -> String { "Generated User \(sequence)" }

    public static func status(_ sequence: Int64) -> String {
        ["active", "inactive", "pending"][Int(sequence % 3)]
    }

    /// The sequence number in a generated e-mail address, or nil for any other text.
    public static func sequence(inEmail email: String) -> Int64? {
        guard email.hasPrefix("gen-"), email.hasSuffix(suffix) else { return nil }
        return Int64(email.dropFirst(4).dropLast(suffix.count))
    }
}
