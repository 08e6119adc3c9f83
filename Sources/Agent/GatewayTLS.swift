import Gateway
import Infrastructure

extension TLSTermination {
    /// The gateway's TLS for a source: termination with the toolkit's certificate when the source
    /// is set to `terminate` and `up` made the certificates; otherwise `nil` (TLS relayed blind).
    static func forSource(_ config: SourceConfig, state: StateDirectory) throws -> TLSTermination? {
        let ca = ToolkitCA(state: state)
        guard config.tlsMode == .terminate, ca.exists else { return nil }
        do {
            return try TLSTermination(certificateFile: ca.serverCertificate.path, privateKeyFile: ca.serverKey.path,
                                      caFile: ca.caCertificate.path)
        } catch {
            throw ToolkitError("cannot load the toolkit's TLS certificate and key from \(ca.directory.path): \(error)")
        }
    }
}
