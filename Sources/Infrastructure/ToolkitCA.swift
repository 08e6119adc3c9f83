import Foundation

/// The toolkit's own certificate authority and the server certificate it signs, in
/// `$TOOLKIT_HOME/tls/`: made once, by the first `up`, with Debian's `openssl`. The managed
/// server serves that certificate, and so does the gateway when it terminates TLS; clients
/// verify either with `ca.pem`.
///
/// `tls/` and the certificates belong to the account that ran `up` and are world-readable;
/// the CA's key is readable by that account only (0600), the server's key by the server's
/// group too (0640), so the server reads it where it is, without a copy it could swap.
public struct ToolkitCA: Sendable {
    public let state: StateDirectory

    public init(state: StateDirectory) { self.state = state }

    public var directory: URL { state.tlsDirectory }
    /// What clients trust (`--ssl-ca`, `MASTER_SSL_CA`, PyMySQL's `ssl={"ca": ...}`).
    public var caCertificate: URL { directory.appendingPathComponent("ca.pem") }
    var caKey: URL { directory.appendingPathComponent("ca-key.pem") }
    public var serverCertificate: URL { directory.appendingPathComponent("server-cert.pem") }
    public var serverKey: URL { directory.appendingPathComponent("server-key.pem") }

    /// True when the CA and the server certificate and key are all there.
    public var exists: Bool {
        [caCertificate, serverCertificate, serverKey].allSatisfy { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// Makes the CA and a server certificate for localhost, 127.0.0.1, ::1 and this host's name,
    /// unless they exist. `serverGroup` may read the server's key. Returns whether it made them.
    @discardableResult
    public func generateIfNeeded(serverGroup: gid_t? = nil) throws -> Bool {
        guard !exists else { return false }
        try state.prepareOwnDirectories()
        try OwnedPath.prepareDirectory(directory, owner: geteuid(), group: getegid(), mode: 0o755)
        guard let openssl = ChildProcess.find(["openssl"]) else {
            throw ToolkitError("openssl not found, needed to make the toolkit's TLS certificates; install it: apt-get install openssl")
        }
        let log = state.logDirectory.appendingPathComponent("tls.log")
        // openssl writes into a staging directory only this account can enter (the keys are
        // private from the start, without touching the process-wide umask); the files are moved
        // into tls/ once their modes are set.
        var template = Array(directory.appendingPathComponent(".new-XXXXXX").path.utf8CString)
        guard let created = mkdtemp(&template) else {
            throw ToolkitError("cannot create a staging directory in \(directory.path): \(String(cString: strerror(errno)))")
        }
        let staging = URL(fileURLWithPath: String(cString: created))
        defer { try? FileManager.default.removeItem(at: staging) }
        func staged(_ file: URL) -> String { staging.appendingPathComponent(file.lastPathComponent).path }
        let request = staging.appendingPathComponent("server.csr").path
        let extensions = staging.appendingPathComponent("server.ext")
        try Self.serverExtensions(hostName: ProcessInfo.processInfo.hostName)
            .write(to: extensions, atomically: false, encoding: .utf8)
        let serial = UInt64.random(in: 1...(UInt64.max >> 1))
        let steps: [[String]] = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650",
             "-keyout", staged(caKey), "-out", staged(caCertificate), "-subj", "/CN=mysql-test-toolkit CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-keyout", staged(serverKey), "-out", request,
             "-subj", "/CN=localhost"],
            ["x509", "-req", "-sha256", "-days", "3650", "-in", request, "-CA", staged(caCertificate),
             "-CAkey", staged(caKey), "-set_serial", String(serial), "-extfile", extensions.path,
             "-out", staged(serverCertificate)],
        ]
        for arguments in steps {
            let status = try ChildProcess.run(openssl, arguments, log: log)
            guard status == 0 else {
                throw ToolkitError("openssl \(arguments[0]) failed (exit \(status)) making the toolkit's certificates; see \(log.path)")
            }
        }
        chmod(staged(caKey), 0o600)
        chmod(staged(caCertificate), 0o644)
        chmod(staged(serverCertificate), 0o644)
        if let serverGroup, chown(staged(serverKey), geteuid(), serverGroup) != 0 {
            throw ToolkitError("cannot give \(serverKey.path) to group \(serverGroup): \(String(cString: strerror(errno)))")
        }
        chmod(staged(serverKey), serverGroup == nil ? 0o600 : 0o640)
        // The certificate last: `exists` looks for it.
        for file in [caKey, caCertificate, serverKey, serverCertificate] where rename(staged(file), file.path) != 0 {
            throw ToolkitError("cannot move \(file.lastPathComponent) into \(directory.path): \(String(cString: strerror(errno)))")
        }
        return true
    }

    /// The server certificate's extensions: a TLS server for the names clients connect with.
    static func serverExtensions(hostName: String) -> String {
        var names = ["DNS:localhost", "IP:127.0.0.1", "IP:::1"]
        let plainName = !hostName.isEmpty && hostName != "localhost"
            && hostName.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
        if plainName { names.append("DNS:\(hostName)") }
        return """
            basicConstraints = CA:FALSE
            keyUsage = critical, digitalSignature, keyEncipherment
            extendedKeyUsage = serverAuth
            subjectAltName = \(names.joined(separator: ", "))

            """
    }
}

/// What the toolkit does with TLS (`up --tls`).
public enum TLSMode: String, Sendable, Codable, CaseIterable {
    /// The server serves TLS with the toolkit's certificate; the gateway terminates clients' TLS
    /// with it and talks TLS to the server, so TLS sessions are observed like plain ones.
    case terminate
    /// The server serves TLS; the gateway relays TLS sessions blind (not observable).
    case passthrough
    /// The server offers no TLS.
    case off

    /// Whether the managed server is configured to serve TLS.
    public var serverServesTLS: Bool { self != .off }
}
