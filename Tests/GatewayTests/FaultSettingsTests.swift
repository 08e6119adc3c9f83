import Testing

@testable import Gateway

@Suite("FaultSettings")
struct FaultSettingsTests {
    @Test func noFaultForwardsEverything() {
        let settings = FaultSettings()
        #expect(settings.action(isReplication: true) == .forward)
        #expect(settings.action(isReplication: false) == .forward)
        #expect(!settings.closesListener)
    }

    @Test(arguments: [
        (ConnectionFault.reject, ConnectionAction.reset),
        (ConnectionFault.timeout, ConnectionAction.hold),
    ])
    func scopesSelectConnections(fault: ConnectionFault, action: ConnectionAction) {
        let all = FaultSettings(connectionFault: fault, scope: .all)
        #expect(all.action(isReplication: true) == action)
        #expect(all.action(isReplication: false) == action)

        let replication = FaultSettings(connectionFault: fault, scope: .replication)
        #expect(replication.action(isReplication: true) == action)
        #expect(replication.action(isReplication: false) == .forward)

        let queries = FaultSettings(connectionFault: fault, scope: .queries)
        #expect(queries.action(isReplication: true) == .forward)
        #expect(queries.action(isReplication: false) == action)
    }

    @Test func onlyAnUnscopedRejectClosesTheListener() {
        #expect(FaultSettings(connectionFault: .reject, scope: .all).closesListener)
        #expect(!FaultSettings(connectionFault: .reject, scope: .replication).closesListener)
        #expect(!FaultSettings(connectionFault: .timeout, scope: .all).closesListener)
    }
}
