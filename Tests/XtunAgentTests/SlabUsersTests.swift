import Testing
@testable import XtunAgent

@Suite("Slab user tracking")
struct SlabUsersTests {
    // The shape of /sys/kernel/debug/slab/<cache>/alloc_traces (mm/slub.c, 6.1).
    static let netdev = """
              3 alloc_netdev_mqs+0x5f/0x430 waste=1629/543 age=2412/2500/2600 pid=93-101 cpus=1
                __kmalloc_node+0x4c/0x150
                alloc_netdev_mqs+0x5f/0x430
                0xffffffffc03670d7
                do_one_initcall+0x59/0x220
              1 dev_addr_init+0x88/0xc0 age=10 pid=1
                __kmalloc+0x4c/0x150
                dev_addr_init+0x88/0xc0
                loopback_net_init+0x2a/0x90
        """

    @Test func recordsCountTheirObjectsAndKeepTheirStack() {
        let records = SlabUsers.parse(Self.netdev, cache: "kmalloc-cg-4k")
        #expect(records.map(\.count) == [3, 1])
        #expect(records.map(\.site) == ["alloc_netdev_mqs", "dev_addr_init"])
        #expect(records[0].frames.count == 4)
    }

    @Test func anAddressWithoutASymbolIsAnUnloadedModule() {
        let users = SlabUsers(records: SlabUsers.parse(Self.netdev, cache: "kmalloc-cg-4k"))
        #expect(users.fromUnloadedModules.map(\.site) == ["alloc_netdev_mqs"])
        #expect(SlabUsers.describe(users.fromUnloadedModules[0]).contains("0xffffffffc03670d7 (unloaded module)"))
        #expect(!SlabUsers.isBareAddress("do_one_initcall+0x59/0x220"))
    }

    @Test func onlyTheUnloadedCodesRecordsAreKeptWhenAsked() {
        let records = SlabUsers.parse(Self.netdev, cache: "kmalloc-cg-4k", all: false)
        #expect(records.map(\.site) == ["alloc_netdev_mqs"])
        #expect(records.first?.frames == ["__kmalloc_node+0x4c/0x150", "alloc_netdev_mqs+0x5f/0x430",
                                          "0xffffffffc03670d7", "do_one_initcall+0x59/0x220"])
    }

    @Test func skbsAreSkBuffObjectsNotTheirDataHeads() {
        let one = "      1 __alloc_skb+0x4c/0x150 age=1 pid=1\n"
        let users = SlabUsers(records: SlabUsers.parse(one, cache: "skbuff_head_cache")
            + SlabUsers.parse(one, cache: "skbuff_small_head") + SlabUsers.parse(one, cache: "skbuff_fclone_cache"))
        #expect(users.skbHeads == 2)
    }

    @Test func netpollsReserveIsNotALeak() {
        let pool = "     32 __alloc_skb+0x7d/0x360 age=10 pid=90\n        refill_skbs+0xa6/0x100\n"
            + "        netpoll_setup+0x3b5/0x5c0\n"
        let other = "      3 __alloc_skb+0x4c/0x150 age=1 pid=1\n        alloc_skb_with_frags+0x5f/0x2a0\n"
        let users = SlabUsers(records: SlabUsers.parse(pool + other, cache: "skbuff_head_cache"))
        #expect(users.skbHeads == 3)
    }

    @Test func theDrainsOwnSkbsAreNotCounted() {
        let drain = "     14 napi_skb_cache_get+0x4b/0x90 age=10 pid=90\n        __napi_build_skb+0x14/0x70\n"
            + "        napi_alloc_skb+0x87/0x180\n        napi_get_frags+0x28/0x60\n"
        #expect(SlabUsers(records: SlabUsers.parse(drain, cache: "skbuff_head_cache")).skbHeads == 0)
    }

    @Test func anIDRsRadixTreeNodeIsTheIDRs() {
        let node = "      1 radix_tree_node_alloc.constprop.0+0x5d/0x210 age=1 pid=1\n"
            + "        idr_get_free+0x323/0x840\n        idr_alloc_u32+0x14e/0x2d0\n        0xffffffffc02ee332\n"
        let users = SlabUsers(records: SlabUsers.parse(node, cache: "radix_tree_node"))
        #expect(users.records.first?.hasUnloadedModuleFrame == true)
        #expect(users.fromUnloadedModules.isEmpty)
    }

    @Test func noDataIsNoRecord() {
        #expect(SlabUsers.parse("No data\n", cache: "kmalloc-8").isEmpty)
    }
}

@Suite("The fault-injection walk")
struct InitFailuresTests {
    @Test func aCallerFrameNamesItsFunction() {
        #expect(InitFailures.function("[   33.4]  xtun_net_create+0x47/0x80 [xtun]") == "xtun_net_create")
    }

    @Test func aStaleAddressOnTheStackIsNoCaller() {
        // The unwinder prints "?" before an address it found on the stack
        // but cannot prove is a return address.
        #expect(InitFailures.function("[   51.8]  ? xtun_chr_read_iter+0x1c2/0x480 [xtun]") == nil)
    }
}
