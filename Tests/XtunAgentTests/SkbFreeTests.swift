import Testing
@testable import XtunAgent

@Suite("The kernel's account of freed skbs")
struct SkbFreeTests {
    // tracefs's `trace` with the skb events and the stacktrace option (6.1's event formats).
    static let trace = """
        # tracer: nop
        #
           xtun_test-97      [000] b..1.    12.500001: consume_skb: skbaddr=000000007b0e2a7c
           xtun_test-97      [000] b..1.    12.500002: <stack trace>
         => trace_event_raw_event_consume_skb+0x8d/0xd0
         => consume_skb+0x6f/0x90
         => arp_process.constprop.0+0x301/0x7c0
         => __netif_receive_skb_one_core+0x89/0xa0
         => process_backlog+0x81/0x120
         => __napi_poll.constprop.0+0x2b/0x160
         => net_rx_action+0x29e/0x350
         => vfs_write+0x2a0/0x3c0
          <idle>-0       [001] ..s1.    12.700000: kfree_skb: skbaddr=00000000c5ab protocol=2048 location=000000001e1e reason: NEIGH_FAILED
          <idle>-0       [001] ..s1.    12.700001: <stack trace>
         => trace_event_raw_event_kfree_skb+0xb0/0xf0
         => kfree_skb_reason+0x7c/0x90
         => neigh_invalidate+0x8e/0x130
         => neigh_timer_handler+0x2ad/0x330
        """

    @Test func eachEventKeepsItsKindReasonAndStack() {
        let frees = SkbFree.parse(Self.trace)
        #expect(frees.map(\.kind) == [.consume, .drop])
        #expect(frees.map(\.reason) == [nil, "NEIGH_FAILED"])
        #expect(frees[0].stack.first == "trace_event_raw_event_consume_skb")
    }

    @Test func thePlaceIsTheFirstFrameThatIsNotTheTracepointOrAFree() {
        let frees = SkbFree.parse(Self.trace)
        #expect(frees.map(\.place) == ["arp_process", "neigh_invalidate"])
        #expect(frees[0].called(from: "process_backlog") && !frees[1].called(from: "process_backlog"))
        #expect(frees[0].path == "arp_process < __netif_receive_skb_one_core < process_backlog < __napi_poll < net_rx_action")
    }
}

@Suite("Function graphs")
struct GraphTracerTests {
    static let trace = """
        # tracer: function_graph
        #
        # CPU  DURATION                  FUNCTION CALLS
        # |     |   |                     |   |   |   |
         1)   0.500 us    |  xtun_net_start_xmit [xtun]();
         0)               |  xtun_chr_write_iter [xtun]() {
         0)               |    __netdev_alloc_skb() {
         0)               |      kmem_cache_alloc_node() {
         0)   1.000 us    |        ___slab_alloc();
         0)   2.000 us    |      }
         0)   3.000 us    |    }
         1)   0.400 us    |  xtun_net_start_xmit [xtun]();
         0)   0.100 us    |    eth_type_trans();
         0) + 10.00 us    |  }
        """

    @Test func theFirstCallIsItsTreeWithoutColumnsOrOtherCPUs() throws {
        let graph = try #require(GraphTracer.firstCall(of: "xtun_chr_write_iter", in: Self.trace))
        #expect(graph == ["xtun_chr_write_iter [xtun]() {", "  __netdev_alloc_skb() {", "    kmem_cache_alloc_node();",
                          "  }", "  eth_type_trans();", "}"])
        #expect(GraphTracer.firstCall(of: "xtun_net_start_xmit", in: Self.trace) == ["xtun_net_start_xmit [xtun]();"])
        #expect(GraphTracer.firstCall(of: "arp_rcv", in: Self.trace) == nil)
    }
}

@Suite("Function graphs without interrupts")
struct GraphInterruptTests {
    @Test func aSoftirqOnTheWayOutOfAnInterruptIsLeftOut() {
        let tree = [
            "xtun_chr_write_iter [xtun]() {",
            "  skb_put();",
            "  irq_enter_rcu();",
            "  handle_softirqs() {",
            "    run_timer_softirq() {",
            "      call_timer_fn();",
            "    }",
            "  }",
            "  irq_exit_rcu();",
            "  eth_type_trans();",
            "}",
        ]
        #expect(GraphTracer.withoutInterrupts(tree) == [
            "xtun_chr_write_iter [xtun]() {", "  skb_put();", "  eth_type_trans();", "}",
        ])
        #expect(GraphTracer.withoutInterrupts(["f() {", "  irq_enter_rcu();", "  g();", "}"]) == ["f() {", "  g();", "}"])
    }
}
