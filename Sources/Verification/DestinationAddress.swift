import Foundation

/// `--destination`: where the ETL tool wrote. Never carries a password.
public enum DestinationAddress: Sendable, Hashable {
    case postgres(user: String, host: String, port: Int, database: String, schema: String)
    case mysql(user: String, host: String, port: Int, database: String)
    case jsonl(path: String)
    case csv(path: String)
    /// A warehouse's own CLI, run once per table, printing it as CSV.
    case exec(ExecCommand)

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public static let allowed = "postgres://USER@HOST:PORT/DB[?schema=S], mysql://USER@HOST:PORT/DB, jsonl:PATH, csv:PATH or 'exec:COMMAND ... {table} ...'"

    public init(parsing given: String) throws(Invalid) {
        // Messages quote the text; a password in it must not be repeated on stderr.
        let text = Self.redacted(given)
        func invalid(_ why: String) -> Invalid {
            Invalid(description: "--destination \(why); allowed: \(DestinationAddress.allowed)")
        }
        if given.hasPrefix("exec:") {
            do {
                self = .exec(try ExecCommand(parsing: String(given.dropFirst(5))))
            } catch {
                throw Invalid(description: "--destination exec: \(error.description); e.g. 'exec:duckdb -csv -readonly FILE -c \"SELECT * FROM {table}\"'")
            }
            return
        }
        if given.hasPrefix("jsonl:") || given.hasPrefix("csv:") {
            let isJSONL = given.hasPrefix("jsonl:")
            let path = String(given.dropFirst(isJSONL ? 6 : 4))
            guard !path.isEmpty else { throw invalid("'\(text)' has no path") }
            self = isJSONL ? .jsonl(path: path) : .csv(path: path)
            return
        }
        guard let url = URLComponents(string: given), let scheme = url.scheme?.lowercased(),
              ["postgres", "postgresql", "mysql", "mariadb"].contains(scheme) else {
            throw invalid("'\(text)' is not a destination")
        }
        if url.password != nil {
            throw Invalid(description: "--destination must not contain a password (passwords never go on a command line): use "
                + (scheme.hasPrefix("postgres") ? "PGPASSWORD or ~/.pgpass" : "TOOLKIT_DEST_PASSWORD"))
        }
        guard let user = url.user, !user.isEmpty else { throw invalid("'\(text)' names no user (USER@HOST)") }
        guard let host = url.host, !host.isEmpty else { throw invalid("'\(text)' names no host") }
        let isPostgres = scheme.hasPrefix("postgres")
        let port = url.port ?? (isPostgres ? 5432 : 3306)
        guard (1...65535).contains(port) else { throw invalid("port \(port) is not from 1 to 65535") }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw invalid("'\(text)' names no database (/DB)") }
        var schema = "public"
        for item in url.queryItems ?? [] {
            guard isPostgres, item.name == "schema", let value = item.value, !value.isEmpty else {
                throw invalid("'\(text)': unknown parameter '\(item.name)' (only postgres takes ?schema=S)")
            }
            schema = value
        }
        self = isPostgres ? .postgres(user: user, host: host, port: port, database: database, schema: schema)
            : .mysql(user: user, host: host, port: port, database: database)
    }

    /// `--destination` as reports show it: without a URL's password, an exec command without the
    /// values of its password, token and secret arguments.
    public static func shown(_ text: String) -> String {
        if text.hasPrefix("exec:") {
            return (try? ExecCommand(parsing: String(text.dropFirst(5)))).map { "exec:" + $0.redacted } ?? "exec:***"
        }
        return redacted(text)
    }

    /// `scheme://user:secret@host/...` as `scheme://user:***@host/...`.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@"),
              let colon = text[scheme.upperBound..<at].firstIndex(of: ":") else { return text }
        return text.replacingCharacters(in: colon..<at, with: ":***")
    }

    public var isFile: Bool {
        switch self {
        case .jsonl, .csv: return true
        default: return false
        }
    }
}
