/// The cases the toolkit ships: TC-001..TC-008 of the original toolkit (TC-004 is the user's
/// seed document, word for word) and the failures CDC users hit that the toolkit can cause.
public enum BuiltinCases {
    /// Parsed once; a built-in that does not parse is a bug caught by the unit tests.
    public static let all: [TestCase] = parsed.map(\.testCase)

    private static let parsed: [(testCase: TestCase, text: String)] = sources.compactMap { text in
        (try? TestCase(yaml: text)).map { ($0, text) }
    }

    public static func named(_ id: String) -> TestCase? {
        all.first { $0.id.caseInsensitiveCompare(id) == .orderedSame }
    }

    /// A built-in's YAML, for checking it with a run's overrides (`CaseCheck.load`).
    public static func source(named id: String) -> (id: String, text: String)? {
        parsed.first { $0.testCase.id.caseInsensitiveCompare(id) == .orderedSame }.map { ($0.testCase.id, $0.text) }
    }

    static let networkCleanup = """
        # Restore network
        toolkit network --up

        # Verify status
        toolkit network --status
        toolkit status
        """

    static let sources: [String] = [tc001, tc002, tc003, tc004, tc005, tc006, tc007, tc008, tc009, tc010, tc011, tc012]

    static let tc001 = """
        id: TC-001
        title: Pipeline Restart via Fix Now
        metadata: {category: Recovery, etl_tools: Hevo/Fivetran/Airbyte, severity: High, created: '2026-02-10', author: '[Tester Name]'}
        description: >-
          Verify the pipeline comes back to a consistent state after an outage followed by the tool's own restart
          ("Fix Now", "Resync", "Restart"): running, every object syncing, no row lost or doubled.
        preconditions:
          - MySQL toolkit running
          - ETL pipeline connected and syncing
          - 'Network status is clear: `toolkit network --status`'
        parameters: {duration: 60}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Break the pipeline: `toolkit network --down --type reject --duration 60`'
            fault: {type: reject, seconds: '${duration}'}
          - text: 'Restore network: `toolkit network --up`'
            restore: true
          - text: Restart the pipeline from the ETL tool ("Fix Now")
          - text: Verify pipeline recovery
            wait: recovery
        commands: |
          toolkit network --down --type reject --duration 60
          toolkit network --up
          toolkit status
        expected:
          - Pipeline status is running after the restart
          - All objects are syncing
          - Row counts match, no duplicates
          - Binlog position advanced
        checklist:
          - {text: Pipeline status is running, measure: pipeline_running}
          - {text: Pipeline reconnected after the restart, measure: recovery}
          - {text: Row counts match and no duplicates, measure: data}
          - {text: Binlog position maintained or advanced, measure: position}
          - {text: '"Fix Now" was available and worked', measure: manual}
        cleanup: |
        \(indented(networkCleanup))
        """

    static let tc002 = """
        id: TC-002
        title: Binlog Corruption Recovery
        metadata: {category: Binlog, etl_tools: Hevo/Fivetran/Airbyte, severity: Critical, created: '2026-02-10', author: '[Tester Name]'}
        description: >-
          Verify how the pipeline reports a damaged binary log, and that it resumes with intact data once the
          binlog is restored from the toolkit's backup.
        preconditions:
          - MySQL toolkit running on a managed source (binlog files on this host)
          - ETL pipeline connected and syncing
        parameters: {duration: 60}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Corrupt the current binlog: `toolkit corrupt --type magic-number`'
            toolkit: [corrupt, --type, magic-number]
          - text: Observe the error the ETL tool reports
            observe: [Does the error name the binlog problem?]
          - text: 'Restore the binlog: `toolkit restore --all --flush`'
            toolkit: [restore, --all, --flush]
          - text: Verify pipeline recovery
            wait: recovery
        commands: |
          toolkit corrupt --type truncate
          toolkit corrupt --type magic-number
          toolkit restore --list
          toolkit restore --all --flush
        expected:
          - The tool reports a binlog read error
          - After the restore the pipeline resumes with intact data
        checklist:
          - {text: Error names the binlog problem, measure: error_message, pattern: 'binlog|binary log|1236|event|checksum|magic'}
          - {text: Pipeline resumes after the restore, measure: pipeline_running}
          - {text: Data intact, measure: data}
          - {text: A backup existed before the corruption, measure: manual}
        cleanup: |
          toolkit restore --all --flush
          toolkit status
        """

    static let tc003 = """
        id: TC-003
        title: Network Timeout Handling
        metadata: {category: Network, etl_tools: Hevo/Fivetran/Airbyte, severity: High, created: '2026-02-10', author: '[Tester Name]'}
        description: >-
          Verify ETL pipeline behavior when packets are silently dropped: nothing answers, nothing is refused,
          and the tool must notice through its own timeouts.
        preconditions:
          - MySQL toolkit running
          - ETL pipeline connected and syncing
          - 'Network status is clear: `toolkit network --status`'
        parameters: {duration: 60}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Drop traffic: `toolkit network --down --type timeout`'
            fault: {type: timeout, seconds: '${duration}'}
          - text: 'Observe ETL tool behavior:'
            observe: [How long until the timeout is detected?, What error message is shown?]
          - text: 'Restore network: `toolkit network --up`'
            restore: true
          - text: Verify pipeline recovery
            wait: recovery
        commands: |
          toolkit network --down --type timeout --duration 60
          toolkit network --up
        expected:
          - Timeout detected within 5 minutes
          - Error message indicates a timeout or a lost connection
          - Pipeline resumes from the correct position without duplicates
        checklist:
          - {text: Timeout detected (< 5 minutes), measure: detection, within: 300}
          - {text: Error message clearly indicates a timeout, measure: error_message, pattern: 'time(d)? ?out|lost connection|2013|2026|gone away|reconnect'}
          - {text: Pipeline recovers after network restore, measure: recovery}
          - {text: Resumes from the correct position, measure: position}
          - {text: No data gaps or duplicates, measure: data}
        cleanup: |
        \(indented(networkCleanup))
        """

    static let tc004 = """
        id: TC-004
        title: Connection Refused Handling
        metadata:
          category: Network
          etl_tools: Hevo/Fivetran/Airbyte
          severity: High
          created: '2026-02-10'
          author: '[Tester Name]'
        description: >-
          Verify ETL pipeline behavior when connections are actively refused (TCP RST). This simulates firewall
          blocks or service unavailability where the connection fails immediately.
        preconditions:
          - MySQL toolkit running with `--cap-add=NET_ADMIN`
          - ETL pipeline connected and syncing
          - Initial sync completed
          - 'Network status is clear: `toolkit network --status`'
        parameters:
          duration: 60
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Block connections with REJECT: `toolkit network --down --type reject`'
            fault: {type: reject, seconds: '${duration}'}
          - text: 'Observe ETL tool behavior:'
            observe:
              - How quickly is the error detected?
              - What error message is shown?
              - Does it retry? How often?
          - text: 'Restore network: `toolkit network --up`'
            restore: true
          - text: Verify pipeline recovery
            wait: recovery
        commands: |
          # Check current network status
          toolkit network --status

          # Block with connection refused (immediate failure)
          toolkit network --down --type reject

          # Timed outage - auto-restore after 60 seconds
          toolkit network --down --type reject --duration 60

          # Restore network
          toolkit network --up
        expected:
          - ETL tool immediately detects connection refused
          - Error message indicates "Connection refused" or similar
          - 'After network restore:'
          - '  Pipeline reconnects (automatically or manually)'
          - '  Replication resumes correctly'
          - No data loss
        checklist:
          - text: Error detected immediately (< 30 seconds)
            measure: detection
            within: 30
          - text: Error message clearly indicates connection refused
            measure: error_message
            pattern: 'refused|\\(111\\)|errno:? ?111|\\b2003\\b|ECONNREFUSED'
          - text: Pipeline recovers after network restore
            measure: recovery
          - text: Replication position is maintained
            measure: position
          - text: No data gaps or duplicates
            measure: data
        cleanup: |
        \(indented(networkCleanup))
        """

    static let tc005 = """
        id: TC-005
        title: MySQL Service Down
        metadata: {category: Network, etl_tools: Hevo/Fivetran/Airbyte, severity: Critical, created: '2026-02-10', author: '[Tester Name]'}
        description: >-
          Verify ETL pipeline behavior when the MySQL server itself stops: nothing listens, established
          connections are closed by the server going away.
        preconditions:
          - MySQL toolkit running on a managed source
          - ETL pipeline connected and syncing
        parameters: {duration: 60}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Stop the server: `toolkit network --down --type service`'
            fault: {type: service, seconds: '${duration}'}
          - text: 'Start it again: `toolkit network --up`'
            restore: true
          - text: Verify pipeline recovery
            wait: recovery
        commands: |
          toolkit network --down --type service --duration 60
          toolkit network --up
          toolkit status
        expected:
          - Disconnection detected
          - Pipeline reconnects after the restart
          - Binlog position maintained, no loss or duplicates
        checklist:
          - {text: Disconnection detected (< 60 seconds), measure: detection, within: 60}
          - {text: Pipeline reconnects after the restart, measure: recovery}
          - {text: Binlog position maintained, measure: position}
          - {text: No data loss or duplicates, measure: data}
        cleanup: |
        \(indented(networkCleanup))
        """

    static let tc006 = """
        id: TC-006
        title: Latency Degradation
        metadata: {category: Network, etl_tools: Hevo/Fivetran/Airbyte, severity: Medium, created: '2026-02-10', author: '[Tester Name]'}
        description: >-
          Verify ETL pipeline behavior as round trips slow down by 2 s, 5 s and 10 s while rows are written.
        preconditions:
          - MySQL toolkit running
          - ETL pipeline connected and syncing
        parameters: {duration: 60, latency1: 2000, latency2: 5000, latency3: 10000}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Add 2 s latency: `toolkit network --slow --latency 2000`'
            fault: {type: latency, seconds: '${duration}', latency: '${latency1}'}
          - text: 'Add 5 s latency: `toolkit network --slow --latency 5000`'
            fault: {type: latency, seconds: '${duration}', latency: '${latency2}'}
          - text: 'Add 10 s latency: `toolkit network --slow --latency 10000`'
            fault: {type: latency, seconds: '${duration}', latency: '${latency3}'}
          - text: 'Remove latency: `toolkit network --slow --off`'
            restore: true
          - text: Verify pipeline catches up
            wait: sync
        commands: |
          toolkit network --slow --latency 2000
          toolkit network --slow --latency 5000
          toolkit network --slow --latency 10000
          toolkit network --slow --off
        expected:
          - Stays connected at 2 s
          - 'Behaviour at 5 s and 10 s recorded: every binlog event arrives the whole latency late, so a reader whose own network timeout is shorter (the managed replica''s slave_net_timeout is 4 s) reconnects at 5 s, and its 5 s item FAILs'
          - No data loss
        checklist:
          - {text: Stays connected at 2 s latency, measure: stays_connected, window: 1}
          - {text: Stays connected at 5 s latency, measure: stays_connected, window: 2}
          - {text: Pipeline replicating at the end, measure: pipeline_running}
          - {text: No data loss, measure: data}
        cleanup: |
          toolkit network --slow --off
          toolkit network --status
        """

    static let tc007 = """
        id: TC-007
        title: Flapping Connection
        metadata: {category: Network, etl_tools: Hevo/Fivetran/Airbyte, severity: High, created: '2026-02-10', author: '[Tester Name]'}
        description: >-
          Verify ETL pipeline behavior when the network goes down and up again every interval while rows are written.
        preconditions:
          - MySQL toolkit running
          - ETL pipeline connected and syncing
        parameters: {duration: 300, interval: 30}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Flap the network: `toolkit network --flap --type reject --interval 30 --duration 300`'
            fault: {type: reject, seconds: '${duration}', interval: '${interval}'}
          - text: Wait for the flapping to end
            restore: true
          - text: Verify pipeline recovery
            wait: recovery
        commands: |
          toolkit network --flap --type reject --interval 30 --duration 300
          toolkit network --up
        expected:
          - Pipeline survives and reconnects after every cycle
          - Final row count matches, no duplicates, position correct
        checklist:
          - {text: Reconnects after every cycle, measure: reconnect_every_cycle}
          - {text: Pipeline recovers at the end, measure: recovery}
          - {text: Position correct, measure: position}
          - {text: Final row count matches and no duplicates, measure: data}
        cleanup: |
        \(indented(networkCleanup))
        """

    static let tc008 = """
        id: TC-008
        title: GTID Gap Recovery
        metadata: {category: Replication, etl_tools: Hevo/Fivetran/Airbyte, severity: High, created: '2026-02-10', author: '[Tester Name]'}
        description: >-
          Verify ETL pipeline behavior when the source's GTID sequence skips numbers, then more writes follow.
        preconditions:
          - MySQL toolkit running on a managed source
          - ETL pipeline connected and syncing
        parameters: {duration: 60}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Make a GTID gap: `toolkit replicate --scenario gtid-gap`'
            toolkit: [replicate, --scenario, gtid-gap]
          - text: Verify pipeline catches up
            wait: sync
        commands: |
          toolkit replicate --scenario gtid-gap --gap 10 --writes 3
          toolkit status
        expected:
          - The gap is detected or tolerated, with a clear message if it stops
          - Data verified after the writes that follow the gap
        checklist:
          - {text: Pipeline keeps replicating across the gap, measure: pipeline_running}
          - {text: Data verified, measure: data}
          - {text: Recovery method recorded, measure: manual}
        cleanup: |
          toolkit status
        """

    static let tc009 = """
        id: TC-009
        title: Binlog Purged While Away
        metadata: {category: Binlog, etl_tools: Debezium/Airbyte/Maxwell, severity: Critical, created: '2026-11-25', author: '[Tester Name]'}
        description: >-
          Verify the pipeline reports error 1236 when the binlog it must resume from was purged while it was
          disconnected, instead of silently skipping rows.
        preconditions:
          - MySQL toolkit running
          - ETL pipeline connected and syncing
        parameters: {duration: 20}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Cut the pipeline off: `toolkit network --down --type reject`'
            fault: {type: reject, seconds: '${duration}'}
          - text: 'End its session on the server too, so nothing holds the old binlog: `toolkit break --kill-etl-connections`'
            toolkit: [break, --kill-etl-connections]
          - text: 'Write rows it has not read: `toolkit generate-data --count 20`'
            toolkit: [generate-data, --count, '20']
          - text: 'Purge the binlogs it has not read: `toolkit replicate --scenario purge`'
            toolkit: [replicate, --scenario, purge]
          - text: 'Restore network: `toolkit network --up`'
            restore: true
        commands: |
          toolkit network --down --type reject --duration 20
          toolkit break --kill-etl-connections
          toolkit generate-data --count 20
          toolkit replicate --scenario purge
          toolkit network --up
        expected:
          - The pipeline stops with error 1236 (binlog purged) and says so
          - No silent gap
        checklist:
          - {text: Error names the purged binlog (1236), measure: error_message, pattern: '1236|purged|could not find first log'}
          - {text: Pipeline does not skip ahead, measure: position}
          - {text: No data gaps, measure: data}
        cleanup: |
        \(indented(networkCleanup))
        """

    static let tc010 = """
        id: TC-010
        title: Schema Change Mid-Stream
        metadata: {category: Schema, etl_tools: Debezium/Airbyte/Fivetran, severity: High, created: '2026-11-25', author: '[Tester Name]'}
        description: >-
          Verify the pipeline follows DDL on a replicated table while rows are being written.
        preconditions:
          - MySQL toolkit running
          - ETL pipeline connected and syncing
        parameters: {duration: 30}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Add a column: `toolkit schema-change --type add-column --table users`'
            toolkit: [schema-change, --type, add-column, --table, users]
          - text: Verify pipeline catches up
            wait: sync
        commands: |
          toolkit schema-change --type add-column --table users
          toolkit schema-change --type rename-column --table users
        expected:
          - The pipeline applies the change and keeps replicating
          - Rows written after the change arrive intact
        checklist:
          - {text: Pipeline keeps replicating after the DDL, measure: pipeline_running}
          - {text: Rows written around the change arrive intact, measure: data}
        cleanup: |
          toolkit status
        """

    static let tc011 = """
        id: TC-011
        title: Large Transaction
        metadata: {category: Replication, etl_tools: Debezium/Airbyte/Fivetran, severity: Medium, created: '2026-11-25', author: '[Tester Name]'}
        description: >-
          Verify the pipeline replicates one large transaction (many rows, big values) that may exceed
          its packet or memory limits.
        preconditions:
          - MySQL toolkit running
          - ETL pipeline connected and syncing
        parameters: {duration: 30}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Write one large transaction: `toolkit transaction --type large-data --rows 200 --size 64`'
            toolkit: [transaction, --type, large-data, --rows, '200', --size, '64']
          - text: Verify pipeline catches up
            wait: sync
        commands: |
          toolkit transaction --type large-data --rows 200 --size 64
          toolkit transaction --type many-rows --rows 100000
        expected:
          - The transaction arrives whole
        checklist:
          - {text: Pipeline keeps replicating after the transaction, measure: pipeline_running}
          - {text: The transaction arrives whole, measure: data}
        cleanup: |
          toolkit status
        """

    static let tc012 = """
        id: TC-012
        title: Connections Killed by wait_timeout
        metadata: {category: Server, etl_tools: Debezium/Airbyte/Fivetran, severity: Medium, created: '2026-11-25', author: '[Tester Name]'}
        description: >-
          Verify the pipeline survives the server killing its connections (KILL, or an idle connection
          reaching wait_timeout) and reconnects without losing its place.
        preconditions:
          - MySQL toolkit running
          - ETL pipeline connected and syncing
        parameters: {duration: 10}
        steps:
          - text: Verify pipeline is syncing normally
            wait: sync
          - text: 'Kill the ETL connections: `toolkit break --kill-etl-connections`'
            toolkit: [break, --kill-etl-connections]
          - text: Verify pipeline recovery
            wait: sync
        commands: |
          toolkit break --wait-timeout 5
          toolkit break --kill-etl-connections
          toolkit break --undo
        expected:
          - The pipeline reconnects by itself and loses nothing
        checklist:
          - {text: Pipeline replicating after the kill, measure: pipeline_running}
          - {text: No data gaps or duplicates, measure: data}
        cleanup: |
          toolkit break --undo
          toolkit status
        """

    /// Indents a block for a YAML literal (`cleanup: |`) inside the sources above.
    static func indented(_ block: String) -> String {
        block.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
    }
}
