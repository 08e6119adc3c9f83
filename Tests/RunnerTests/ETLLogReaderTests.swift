import Runner
import Testing

/// Debezium's log as its embedded engine writes it: a record and its stack trace, the root
/// cause in the last `Caused by:`, and the engine dying after its restart was refused.
@Suite struct ETLLogReaderTests {
    static let debezium = """
    2026-12-01 19:02:11,204 INFO  [io.debezium.connector.mysql.MySqlStreamingChangeEventSource] Connected to binlog at 127.0.0.1:3306
    2026-12-01 19:02:20,517 ERROR [io.debezium.connector.mysql.MySqlStreamingChangeEventSource] Error during binlog processing. Last offset stored = {file=mysql-bin.000002, pos=4312}, binlog reader near position = mysql-bin.000002/4631
    com.github.shyiko.mysql.binlog.network.ServerException: Failed to read binlog
    \tat com.github.shyiko.mysql.binlog.BinaryLogClient.listenForEventPackets(BinaryLogClient.java:1086)
    \tat java.base/java.lang.Thread.run(Thread.java:840)
    Caused by: java.net.SocketException: Connection reset
    \tat java.base/sun.nio.ch.NioSocketImpl.implRead(NioSocketImpl.java:318)
    \t... 3 more
    2026-12-01 19:02:21,530 ERROR [io.debezium.embedded.async.AsyncEmbeddedEngine] Engine has failed with
    org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event producer. This connector will be stopped.
    Caused by: java.net.ConnectException: Connection refused
    2026-12-01 19:02:21,601 INFO  [io.debezium.embedded.async.AsyncEmbeddedEngine] Engine is stopped
    """.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)

    static let pattern = "error|warn|fail|exception|refused"

    @Test func aRecordIsQuotedWithItsRootCause() {
        let reading = ETLLogReader.debezium.read(Self.debezium, pattern: Self.pattern)
        #expect(reading.messages.count == 2)
        #expect(reading.messages.first?.hasSuffix("binlog reader near position = mysql-bin.000002/4631 — caused by: java.net.SocketException: Connection reset") == true)
        #expect(reading.messages.last?.hasSuffix("Engine has failed with — caused by: java.net.ConnectException: Connection refused") == true)
        #expect(reading.stopped?.hasSuffix("Engine has failed with") == true)
    }

    /// The generic reader keeps one line per message, as before.
    @Test func theGenericReaderReadsLines() {
        let reading = ETLLogReader.generic.read(Self.debezium, pattern: "refused")
        #expect(reading.messages == ["Caused by: java.net.ConnectException: Connection refused"])
        #expect(reading.stopped == nil)
    }

    @Test func theToolsNameChoosesTheReader() {
        #expect(ETLLogReader.forTool("Debezium 3.6 (embedded)") == .debezium)
        #expect(ETLLogReader.forTool("pg_chameleon") == .generic)
        #expect(ETLLogReader.forTool(nil) == .generic)
    }
}
