import Foundation

/// A file of lines that is only ever appended to, as the system calls it needs: its size, one
/// `write`, and a truncation. The real one is `AppendOnlyFile`; tests give a fake that fills up.
public protocol LineAppendTarget {
    /// The file's size in bytes now (where an append starts: the file is opened with `O_APPEND`).
    func size() -> Int?
    /// One `write(2)` of `bytes`: the number written, or -1 with the error.
    func write(_ bytes: UnsafeRawBufferPointer) -> (written: Int, error: Int32)
    /// Cuts the file back to `length` bytes (a truncation needs no free space).
    func truncate(to length: Int) -> Int32
}

/// Whole lines or nothing: a line is written with as few `write`s as the kernel allows (one, unless
/// it writes less than asked), and if the rest cannot be written (a full disk) the file is cut back
/// to where the line began, so that no torn line is left for the next one to be glued onto.
public enum WholeLines {
    /// Why a line was not written: the error (`ENOSPC` for a full disk) and whether cutting the
    /// file back failed too (then a torn line is left, and the reader finds it).
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public var error: Int32
        public var tornLineLeft: Bool

        public init(error: Int32, tornLineLeft: Bool = false) {
            self.error = error
            self.tornLineLeft = tornLineLeft
        }

        public var isDiskFull: Bool { error == ENOSPC || error == EDQUOT }

        public var description: String {
            String(cString: strerror(error)) + (tornLineLeft ? " (and the part written could not be cut back)" : "")
        }
    }

    /// Appends `line` (which ends in "\n") whole, or leaves the file as it was.
    public static func append<Target: LineAppendTarget>(_ line: [UInt8], to target: Target) throws(Failure) {
        guard !line.isEmpty else { return }
        let start = target.size()
        var done = 0
        var failure: Int32 = 0
        line.withUnsafeBytes { raw in
            while done < raw.count {
                let (written, error) = target.write(UnsafeRawBufferPointer(rebasing: raw[done...]))
                if written > 0 {
                    done += written
                } else if written < 0 && error == EINTR {
                    continue
                } else {
                    // 0 bytes written for a non-empty buffer: nothing fits.
                    failure = written < 0 ? error : ENOSPC
                    return
                }
            }
        }
        guard failure != 0 else { return }
        guard done > 0 else { throw Failure(error: failure) }
        guard let start, target.truncate(to: start) == 0 else { throw Failure(error: failure, tornLineLeft: true) }
        throw Failure(error: failure)
    }

    /// The length of `data` up to and including its last "\n": what is left of a file whose last
    /// line was cut short once that line is cut off.
    public static func completeLength<Bytes: BidirectionalCollection>(of data: Bytes) -> Int where Bytes.Element == UInt8 {
        guard let last = data.lastIndex(of: UInt8(ascii: "\n")) else { return 0 }
        return data.distance(from: data.startIndex, to: last) + 1
    }
}

/// A regular file opened with `O_RDWR | O_APPEND` (reading only to find a torn last line), written in
/// whole lines (`WholeLines`). The descriptor is the caller's: `AppendOnlyFile` only borrows it.
public struct AppendOnlyFile: LineAppendTarget {
    public let descriptor: Int32

    public init(descriptor: Int32) { self.descriptor = descriptor }

    public func size() -> Int? {
        var info = stat()
        return fstat(descriptor, &info) == 0 ? Int(info.st_size) : nil
    }

    public func write(_ bytes: UnsafeRawBufferPointer) -> (written: Int, error: Int32) {
        let written = Glibc.write(descriptor, bytes.baseAddress, bytes.count)
        return (written, written < 0 ? errno : 0)
    }

    public func truncate(to length: Int) -> Int32 {
        ftruncate(descriptor, off_t(length)) == 0 ? 0 : errno
    }

    /// Appends `line` whole or not at all.
    public func append(_ line: [UInt8]) throws(WholeLines.Failure) {
        try WholeLines.append(line, to: self)
    }

    /// Cuts a last line without its "\n" off the file (a write cut short); returns the bytes cut
    /// off (their first `keepBytes` at most), or nil when the file ends in a whole line, is empty,
    /// or cannot be read or cut.
    public func cutTornLastLine(keepBytes: Int = 4096) -> [UInt8]? {
        guard let size = size(), size > 0 else { return nil }
        var last: UInt8 = 0
        guard pread(descriptor, &last, 1, off_t(size - 1)) == 1, last != UInt8(ascii: "\n") else { return nil }
        // Back from the end, a chunk at a time, to the last "\n".
        let chunkSize = 64 << 10
        var end = size
        var lineStart = 0
        search: while end > 0 {
            let length = min(chunkSize, end)
            var chunk = [UInt8](repeating: 0, count: length)
            let read = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, length, off_t(end - length)) }
            guard read == length else { return nil }
            if let newline = chunk.lastIndex(of: UInt8(ascii: "\n")) {
                lineStart = end - length + newline + 1
                break search
            }
            end -= length
        }
        let length = min(keepBytes, size - lineStart)
        var torn = [UInt8](repeating: 0, count: length)
        guard torn.withUnsafeMutableBytes({ pread(descriptor, $0.baseAddress, length, off_t(lineStart)) }) == length,
              truncate(to: lineStart) == 0 else { return nil }
        return torn
    }
}
