import NIOCore

/// What a connection side still has to write to its socket: byte chunks, then possibly the
/// end of the stream, each with the instant it may go. First in, first out, always: an item
/// never leaves before the one ahead of it, whatever its release time.
struct OutboundQueue {
    enum Item: Equatable {
        case bytes(ByteBuffer)
        /// Shut the socket's output (half-close), after every byte ahead of it.
        case endOfStream
        /// Close the socket, after every byte ahead of it.
        case close
    }

    private var entries = CircularBuffer<(item: Item, releaseAt: NIODeadline)>()
    /// Bytes held, for backpressure.
    private(set) var byteCount = 0

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var nextRelease: NIODeadline? { entries.first?.releaseAt }
    var lastRelease: NIODeadline? { entries.last?.releaseAt }

    mutating func append(_ item: Item, releaseAt: NIODeadline) {
        if case .bytes(let buffer) = item { byteCount += buffer.readableBytes }
        entries.append((item, releaseAt))
    }

    /// The first item if it is due at `now`.
    mutating func popDue(now: NIODeadline) -> Item? {
        guard let first = entries.first, first.releaseAt <= now else { return nil }
        entries.removeFirst()
        if case .bytes(let buffer) = first.item { byteCount -= buffer.readableBytes }
        return first.item
    }

    /// Makes everything due no later than `now` (shaping was switched off).
    mutating func releaseAll(now: NIODeadline) {
        for index in entries.indices where entries[index].releaseAt > now {
            entries[index].releaseAt = now
        }
    }

    mutating func removeAll() {
        entries.removeAll()
        byteCount = 0
    }
}
