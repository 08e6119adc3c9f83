import ArgumentParser
import Foundation
import Infrastructure
import Pipeline

struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "A pipeline out of the box: a MariaDB replica of the source, reading through the gateway.",
        discussion: """
        The replica connects as the ETL user to the gateway (so every fault hits it), retries every \
        second and notices a dead connection after 4 s, like an ETL tool. Its tables are the destination \
        `toolkit run --pipeline replica` checks.
          toolkit pipeline up | down [--purge] | status [--json]
        """)

    @Argument(help: "up, down or status.") var action: String
    @Flag(help: "With down: remove the replica and its data.") var purge = false
    @Option(help: "State directory (env TOOLKIT_HOME).") var home: String?
    @OptionGroup var output: OutputFlags

    func validate() throws {
        guard ["up", "down", "status"].contains(action) else {
            throw ValidationError("pipeline takes up, down or status, got '\(action)'")
        }
        if purge && action != "down" { throw ValidationError("--purge goes with pipeline down") }
    }

    func run() throws {
        let state = StateDirectory.resolve(flag: home)
        let pipeline = ReplicaPipeline(home: state)
        switch action {
        case "up":
            guard let source = try SourceConfig.load(from: state.configFile) else {
                throw ToolkitError("no source in \(state.root.path); start one with `toolkit up`")
            }
            let status = try pipeline.up(source: source)
            output.emit(status)
        case "down":
            try pipeline.down(purge: purge)
            output.emit(try pipeline.status())
        default:
            output.emit(try pipeline.status())
        }
    }
}
