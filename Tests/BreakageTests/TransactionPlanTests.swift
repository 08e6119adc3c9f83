import Breakage
import Testing

@Suite("transaction: statements that fit max_allowed_packet")
struct TransactionPlanTests {
    @Test("small rows go 1000 to a statement, and the sizes add up")
    func smallRows() throws {
        let plan = try TransactionPlan(rows: 2500, payloadBytes: 64, maxAllowedPacket: 16 << 20)
        #expect(plan.statementSizes == [1000, 1000, 500])
        #expect(plan.largestStatementBytes <= 16 << 20)
    }

    @Test("large rows are split so that every statement fits the packet", arguments: [1 << 20, 4 << 20, 16 << 20, 64 << 20])
    func largeRowsFit(maxPacket: Int) throws {
        let plan = try TransactionPlan(rows: 37, payloadBytes: 100 * 1024, maxAllowedPacket: maxPacket)
        #expect(plan.statementSizes.reduce(0, +) == 37)
        #expect(plan.largestStatementBytes <= maxPacket)
        #expect(plan.rowsPerStatement == min(37, (maxPacket - TransactionPlan.statementOverhead) / (100 * 1024 + TransactionPlan.rowOverhead)))
    }

    @Test("a row that cannot fit one packet is refused before anything is written")
    func rowTooLarge() {
        #expect(throws: TransactionPlan.Problem.rowTooLarge(rowBytes: 2 << 20, maxAllowedPacket: 1 << 20)) {
            try TransactionPlan(rows: 1, payloadBytes: 2 << 20, maxAllowedPacket: 1 << 20)
        }
        // Exactly at the limit still fits, one row per statement.
        let limit = (1 << 20) - TransactionPlan.statementOverhead - TransactionPlan.rowOverhead
        let plan = try? TransactionPlan(rows: 3, payloadBytes: limit, maxAllowedPacket: 1 << 20)
        #expect(plan?.statementSizes == [1, 1, 1])
        #expect(plan?.largestStatementBytes == 1 << 20)
    }

    @Test("no rows, no statements")
    func empty() throws {
        #expect(try TransactionPlan(rows: 0, payloadBytes: 64, maxAllowedPacket: 1 << 20).statementSizes.isEmpty)
    }
}
