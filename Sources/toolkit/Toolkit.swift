import ArgumentParser

struct Toolkit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "toolkit",
        abstract: "A CDC-ready MySQL source that breaks on purpose, and measures what your ETL tool did.",
        version: "1.0.0",
        subcommands: [
            UpCommand.self, DownCommand.self, StatusCommand.self, MonitorCommand.self, GenerateDataCommand.self,
            NetworkCommand.self, EventsCommand.self, AgentCommand.self, TransactionCommand.self, SchemaChangeCommand.self, ReplicateCommand.self, CorruptCommand.self, RestoreCommand.self, BreakCommand.self, VerifyCommand.self,
            TunnelCommand.self,
            ExposeCommand.self,
            CasesCommand.self,
            PipelineCommand.self,
            RunCommand.self,
            ReportCommand.self,
            SoakCommand.self,
        ]
    )
}
