import Measurements
import Testing

@Suite("GTIDSet and binlog positions")
struct GTIDSetTests {
    let uuidA = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    let uuidB = "8a94f357-aab4-11df-86ab-c80aa9429562"

    func set(_ text: String) throws -> GTIDSet { try GTIDSet(parsing: text) }

    @Test func parsesAndNormalizesMySQLSets() throws {
        let parsed = try set("\(uuidB.uppercased()):5-7:1-3, \n\(uuidA):1-5:6:10-12")
        #expect(parsed.flavor == .mysql)
        #expect(parsed.description == "\(uuidA):1-6:10-12,\(uuidB):1-3:5-7")
        #expect(parsed.count == 15)
    }

    @Test func parsesMySQL84Tags() throws {
        let parsed = try set("\(uuidA):1-3:etl:1-2:4,\(uuidA):Etl:3")
        #expect(parsed.description == "\(uuidA):1-3:etl:1-4")
        #expect(try set("\(uuidA):1-3").compare(to: parsed) == .behind)
    }

    @Test func comparesMySQLSetsByInclusion() throws {
        let forwarded = try set("\(uuidA):1-10,\(uuidB):1-3")
        #expect(try set("\(uuidB):1-3,\(uuidA):1-10").compare(to: forwarded) == .same)
        #expect(try set("\(uuidA):1-8,\(uuidB):1-3").compare(to: forwarded) == .behind)
        #expect(try set("\(uuidA):1-12,\(uuidB):1-3").compare(to: forwarded) == .ahead)
        #expect(try set("\(uuidA):1-12,\(uuidB):1-2").compare(to: forwarded) == .diverged)
        #expect(try set("\(uuidA):1-10").compare(to: forwarded) == .behind)
        #expect(try set("\(uuidA):1-10,\(uuidB):1-3").subtracting(set("\(uuidA):1-4:6")).description
            == "\(uuidA):5:7-10,\(uuidB):1-3")
    }

    @Test func parsesAndComparesMariaDBLists() throws {
        let forwarded = try set("0-1-100,1-2-50")
        #expect(forwarded.flavor == .mariadb)
        #expect(forwarded.mariaDBGTIDs == [
            MariaDBGTID(domain: 0, serverID: 1, sequence: 100), MariaDBGTID(domain: 1, serverID: 2, sequence: 50),
        ])
        #expect(try set("1-2-50, 0-1-100").compare(to: forwarded) == .same)
        #expect(try set("0-1-95,1-2-50").compare(to: forwarded) == .behind)
        #expect(try set("0-1-101,1-2-50").compare(to: forwarded) == .ahead)
        #expect(try set("0-1-99,1-2-51").compare(to: forwarded) == .diverged)
        #expect(try set("0-1-100").compare(to: forwarded) == .behind)
        #expect(try set("0-3-100,1-2-50").compare(to: forwarded) == .diverged)
    }

    @Test func emptyAndMixedFlavors() throws {
        let empty = try set("  ")
        #expect(empty.isEmpty && empty.flavor == nil)
        #expect(empty.compare(to: try set("0-1-1")) == .behind)
        #expect(try set("\(uuidA):1").compare(to: empty) == .ahead)
        #expect(try set("0-1-5").compare(to: set("\(uuidA):1-5")) == .incomparable)
    }

    @Test(arguments: [
        "0-1", "0-1-x", "0-1-5,0-2-6", "not-a-uuid:1-5", "3e11fa47-71ca-11e1-9e33-c80aa9429562",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:5-3", "3e11fa47-71ca-11e1-9e33-c80aa9429562:0",
        "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag", "0-1-5,3e11fa47-71ca-11e1-9e33-c80aa9429562:1",
    ])
    func rejectsMalformedSets(_ text: String) {
        #expect(throws: GTIDParseError.self) { try GTIDSet(parsing: text) }
    }

    @Test func comparesBinlogFilesByNumericSuffixThenPosition() {
        func position(_ file: String, _ offset: UInt64) -> BinlogFilePosition {
            BinlogFilePosition(file: file, position: offset)
        }
        let forwarded = position("mysql-bin.000012", 1234)
        #expect(position("mysql-bin.000012", 1234).compare(to: forwarded) == .same)
        #expect(position("mysql-bin.000012", 4).compare(to: forwarded) == .behind)
        #expect(position("mysql-bin.000013", 4).compare(to: forwarded) == .ahead)
        #expect(position("mysql-bin.000011", 999_999).compare(to: forwarded) == .behind)
        #expect(position("mysql-bin.1000000", 4).compare(to: position("mysql-bin.999999", 9)) == .ahead)
        #expect(position("mariadb-bin.000013", 4).compare(to: forwarded) == .incomparable)
        #expect(position("binlog", 10).compare(to: position("binlog", 20)) == .behind)
    }
}
