import MySQLProtocol
import Testing

@Suite("Binlog stream")
struct BinlogStreamTests {
    static let sourceUUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

    /// Only the binlog events among the observations.
    static func events(_ observations: [ProtocolObservation]) -> [BinlogEventSummary] {
        observations.compactMap { if case .binlogEvent(let event) = $0 { event } else { nil } }
    }

    @Test("table maps name the tables of the row events that follow, in every row event version", arguments: [true, false])
    func tableMapsAndRowEvents(checksum: Bool) throws {
        var writer = BinlogWriter(checksum: checksum)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
        var sequence: UInt8 = 1
        func send(_ event: [UInt8]) {
            conversation.server(BinlogWriter.packet(sequence, event))
            sequence &+= 1
        }
        send(writer.fakeRotate(file: "binlog.000001", position: 4))
        send(writer.formatDescription())
        send(writer.query("BEGIN"))
        send(writer.tableMap(id: 0x0102_0304_0506, schema: "testdb", table: "users"))
        for type: UInt8 in [23, 31, 170] { send(writer.rows(type: type, tableID: 0x0102_0304_0506)) }
        send(writer.tableMap(id: 7, schema: "shop", table: String(repeating: "t", count: 64)))
        send(writer.rows(type: 32, tableID: 7))
        send(writer.xid(1))

        let events = Self.events(observeAllWays(conversation).observations)
        #expect(events.compactMap(\.tableMap) == [
            BinlogTableMap(tableID: 0x0102_0304_0506, schema: "testdb", table: "users"),
            BinlogTableMap(tableID: 7, schema: "shop", table: String(repeating: "t", count: 64)),
        ])
        #expect(events.filter(\.isRowEvent).compactMap(\.rowsTableID) == [0x0102_0304_0506, 0x0102_0304_0506, 0x0102_0304_0506, 7])
        #expect(events.filter { !$0.isRowEvent }.allSatisfy { $0.rowsTableID == nil })
    }

    @Test("MySQL stream: fake rotate, FDE with CRC32, GTIDs, heartbeat, rotate to a new file, ERR 1236")
    func mysqlStream() throws {
        var writer = BinlogWriter(checksum: true)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query("SET @master_binlog_checksum= @@global.binlog_checksum"))
        conversation.server(Wire.ok(1))
        conversation.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
        var sequence: UInt8 = 1
        func send(_ event: [UInt8]) {
            conversation.server(BinlogWriter.packet(sequence, event))
            sequence &+= 1
        }
        send(writer.fakeRotate(file: "binlog.000001", position: 4))
        send(writer.formatDescription())
        let afterFDE = writer.position
        send(writer.next(type: 35, body: Wire.le64(0)))  // PREVIOUS_GTIDS
        send(writer.mysqlGTID(uuid: Self.sourceUUID, gno: 7))
        send(writer.query("BEGIN"))
        send(writer.next(type: 19, body: Array(repeating: 1, count: 30)))  // TABLE_MAP
        send(writer.writeRows(bodySize: 200))
        send(writer.xid(99))
        let endOfFirstTransaction = writer.position
        send(writer.heartbeat(file: "binlog.000001"))
        send(writer.rotate(to: "binlog.000002"))
        writer.position = 4
        send(writer.formatDescription())
        send(writer.mysqlGTID(uuid: Self.sourceUUID, gno: 8))
        send(writer.query("BEGIN"))
        send(writer.xid(100))
        let endOfSecondTransaction = writer.position
        conversation.server(
            Wire.err(sequence, code: 1236, message: "Could not find first log file name in binary log index file"))

        let result = observeAllWays(conversation)
        let events = Self.events(result.observations)
        #expect(events.count == 14)
        let fakeRotate = try #require(events.first)
        #expect(fakeRotate.isArtificial)
        #expect(fakeRotate.rotate == BinlogRotation(file: "binlog.000001", position: 4))
        #expect(events[1].type == 15 && events[1].logPos == afterFDE && !events[1].isArtificial)
        #expect(events[3].gtid == "\(Self.sourceUUID):7")
        #expect(events[8].isHeartbeat)
        #expect(events[9].rotate == BinlogRotation(file: "binlog.000002", position: 4))
        #expect(!events[9].isArtificial)
        #expect(events[9].typeName == "ROTATE_EVENT")
        #expect(events[11].gtid == "\(Self.sourceUUID):8")
        #expect(events[8].logPos == endOfFirstTransaction)
        #expect(
            result.observations.last
                == .serverError(code: 1236, message: "Could not find first log file name in binary log index file"))
        #expect(
            result.lastForwarded
                == BinlogCoordinates(file: "binlog.000002", position: UInt64(endOfSecondTransaction), gtid: "\(Self.sourceUUID):8"))
        #expect(result.isReplication)
        #expect(result.observable)
    }

    @Test("a position inside a transaction names it; its GTID counts once its end was sent (MariaDB)")
    func mariaDBTransactionBoundaries() throws {
        var writer = BinlogWriter(checksum: true)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query("SET @slave_connect_state='0-1-11'"))
        conversation.server(Wire.ok(1))
        conversation.client(Wire.binlogDump(file: "", position: 4, serverID: 2))
        var packets = [writer.fakeRotate(file: "mariadb-bin.000001", position: 4), writer.formatDescription()]
        // A DDL: a standalone GTID event and its one statement.
        packets.append(writer.next(type: 162, body: Wire.le64(11) + Wire.le32(0) + [0x01]))
        packets.append(writer.query("CREATE TABLE t (id INT)"))
        let afterDDL = writer.position
        let startOfT = writer.position
        packets.append(writer.mariaDBGTID(sequence: 12, domain: 0))
        packets.append(writer.query("BEGIN"))  // MariaDB writes none, but one must not end it
        packets.append(writer.tableMap(id: 7, schema: "testdb", table: "users"))
        packets.append(writer.rows(type: 30, tableID: 7))
        packets.append(writer.rows(type: 30, tableID: 7))
        let inside = writer.position
        packets.append(writer.xid(5))
        let afterT = writer.position

        func lastForwarded(after count: Int) -> BinlogCoordinates? {
            var partial = conversation
            for (index, packet) in packets.prefix(count).enumerated() {
                partial.server(BinlogWriter.packet(UInt8(index + 1), packet))
            }
            return observeAllWays(partial).lastForwarded
        }
        #expect(lastForwarded(after: 3)?.openTransaction?.gtid == "0-1-11")
        #expect(lastForwarded(after: 4) == BinlogCoordinates(file: "mariadb-bin.000001", position: UInt64(afterDDL), gtid: "0-1-11"))
        let open = OpenTransaction(gtid: "0-1-12", file: "mariadb-bin.000001", start: UInt64(startOfT), rowEvents: 2)
        #expect(lastForwarded(after: 9) == BinlogCoordinates(file: "mariadb-bin.000001", position: UInt64(inside), gtid: "0-1-11",
                                                              openTransaction: open))
        #expect(lastForwarded(after: 10) == BinlogCoordinates(file: "mariadb-bin.000001", position: UInt64(afterT), gtid: "0-1-12"))
    }

    @Test("MySQL transactions: BEGIN … XID, a DDL is its own transaction, XA START … XA PREPARE", arguments: [true, false])
    func mysqlTransactionBoundaries(checksum: Bool) {
        var writer = BinlogWriter(checksum: checksum)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
        var packets = [writer.fakeRotate(file: "binlog.000001", position: 4), writer.formatDescription()]
        packets.append(writer.mysqlGTID(uuid: Self.sourceUUID, gno: 1))
        packets.append(writer.query("ALTER TABLE t ADD c INT"))
        packets.append(writer.mysqlGTID(uuid: Self.sourceUUID, gno: 2))
        packets.append(writer.query("begin"))
        packets.append(writer.rows(type: 30, tableID: 7))
        packets.append(writer.query("COMMIT"))  // a non-transactional table's commit
        packets.append(writer.mysqlGTID(uuid: Self.sourceUUID, gno: 3))
        packets.append(writer.query("XA START 'x'"))
        packets.append(writer.rows(type: 30, tableID: 7))
        packets.append(writer.query("XA END 'x'"))
        packets.append(writer.next(type: 38, body: Array(repeating: 0, count: 12)))  // XA_PREPARE

        func state(after count: Int) -> (String?, String?, Int?) {
            var partial = conversation
            for (index, packet) in packets.prefix(count).enumerated() {
                partial.server(BinlogWriter.packet(UInt8(index + 1), packet))
            }
            let last = observeAllWays(partial).lastForwarded
            return (last?.gtid, last?.openTransaction?.gtid, last?.openTransaction?.rowEvents)
        }
        let uuid = Self.sourceUUID
        #expect(state(after: 3) == (nil, "\(uuid):1", 0))
        #expect(state(after: 4) == ("\(uuid):1", nil, nil))
        #expect(state(after: 7) == ("\(uuid):1", "\(uuid):2", 1))
        #expect(state(after: 8) == ("\(uuid):2", nil, nil))
        #expect(state(after: 12) == ("\(uuid):2", "\(uuid):3", 1))
        #expect(state(after: 13) == ("\(uuid):3", nil, nil))
    }

    @Test("lastForwarded follows each event; heartbeats and artificial events don't move it")
    func positionTracking() {
        var writer = BinlogWriter(checksum: false)
        var base = Conversation.loggedIn()
        base.client(Wire.binlogDump(file: "binlog.000003", position: 500, serverID: 2))
        var packets: [[UInt8]] = []
        packets.append(writer.fakeRotate(file: "binlog.000003", position: 500))
        // A source starting mid-file sends the FDE with log_pos 0 so the replica ignores it.
        var fde = writer.formatDescription()
        fde.replaceSubrange(13..<17, with: Wire.le32(0))
        packets.append(fde)
        writer.position = 500
        packets.append(writer.query("BEGIN"))
        let afterBegin = writer.position
        packets.append(writer.heartbeat(file: "binlog.000003"))
        packets.append(BinlogWriter.event(type: 163, timestamp: 0, serverID: 1, logPos: 0, flags: 0x20, body: Wire.le32(0), checksum: false))

        let expected: [BinlogCoordinates?] = [
            BinlogCoordinates(file: "binlog.000003", position: 500),
            BinlogCoordinates(file: "binlog.000003", position: 500),
            BinlogCoordinates(file: "binlog.000003", position: UInt64(afterBegin)),
            BinlogCoordinates(file: "binlog.000003", position: UInt64(afterBegin)),
            BinlogCoordinates(file: "binlog.000003", position: UInt64(afterBegin)),
        ]
        for count in 1...packets.count {
            var conversation = base
            for (index, packet) in packets.prefix(count).enumerated() {
                conversation.server(BinlogWriter.packet(UInt8(index + 1), packet))
            }
            let result = observeAllWays(conversation)
            #expect(result.lastForwarded == expected[count - 1], "after \(count) events")
        }
    }

    @Test("MariaDB stream: slave_connect_state, GTID events, checkpoint, heartbeat, EOF, then commands again")
    func mariaDBStream() {
        var writer = BinlogWriter(checksum: true)
        writer.serverID = 1
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query("SET @mariadb_slave_capability=4"))
        conversation.server(Wire.ok(1))
        conversation.client(Wire.query("SET @slave_connect_state='0-1-5'"))
        conversation.server(Wire.ok(1))
        conversation.client(Wire.binlogDump(file: "", position: 4, serverID: 2, flags: 1))
        var sequence: UInt8 = 1
        func send(_ event: [UInt8]) {
            conversation.server(BinlogWriter.packet(sequence, event))
            sequence &+= 1
        }
        send(writer.fakeRotate(file: "mariadb-bin.000001", position: 4))
        send(writer.formatDescription())
        send(BinlogWriter.event(type: 163, timestamp: 0, serverID: 1, logPos: 0, flags: 0x20, body: Wire.le32(0), checksum: true))
        send(writer.next(type: 161, body: Wire.le32(18) + Array("mariadb-bin.000001".utf8)))  // BINLOG_CHECKPOINT
        send(writer.mariaDBGTID(sequence: 6, domain: 0))
        send(writer.query("INSERT INTO t VALUES (1)"))
        send(writer.xid(12))
        let end = writer.position
        send(writer.heartbeat(file: "mariadb-bin.000001"))
        conversation.server(Wire.eof(sequence))
        conversation.client(Wire.query("SELECT 1"))

        let result = observeAllWays(conversation)
        let events = Self.events(result.observations)
        #expect(events.count == 8)
        #expect(events[4].gtid == "0-1-6")
        #expect(events[4].typeName == "GTID_EVENT")
        #expect(events[2].isArtificial)
        #expect(events[7].isHeartbeat)
        #expect(result.observations.contains(.slaveConnectState("0-1-5")))
        #expect(result.observations.contains(.binlogDump(file: "", position: 4, serverID: 2)))
        #expect(result.observations.last == .query("SELECT 1"))
        #expect(result.lastForwarded == BinlogCoordinates(file: "mariadb-bin.000001", position: UInt64(end), gtid: "0-1-6"))
    }

    @Test("anonymous GTID events clear the GTID")
    func anonymousGTID() {
        var writer = BinlogWriter(checksum: false)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
        var packets = [writer.fakeRotate(file: "binlog.000001", position: 4), writer.formatDescription()]
        packets.append(writer.mysqlGTID(uuid: Self.sourceUUID, gno: 1))
        packets.append(writer.xid(1))
        packets.append(writer.next(type: 34, body: [0x01] + Array(repeating: 0, count: 24)))
        packets.append(writer.xid(2))
        for (index, packet) in packets.enumerated() {
            conversation.server(BinlogWriter.packet(UInt8(index + 1), packet))
        }
        let result = observeAllWays(conversation)
        #expect(Self.events(result.observations)[4].gtid == nil)
        #expect(result.lastForwarded == BinlogCoordinates(file: "binlog.000001", position: UInt64(writer.position), gtid: nil))
    }

    @Test("semi-sync replication: 0xEF headers on events, acknowledgements from the replica")
    func semiSync() {
        var writer = BinlogWriter(checksum: true)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query("SET @rpl_semi_sync_replica = 1"))
        conversation.server(Wire.ok(1))
        conversation.client(Wire.binlogDump(file: "binlog.000009", position: 4, serverID: 2))
        conversation.server(BinlogWriter.packet(1, writer.fakeRotate(file: "binlog.000009", position: 4), semiSync: 0))
        conversation.server(BinlogWriter.packet(2, writer.formatDescription(), semiSync: 0))
        conversation.server(BinlogWriter.packet(3, writer.mysqlGTID(uuid: Self.sourceUUID, gno: 3), semiSync: 0))
        conversation.server(BinlogWriter.packet(4, writer.xid(5), semiSync: 1))
        conversation.client(Wire.packet(0, [0xEF] + Wire.le64(UInt64(writer.position)) + Array("binlog.000009".utf8)))
        let result = observeAllWays(conversation)
        #expect(Self.events(result.observations).count == 4)
        #expect(
            result.lastForwarded
                == BinlogCoordinates(file: "binlog.000009", position: UInt64(writer.position), gtid: "\(Self.sourceUUID):3"))
        #expect(result.observable)
    }

    @Test("semi-sync requested but not enabled on the source: plain packets")
    func semiSyncRequestedOnly() {
        var writer = BinlogWriter(checksum: false)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.query("SET @rpl_semi_sync_slave= 1"))
        conversation.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
        conversation.server(BinlogWriter.packet(1, writer.fakeRotate(file: "binlog.000001", position: 4)))
        conversation.server(BinlogWriter.packet(2, writer.formatDescription()))
        conversation.server(BinlogWriter.packet(3, writer.xid(5)))
        let result = observeAllWays(conversation)
        #expect(Self.events(result.observations).count == 3)
        #expect(result.lastForwarded == BinlogCoordinates(file: "binlog.000001", position: UInt64(writer.position)))
    }

    @Test("an event larger than 16 MiB spans packets; an exact 0xFFFFFF payload ends with an empty packet", .tags(.slow))
    func hugeEvents() {
        var writer = BinlogWriter(checksum: false)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
        conversation.server(BinlogWriter.packet(1, writer.fakeRotate(file: "binlog.000001", position: 4)))
        conversation.server(BinlogWriter.packet(2, writer.formatDescription()))
        let big = writer.writeRows(bodySize: 0xFF_FFFF + 1000)
        let afterBig = writer.position
        conversation.server(BinlogWriter.packet(3, big))  // two physical packets
        // 1 + 19 + body == 0xFFFFFF: one full packet and an empty one.
        let exact = writer.writeRows(bodySize: 0xFF_FFFF - 20)
        let afterExact = writer.position
        let exactPacket = BinlogWriter.packet(5, exact)
        #expect(exactPacket.count == 4 + 0xFF_FFFF + 4)
        conversation.server(exactPacket)
        conversation.server(BinlogWriter.packet(7, writer.xid(1)))
        let result = observeAllWays(conversation)
        let events = Self.events(result.observations)
        #expect(events.count == 5)
        #expect(events[2].eventSize == UInt32(big.count) && events[2].logPos == afterBig)
        #expect(events[3].eventSize == UInt32(exact.count) && events[3].logPos == afterExact)
        #expect(result.lastForwarded == BinlogCoordinates(file: "binlog.000001", position: UInt64(writer.position)))
    }

    @Test("a rotate without a preceding FDE and without checksum")
    func rotateWithoutChecksum() {
        let writer = BinlogWriter(checksum: false)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
        conversation.server(BinlogWriter.packet(1, writer.fakeRotate(file: "binlog.000001", position: 4)))
        let result = observeAllWays(conversation)
        #expect(result.lastForwarded == BinlogCoordinates(file: "binlog.000001", position: 4))
    }

    @Test("a mismatched event size is malformed and stops observation")
    func sizeMismatch() {
        var writer = BinlogWriter(checksum: false)
        var conversation = Conversation.loggedIn()
        conversation.client(Wire.binlogDump(file: "binlog.000001", position: 4, serverID: 2))
        var event = writer.xid(1)
        event.replaceSubrange(9..<13, with: Wire.le32(999))
        conversation.server(BinlogWriter.packet(1, event))
        conversation.server(BinlogWriter.packet(2, writer.xid(2)))
        let result = observeAllWays(conversation)
        #expect(result.observations.last.map(isMalformed) == true)
        #expect(Self.events(result.observations).isEmpty)
        #expect(!result.observable)
    }
}
