import Foundation
import Infrastructure
import Testing

/// A file in memory that holds at most `capacity` bytes, as a full disk does: a write gets what
/// still fits (a short write), then ENOSPC.
final class FillingFile: LineAppendTarget {
    var bytes: [UInt8]
    var capacity: Int
    var interruptions = 0
    var truncateError: Int32 = 0
    private(set) var writes = 0

    init(_ text: String = "", capacity: Int) {
        bytes = Array(text.utf8)
        self.capacity = capacity
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    func size() -> Int? { bytes.count }

    func write(_ buffer: UnsafeRawBufferPointer) -> (written: Int, error: Int32) {
        writes += 1
        if interruptions > 0 {
            interruptions -= 1
            return (-1, EINTR)
        }
        let room = capacity - bytes.count
        guard room > 0 else { return (-1, ENOSPC) }
        let count = min(room, buffer.count)
        bytes += buffer.prefix(count)
        return (count, 0)
    }

    func truncate(to length: Int) -> Int32 {
        guard truncateError == 0 else { return truncateError }
        bytes = Array(bytes.prefix(length))
        return 0
    }
}

@Suite("WholeLines: a line is appended whole or not at all")
struct WholeLinesTests {
    @Test func aLineThatFitsIsWrittenInOneWrite() throws {
        let file = FillingFile("{\"a\":1}\n", capacity: 100)
        try WholeLines.append(Array("{\"b\":2}\n".utf8), to: file)
        #expect(file.text == "{\"a\":1}\n{\"b\":2}\n")
        #expect(file.writes == 1)
    }

    @Test func aLineThatDoesNotFitLeavesTheFileAsItWas() throws {
        // The kernel writes the part that fits into the last page, then has no room: cut back.
        let file = FillingFile("{\"a\":1}\n", capacity: 12)
        #expect(throws: WholeLines.Failure(error: ENOSPC)) { try WholeLines.append(Array("{\"kind\":\"conn_accepted\"}\n".utf8), to: file) }
        #expect(file.text == "{\"a\":1}\n")
        // The next line is not glued onto a torn one: once there is room, it is whole.
        file.capacity = 100
        try WholeLines.append(Array("{\"at\":2}\n".utf8), to: file)
        #expect(file.text == "{\"a\":1}\n{\"at\":2}\n")
    }

    @Test func aFullFileGetsNothing() {
        let file = FillingFile("x\n", capacity: 2)
        #expect(throws: WholeLines.Failure(error: ENOSPC)) { try WholeLines.append(Array("y\n".utf8), to: file) }
        #expect(file.text == "x\n")
    }

    @Test func anInterruptedWriteIsTriedAgain() throws {
        let file = FillingFile(capacity: 100)
        file.interruptions = 2
        try WholeLines.append(Array("line\n".utf8), to: file)
        #expect(file.text == "line\n")
    }

    @Test func aTornLineThatCannotBeCutBackIsSaidSo() {
        let file = FillingFile(capacity: 3)
        file.truncateError = EIO
        #expect(throws: WholeLines.Failure(error: ENOSPC, tornLineLeft: true)) { try WholeLines.append(Array("line\n".utf8), to: file) }
        #expect(WholeLines.Failure(error: ENOSPC).isDiskFull)
        #expect(WholeLines.Failure(error: ENOSPC).description == "No space left on device")
    }

    @Test func completeLengthEndsAtTheLastNewline() {
        #expect(WholeLines.completeLength(of: Array("a\nb\nc".utf8)) == 4)
        #expect(WholeLines.completeLength(of: Array("a\nb\n".utf8)) == 4)
        #expect(WholeLines.completeLength(of: Array("torn".utf8)) == 0)
        #expect(WholeLines.completeLength(of: [UInt8]()) == 0)
    }

    @Test func aRealFileOnAFullDisk() throws {
        // /dev/full: every write fails with ENOSPC; nothing to cut back.
        let fd = open("/dev/full", O_WRONLY | O_APPEND)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(throws: WholeLines.Failure(error: ENOSPC)) { try AppendOnlyFile(descriptor: fd).append(Array("x\n".utf8)) }
    }

    @Test func aTornLastLineIsCutOffARealFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("whole-lines-\(getpid()).jsonl").path
        defer { unlink(path) }
        try Data("{\"at\":1,\"seq\":1}\n{\"at\":2,\"ki".utf8).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDWR | O_APPEND)
        try #require(fd >= 0)
        let file = AppendOnlyFile(descriptor: fd)
        #expect(file.cutTornLastLine() == Array("{\"at\":2,\"ki".utf8))
        #expect(file.cutTornLastLine() == nil, "a file that ends in a whole line is left alone")
        try file.append(Array("{\"at\":3}\n".utf8))
        close(fd)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"at\":1,\"seq\":1}\n{\"at\":3}\n")
    }
}

@Suite("RestartBackoff: a supervisor that never gives up, nor spins")
struct RestartBackoffTests {
    @Test func quickAtFirstThenDoublingUpToTheLongest() {
        var backoff = RestartBackoff()
        let delays = (0..<12).map { _ in backoff.delay(afterRunning: .milliseconds(10)) }
        #expect(delays.prefix(5).allSatisfy { $0 == .milliseconds(100) }, "\(delays)")
        #expect(Array(delays[5...9]) == [.milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600), .milliseconds(3200)])
        #expect(delays[10] == .seconds(5) && delays[11] == .seconds(5))
    }

    @Test func aChildThatRanAWhileStartsTheCountAfresh() {
        var backoff = RestartBackoff()
        for _ in 0..<20 { _ = backoff.delay(afterRunning: .zero) }
        #expect(backoff.delay(afterRunning: .zero) == .seconds(5))
        #expect(backoff.delay(afterRunning: .seconds(61)) == .milliseconds(100))
        #expect(backoff.consecutive == 1)
    }
}
