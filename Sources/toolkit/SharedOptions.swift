import ArgumentParser
import Flavor
import Foundation
import Source

/// Which server to talk to. Flags win over MYSQL_* variables, which win over the config file.
struct ConnectionFlags: ParsableArguments {
    @Option(help: "Server host (env MYSQL_HOST). Default: the managed source, else 127.0.0.1.")
    var host: String?

    @Option(parsing: .unconditional, help: "Server port (env MYSQL_PORT).")
    var port: Int?

    @Option(help: "Admin user for the toolkit's own SQL (env MYSQL_USER). Default root.")
    var user: String?

    @Option(help: "Database (env MYSQL_DATABASE). Default testdb.")
    var database: String?

    @Option(help: "Unix socket path, instead of TCP.")
    var socket: String?

    @Option(help: "A JSON config file (the shape of toolkit.json) describing the server.")
    var config: String?

    @Option(help: "State directory of the managed source (env TOOLKIT_HOME).")
    var home: String?

    func validate() throws {
        if let port, !(1...65535).contains(port) {
            throw ValidationError("--port must be a port number from 1 to 65535, got \(port)")
        }
        if let database, !SQLText.isPlainIdentifier(database) {
            throw ValidationError("--database must be a plain name (letters, digits, _ and $, at most 64), got '\(database)'")
        }
    }

    /// The password comes from MYSQL_PWD / MYSQL_ROOT_PASSWORD / the config file: never a flag,
    /// so that it does not show in the process list.
    func target() throws -> Target {
        var overrides = Target.Overrides()
        overrides.host = host
        overrides.port = port
        overrides.user = user
        overrides.database = database
        overrides.socket = socket
        overrides.configFile = config
        overrides.home = home
        return try Target.resolve(overrides)
    }
}

struct OutputFlags: ParsableArguments {
    @Flag(help: "Print the result as JSON on stdout.")
    var json = false

    /// Prints `value` as JSON or as its human description.
    func emit<T: Encodable & CustomStringConvertible>(_ value: T) {
        if json {
            print(JSONOutput.line(value, pretty: true))
        } else {
            print(value.description)
        }
    }
}

enum JSONOutput {
    static func line<T: Encodable>(_ value: T, pretty: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A flag given with a choice it does not go with is refused, never dropped:
/// "--size goes only with --type large-data".
func requireFit(_ flag: String, given: Bool, fits: Bool, goesOnlyWith partner: String) throws {
    if given && !fits { throw ValidationError("\(flag) goes only with \(partner)") }
}

func writeError(_ line: String) {
    writeStandardError(line + "\n")
}

/// Writes to stderr with one plain `write`: a stderr that cannot take it (a full disk under the
/// agent's log) loses the text, where `FileHandle.write` would stop the program (SIGILL).
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var done = 0
    while done < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(STDERR_FILENO, $0.baseAddress! + done, $0.count - done) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        done += written
    }
}

/// Unbuffered stdout for output that must appear line by line (watch modes, countdowns).
enum Console {
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
