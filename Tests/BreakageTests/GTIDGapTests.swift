import Breakage
import Testing

@Suite("replicate gtid-gap: where the gap goes")
struct GTIDGapTests {
    @Test("MariaDB: the last seq_no of our domain, whichever server wrote it")
    func mariaDB() {
        #expect(GTIDGap.mariaDBLastSeqNo(binlogPos: "0-1-42", domain: 0) == 42)
        #expect(GTIDGap.mariaDBLastSeqNo(binlogPos: "0-1-42,1-2-7", domain: 1) == 7)
        #expect(GTIDGap.mariaDBLastSeqNo(binlogPos: "", domain: 0) == 0)
    }

    @Test("MySQL: the highest number of our uuid across intervals")
    func mySQL() {
        let uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
        #expect(GTIDGap.mySQLLastNumber(executed: "\(uuid):1-42:50-60,aaaa:1-9", uuid: uuid) == 60)
        #expect(GTIDGap.mySQLLastNumber(executed: "\(uuid):5", uuid: uuid.uppercased()) == 5)
        #expect(GTIDGap.mySQLLastNumber(executed: "", uuid: uuid) == 0)
    }

    @Test("a gap of K skips exactly K numbers")
    func plan() {
        let plan = GTIDGap.plan(last: 42, gap: 10)
        #expect(plan.first == 53)
        #expect(plan.missing == 43...52)
        #expect(plan.missing.count == 10)
    }
}
