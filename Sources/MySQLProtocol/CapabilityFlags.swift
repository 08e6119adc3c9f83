/// Client/server capability flags of the MySQL protocol (the subset the observer uses).
struct CapabilityFlags: OptionSet, Sendable, Hashable {
    let rawValue: UInt32

    static let connectWithDB = CapabilityFlags(rawValue: 1 << 3)
    static let compress = CapabilityFlags(rawValue: 1 << 5)
    static let protocol41 = CapabilityFlags(rawValue: 1 << 9)
    static let ssl = CapabilityFlags(rawValue: 1 << 11)
    static let secureConnection = CapabilityFlags(rawValue: 1 << 15)
    static let pluginAuth = CapabilityFlags(rawValue: 1 << 19)
    static let connectAttributes = CapabilityFlags(rawValue: 1 << 20)
    static let pluginAuthLengthEncodedClientData = CapabilityFlags(rawValue: 1 << 21)
    static let deprecateEOF = CapabilityFlags(rawValue: 1 << 24)
    /// MySQL 8.0.18+: zstd-compressed protocol.
    static let zstdCompression = CapabilityFlags(rawValue: 1 << 26)
    /// MySQL 8.0.23+: COM_QUERY carries a query-attribute prefix.
    static let queryAttributes = CapabilityFlags(rawValue: 1 << 27)

    /// Either compression algorithm.
    static let anyCompression: CapabilityFlags = [.compress, .zstdCompression]
}
