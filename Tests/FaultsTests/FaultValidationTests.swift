import Faults
import Foundation
import Testing

@Suite("Fault validation")
struct FaultValidationTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var spec: FaultSpec
        var message: String
        var testDescription: String { message }
    }

    static let invalidSpecs: [Case] = [
        Case(spec: .latency(ms: -3), message: "--latency must be an integer from 1 to 600000 (milliseconds), got -3"),
        Case(spec: .latency(ms: 600_001), message: "--latency must be an integer from 1 to 600000 (milliseconds), got 600001"),
        Case(spec: FaultSpec(type: .latency),
             message: "--latency is required for a latency fault: an integer from 1 to 600000 (milliseconds)"),
        Case(spec: .latency(ms: 100, jitterMs: 101),
             message: "--jitter must be an integer from 0 to 100 (milliseconds, at most the --latency), got 101"),
        Case(spec: .latency(ms: 100, jitterMs: -1),
             message: "--jitter must be an integer from 0 to 100 (milliseconds, at most the --latency), got -1"),
        Case(spec: .bandwidth(bytesPerSecond: 12),
             message: "--bandwidth must be an integer from 1024 to 10000000000 (bytes per second), got 12"),
        Case(spec: .bandwidth(bytesPerSecond: 10_000_000_001),
             message: "--bandwidth must be an integer from 1024 to 10000000000 (bytes per second), got 10000000001"),
        Case(spec: FaultSpec(type: .bandwidth),
             message: "--bandwidth is required for a bandwidth fault: an integer from 1024 to 10000000000 (bytes per second)"),
        Case(spec: FaultSpec(type: .service, scope: .replication),
             message: "--only replication does not go with --type service (a stopped server cannot pick which connections it drops)"),
        Case(spec: FaultSpec(type: .service, scope: .queries),
             message: "--only queries does not go with --type service (a stopped server cannot pick which connections it drops)"),
        Case(spec: FaultSpec(type: .reject, crash: true), message: "--crash goes only with --type service"),
        Case(spec: FaultSpec(type: .reject, latencyMs: 5), message: "--latency goes only with --slow"),
        Case(spec: FaultSpec(type: .timeout, jitterMs: 5), message: "--jitter goes only with --slow --latency"),
        Case(spec: FaultSpec(type: .reset, bytesPerSecond: 4096), message: "--bandwidth goes only with --slow"),
        Case(spec: FaultSpec(type: .latency, latencyMs: 10, bytesPerSecond: 4096),
             message: "--bandwidth goes only with --slow"),
        Case(spec: FaultSpec(type: .bandwidth, latencyMs: 10, bytesPerSecond: 4096),
             message: "--latency goes only with --slow"),
    ]

    @Test(arguments: invalidSpecs)
    func invalidSpecIsRejectedWithOneLineNamingTheFlag(_ testCase: Case) {
        #expect(throws: FaultValidationError.self) { try testCase.spec.validate() }
        do {
            try testCase.spec.validate()
        } catch {
            #expect(error.message == testCase.message)
            #expect(testCase.message.hasPrefix(error.flag))
            #expect(!error.message.contains("\n"))
        }
    }

    @Test(arguments: [
        FaultSpec(type: .reject),
        FaultSpec(type: .timeout, scope: .replication),
        FaultSpec(type: .service, crash: true),
        FaultSpec(type: .reset, scope: .queries),
        .latency(ms: 1),
        .latency(ms: 600_000, jitterMs: 600_000),
        .latency(ms: 2000, jitterMs: 0, scope: .replication),
        .bandwidth(bytesPerSecond: 1_024),
        .bandwidth(bytesPerSecond: 10_000_000_000),
    ])
    func validSpecPasses(_ spec: FaultSpec) throws {
        try spec.validate()
    }

    static func message(_ command: ScheduleCommand) -> String? {
        do {
            try command.validate()
            return nil
        } catch {
            return error.message
        }
    }

    @Test func commandDurationsAndIntervals() {
        #expect(Self.message(.down(reject, duration: .seconds(60))) == nil)
        #expect(Self.message(.down(reject, duration: nil)) == nil)
        #expect(Self.message(.down(reject, duration: .seconds(0)))
            == "--duration must be an integer from 1 to 86400 (seconds), got 0")
        #expect(Self.message(.down(reject, duration: .seconds(86_401)))
            == "--duration must be an integer from 1 to 86400 (seconds), got 86401")
        #expect(Self.message(.down(reject, duration: .milliseconds(1500)))
            == "--duration must be a whole number of seconds, got 1.5")
        #expect(Self.message(.down(resetSpec, duration: .seconds(5)))
            == "--duration does not go with --type reset (a reset is one-shot)")

        #expect(Self.message(.flap(reject, interval: .seconds(30), duration: .seconds(300))) == nil)
        #expect(Self.message(.flap(reject, interval: .seconds(30), duration: .seconds(30))) == nil)
        #expect(Self.message(.flap(reject, interval: .seconds(0), duration: .seconds(300)))
            == "--interval must be an integer from 1 to 3600 (seconds), got 0")
        #expect(Self.message(.flap(reject, interval: .seconds(3_601), duration: .seconds(86_400)))
            == "--interval must be an integer from 1 to 3600 (seconds), got 3601")
        #expect(Self.message(.flap(reject, interval: .seconds(30), duration: .seconds(10)))
            == "--duration must be an integer from 30 to 86400 (seconds, at least the --interval), got 10")
        #expect(Self.message(.flap(reject, interval: .seconds(30), duration: .seconds(86_401)))
            == "--duration must be an integer from 30 to 86400 (seconds, at least the --interval), got 86401")
        #expect(Self.message(.flap(resetSpec, interval: .seconds(30), duration: .seconds(300)))
            == "--flap does not go with --type reset (a reset is one-shot)")

        #expect(Self.message(.slow(latencyMs: 2000, jitterMs: nil)) == nil)
        #expect(Self.message(.slow(latencyMs: 0, jitterMs: nil))
            == "--latency must be an integer from 1 to 600000 (milliseconds), got 0")
        #expect(Self.message(.slowOff) == nil)
        #expect(Self.message(.up) == nil)
    }

    @Test func specsRoundTripThroughJSONWithSnakeCaseKeys() throws {
        let spec = FaultSpec.latency(ms: 2000, jitterMs: 100, scope: .replication)
        let json = try String(decoding: JSONEncoder().encode(spec), as: UTF8.self)
        #expect(json.contains("\"latency_ms\":2000"))
        #expect(json.contains("\"jitter_ms\":100"))
        #expect(!json.contains("crash"))
        #expect(try JSONDecoder().decode(FaultSpec.self, from: Data(json.utf8)) == spec)

        let minimal = try JSONDecoder().decode(FaultSpec.self, from: Data(#"{"type":"service","crash":true}"#.utf8))
        #expect(minimal == FaultSpec(type: .service, crash: true))
    }

    @Test func specDescriptions() {
        #expect(reject.description == "reject")
        #expect(FaultSpec(type: .timeout, scope: .replication).description == "timeout (replication)")
        #expect(FaultSpec.latency(ms: 2000, jitterMs: 100).description == "latency 2000±100 ms")
        #expect(FaultSpec(type: .service, crash: true).description == "service (crash)")
        #expect(FaultSpec.bandwidth(bytesPerSecond: 65_536).description == "bandwidth 65536 B/s")
    }
}
