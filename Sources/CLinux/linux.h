/* Linux headers that Swift's Glibc module does not import. */
#include <sys/epoll.h>
#include <netpacket/packet.h>
#include <net/ethernet.h>
