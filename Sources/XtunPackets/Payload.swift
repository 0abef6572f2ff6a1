/// Payloads that say which datagram they are, so a check can tell order and
/// loss from what it reads: "xtun-<index>-" followed by 0, 1, 2, ...
public enum NumberedPayload {
    static let prefix = "xtun-"

    /// `length` bytes naming `index`.
    public static func make(index: Int, length: Int) -> [UInt8] {
        var bytes = Array("\(prefix)\(index)-".utf8)
        var next: UInt8 = 0
        while bytes.count < length {
            bytes.append(next)
            next &+= 1
        }
        return Array(bytes.prefix(length))
    }

    /// The index a payload made by `make` names, if it is one.
    public static func index<C: Collection>(of payload: C) -> Int? where C.Element == UInt8 {
        let text = String(decoding: payload.prefix(24), as: UTF8.self)
        guard text.hasPrefix(prefix) else { return nil }
        return text.dropFirst(prefix.count).split(separator: "-", maxSplits: 1).first.flatMap { Int($0) }
    }
}

/// A small, seeded random generator (SplitMix64): the same seed gives the
/// same bytes on every run and every machine, so a random table row that
/// fails fails again.
public struct SeededRandom: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}
