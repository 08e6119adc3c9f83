/// Where and how to connect. The password is handed to Connector/C in memory only.
public struct ConnectionOptions: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var database: String?
    /// A Unix socket path; used instead of TCP when set.
    public var socket: String?
    public var connectTimeoutSeconds: UInt32
    public var readTimeoutSeconds: UInt32?

    public init(host: String = "127.0.0.1", port: Int = 3306, user: String, password: String,
                database: String? = nil, socket: String? = nil,
                connectTimeoutSeconds: UInt32 = 5, readTimeoutSeconds: UInt32? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.socket = socket
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.readTimeoutSeconds = readTimeoutSeconds
    }

    /// "user@host:port" (or the socket path), never the password.
    public var endpoint: String {
        if let socket { return "\(user)@\(socket)" }
        return "\(user)@\(host):\(port)"
    }
}
