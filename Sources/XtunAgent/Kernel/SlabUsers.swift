/// Who allocated the live slab objects: SLUB's user tracking
/// (`slub_debug=U` on the kernel command line, SLUB_DEBUG built in) lists,
/// per cache, each allocation stack and how many of its objects are still
/// allocated, in `/sys/kernel/debug/slab/<cache>/alloc_traces`.
struct SlabUsers {
    /// Live objects that share one allocation stack.
    struct Record: Equatable {
        let cache: String
        let count: Int
        /// The function that called the allocator, e.g. `alloc_netdev_mqs`.
        let site: String
        /// The stack, innermost first, as the kernel printed it.
        let frames: [String]

        /// A node of an IDR's radix tree: the IDR frees it when the last id
        /// in its range goes, whoever's call allocated it (idr_get_free(),
        /// lib/radix-tree.c), so a node added for a device's sysfs directory
        /// stays while other kernfs nodes use its range.
        var isIDRNode: Bool {
            site.hasPrefix("radix_tree_node_alloc") && frames.contains { $0.hasPrefix("idr_get_free+") }
        }

        /// A frame the kernel printed as a bare address: code it has no
        /// symbol for any more, which after an rmmod is the unloaded module's.
        var hasUnloadedModuleFrame: Bool { frames.contains(where: SlabUsers.isBareAddress) }
    }

    static let directory = "/sys/kernel/debug/slab"

    let records: [Record]

    /// The live allocations the leak checks look at, from every cache: those
    /// with a stack through unloaded code, and the skbs; nil when the kernel
    /// does not track them. (The rest, tens of thousands of stack lines on an
    /// idle guest, is skipped unparsed: reading it all cost a second under TCG.)
    static func read(directory: String = SlabUsers.directory) -> SlabUsers? {
        guard let caches = Sys.list(directory), !caches.isEmpty else { return nil }
        var records: [Record] = []
        var tracked = false
        for cache in caches.sorted() {
            guard let text = Sys.read("\(directory)/\(cache)/alloc_traces") else { continue }
            if !text.isEmpty { tracked = true }
            records += parse(text, cache: cache, all: skbCaches.contains(cache))
        }
        return tracked ? SlabUsers(records: records) : nil
    }

    /// Parses one `alloc_traces` file:
    ///
    ///           1 alloc_netdev_mqs+0x5f/0x430 waste=1629/1629 age=2412 pid=93 cpus=1
    ///             __kmalloc_node+0x4c/0x150
    ///             xtun_net_create+0x37/0x80 [xtun]
    ///
    /// With `all` false, only the records with a frame in unloaded code.
    static func parse(_ text: String, cache: String, all: Bool = true) -> [Record] {
        var records: [Record] = []
        var current: (count: Int, header: Substring.UTF8View, frames: [Substring.UTF8View], unloaded: Bool)?
        func flush() {
            if let current, all || current.unloaded {
                let site = current.header.prefix { $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: " ") }
                records.append(Record(cache: cache, count: current.count, site: String(Substring(site)),
                                      frames: current.frames.map { String(Substring($0)) }))
            }
            current = nil
        }
        for raw in text.utf8.split(separator: UInt8(ascii: "\n")) {
            let line = raw.drop { $0 == UInt8(ascii: " ") }
            guard let first = line.first else { continue }
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
               let space = line.firstIndex(of: UInt8(ascii: " ")),
               let count = Int(Substring(line[..<space])) {
                flush()
                current = (count, line[line.index(after: space)...], [], false)
            } else if current != nil {
                current?.frames.append(line)
                if line.starts(with: SlabUsers.bareAddressPrefix) { current?.unloaded = true }
            }
        }
        flush()
        return records
    }

    /// Frees what the kernel holds back before it counts as free: the
    /// dcache's unused dentries (which pin sysfs nodes), and, on a KASAN
    /// kernel, each cache's quarantine of freed objects, which SLUB still
    /// counts as allocated: a write to a cache's `shrink` calls
    /// kmem_cache_shrink(), and that kasan_cache_shrink() (mm/slab_common.c).
    static func releaseHeldBack() {
        try? Sys.write("2", to: "/proc/sys/vm/drop_caches")
        for cache in Sys.list("/sys/kernel/slab") ?? [] {
            try? Sys.write("1", to: "/sys/kernel/slab/\(cache)/shrink")
        }
    }

    /// The live allocations once what is only late to be freed has gone:
    /// frees deferred to RCU and workqueues can take seconds under emulation,
    /// a leak stays. Waits up to `seconds` for `isSettled`; the last reading.
    static func settled(seconds: Double = 30, isSettled: (SlabUsers) -> Bool) -> SlabUsers? {
        var now: SlabUsers?
        _ = Sys.wait(seconds: seconds, every: 500) {
            releaseHeldBack()
            now = read()
            return now.map(isSettled) ?? false
        }
        return now
    }

    /// Objects from unloaded code that are live now and were not in `baseline`
    /// (a record's count beyond the same stack's count there).
    func fromUnloadedModules(beyond baseline: SlabUsers) -> [Record] {
        fromUnloadedModules.compactMap { record in
            let before = baseline.records.first { $0.cache == record.cache && $0.frames == record.frames }?.count ?? 0
            guard record.count > before else { return nil }
            return Record(cache: record.cache, count: record.count - before, site: record.site, frames: record.frames)
        }
    }

    /// Live skbs beyond `baseline`, by allocation stack, the most first: where
    /// the extra skbs a leak check counts were allocated.
    func skbs(beyond baseline: SlabUsers) -> [Record] {
        skbRecords.compactMap { record in
            let before = baseline.records.first { $0.cache == record.cache && $0.frames == record.frames }?.count ?? 0
            guard record.count > before else { return nil }
            return Record(cache: record.cache, count: record.count - before, site: record.site, frames: record.frames)
        }.sorted { $0.count > $1.count }
    }

    static func isBareAddress(_ frame: String) -> Bool {
        frame.utf8.starts(with: bareAddressPrefix) && frame.dropFirst(2).allSatisfy(\.isHexDigit)
    }

    /// How the kernel prints a kernel-text address it has no symbol for.
    static let bareAddressPrefix = Array("0xffffffff".utf8)

    /// Where `struct sk_buff` objects live (`skbHeads`).
    static let skbCaches: Set<String> = ["skbuff_head_cache", "skbuff_fclone_cache"]

    /// Live skbs: the `struct sk_buff` objects, in `skbuff_head_cache` (and
    /// `skbuff_fclone_cache`, TCP's). Not `skbuff_small_head`, where 6.12
    /// (not 6.1) takes a small skb's data from: two objects per skb there.
    var skbHeads: Int {
        skbRecords.reduce(0) { $0 + $1.count }
    }

    /// Callers of skb allocations that are not the driver's: netpoll's
    /// reserve (below), and the skbs NapiSkbCache's own writes leave in the
    /// caches it empties.
    static let notCounted = ["refill_skbs+", "napi_get_frags+"]

    /// The skb records, without netpoll's reserve: in 6.1, netpoll_setup()
    /// fills one pool of 32 skbs that the kernel keeps for every netconsole
    /// to come (`skb_pool` and refill_skbs(), net/core/netpoll.c:49 and
    /// 244-257), so after the netconsole check 32 more skbs stay live. (6.12
    /// keeps a pool per netpoll, netpoll.c:234-250, freed with it.)
    private var skbRecords: [Record] {
        records.filter { record in
            SlabUsers.skbCaches.contains(record.cache)
                && !record.frames.contains { frame in SlabUsers.notCounted.contains { frame.hasPrefix($0) } }
        }
    }

    /// Allocation sites whose objects the kernel keeps on purpose after the
    /// call that allocated them: idr_preload() stocks each CPU with radix-tree
    /// nodes for later insertions, whoever's call made it (lib/radix-tree.c:320-352
    /// in 6.1), so a node preloaded during insmod can outlive the module.
    static let keptByTheKernel: Set<String> = ["__radix_tree_preload"]

    /// Live objects allocated from code that is no longer loaded.
    var fromUnloadedModules: [Record] {
        records.filter { $0.hasUnloadedModuleFrame && !SlabUsers.keptByTheKernel.contains($0.site) && !$0.isIDRNode }
    }

    /// "3 objects in kmalloc-cg-4k from alloc_netdev_mqs, called from 0xffffffffc0571037 <- ..."
    static func describe(_ record: Record) -> String {
        let callers = record.frames.drop { !$0.hasPrefix(record.site) }.dropFirst().prefix(12)
            .map { isBareAddress($0) ? "\($0) (unloaded module)" : $0 }
        return "\(record.count) object\(record.count == 1 ? "" : "s") in \(record.cache) from \(record.site)"
            + (callers.isEmpty ? "" : ", called from " + callers.joined(separator: " <- "))
    }
}
