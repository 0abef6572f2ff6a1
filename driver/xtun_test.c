//> 05 test-file
// SPDX-License-Identifier: GPL-2.0
/*
 * xtun_test.c - the article's echo program: read a frame from /dev/xtun,
 * write the same frame back, forever.
 *
 * Build: make xtun_test. Run: ./xtun_test & ping -I xtun -c 4 10.99.0.2
//> 06 test-doc-attach
 *
 * From stage 06 a file reads nothing until TUNSETIFF attaches it to a
 * device: this one attaches to the TAP device xtun, or creates it.
//< test-doc-attach
 *
 * Each frame read and each frame written is one line on stdout. The
 * echoed frame is not an answer to anything; book/05-test.md shows where
 * the kernel drops it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
//> 06 test-includes
#include <string.h>
//< test-includes
#include <unistd.h>
//> 06 test-includes-tun
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
//< test-includes-tun

#define XTUN_DEVICE	"/dev/xtun"
//> 06 test-ifname
#define XTUN_IFNAME	"xtun"
//< test-ifname
#define XTUN_BUFSIZE	2048	/* more than MTU + Ethernet header */

int main(void)
{
	char buf[XTUN_BUFSIZE];
	ssize_t len, written;
//> 06 test-ifr
	struct ifreq ifr;
//< test-ifr
	int fd;

	/* One line per frame even into a file or a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	fd = open(XTUN_DEVICE, O_RDWR);
	if (fd < 0) {
		perror("open " XTUN_DEVICE);
		return EXIT_FAILURE;
	}
//> 06 test-attach

	/* Ethernet frames, without struct tun_pi, as in the earlier stages. */
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, XTUN_IFNAME, sizeof(XTUN_IFNAME));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("TUNSETIFF " XTUN_IFNAME);
		return EXIT_FAILURE;
	}
//< test-attach

	for (;;) {
		/* Blocks until the stack transmits a frame on xtun. */
		len = read(fd, buf, sizeof(buf));
		if (len <= 0) {
			perror("read");
			break;
		}
		printf("read %zd bytes from xtun.\n", len);

		written = write(fd, buf, len);
		if (written < 0) {
			perror("write");
			break;
		}
		printf("write %zd bytes to xtun.\n", written);
	}

	close(fd);
	return EXIT_FAILURE;
}
//< test-file
