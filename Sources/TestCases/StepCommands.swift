/// What a `toolkit:` step may run: the scenario commands, each with its own flags. Never the
/// commands that start, stop or export things (`up`, `down`, `run`, `cases`...), never the flags
/// that pick another server, state directory or file (`--home`, `--config`, `--host`, `--port`,
/// `--socket`...), and no value that is a path: a step acts on the run's own source only.
public enum StepCommands {
    public struct Command: Sendable {
        public var name: String
        /// Flags that take no value.
        public var switches: [String]
        /// Flags followed by a value (`--type truncate` or `--type=truncate`).
        public var options: [String]

        public var flags: [String] { options + switches }
    }

    public static let all: [Command] = [
        Command(name: "corrupt", switches: ["--no-backup", "--rotate"], options: ["--type", "--file", "--percentage", "--count"]),
        Command(name: "restore", switches: ["--list", "--all", "--flush"], options: ["--file"]),
        Command(name: "replicate", switches: [], options: ["--scenario", "--duration", "--delay", "--gap", "--writes"]),
        Command(name: "schema-change", switches: [], options: ["--type", "--table", "--count", "--column"]),
        Command(name: "transaction", switches: [],
                options: ["--type", "--rows", "--size", "--duration", "--data-type", "--ops-per-sec", "--table", "--on-interrupt"]),
        Command(name: "break", switches: ["--kill-etl-connections", "--revoke-replication", "--undo"], options: ["--wait-timeout", "--row-image"]),
        Command(name: "generate-data", switches: [], options: ["--count", "--interval", "--batches", "--table", "--rate", "--updates", "--deletes"]),
        Command(name: "network", switches: ["--down", "--up", "--flap", "--slow", "--off", "--crash", "--detach"],
                options: ["--type", "--duration", "--interval", "--latency", "--jitter", "--bandwidth", "--only", "--backend"]),
    ]

    /// Flags every command shares that would point a step elsewhere than the run's source.
    public static let forbidden = ["--home", "--config", "--host", "--port", "--socket", "--user", "--database"]

    public static func named(_ name: String) -> Command? { all.first { $0.name == name } }

    /// What is wrong with `arguments` as a step, naming the argument's index (0-based) and what
    /// is allowed; nil when it fits. `${name}` values are left for the parameter check.
    public static func problem(_ arguments: [String]) -> (index: Int, message: String)? {
        guard let first = arguments.first else {
            return (0, "a scenario command and its flags, e.g. [corrupt, --type, truncate]")
        }
        guard let command = named(first) else {
            return (0, "a step runs one of \(all.map(\.name).joined(separator: ", ")), got '\(first)'")
        }
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if let problem = pathProblem(argument) { return (index, problem) }
            guard argument.hasPrefix("--") else {
                return (index, "a flag of \(command.name) (\(command.flags.joined(separator: ", "))), got '\(argument)'")
            }
            let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let flag = String(parts[0])
            if forbidden.contains(flag) {
                return (index, "\(flag) is not allowed in a step: a step acts on the run's own source and state directory")
            }
            if command.switches.contains(flag) {
                if parts.count == 2 { return (index, "\(flag) takes no value, got '\(argument)'") }
            } else if command.options.contains(flag) {
                if parts.count == 1 {
                    index += 1
                    guard index < arguments.count else { return (index - 1, "\(flag) needs a value") }
                    if let problem = pathProblem(arguments[index]) { return (index, problem) }
                    if arguments[index].hasPrefix("--") { return (index - 1, "\(flag) needs a value, got '\(arguments[index])'") }
                }
            } else {
                return (index, "a flag of \(command.name) (\(command.flags.joined(separator: ", "))), got '\(flag)'")
            }
            index += 1
        }
        return nil
    }

    private static func pathProblem(_ argument: String) -> String? {
        argument.contains("/") || argument.contains("..") ? "a name or a number, not a path, got '\(argument)'" : nil
    }
}
