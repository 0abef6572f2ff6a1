// SPDX-License-Identifier: GPL-2.0
/*
 * xtun_test.c - the article's echo program: read a frame from /dev/xtun,
 * write the same frame back, forever.
 *
 * Build: make xtun_test. Run: ./xtun_test & ping -I xtun -c 4 10.99.0.2
 *
 * From stage 06 a file reads nothing until TUNSETIFF attaches it to a
 * device: this one attaches to the TAP device xtun, or creates it.
 *
 * Each frame read and each frame written is one line on stdout. The
 * echoed frame is not an answer to anything; book/05-test.md shows where
 * the kernel drops it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#define XTUN_DEVICE	"/dev/xtun"
#define XTUN_IFNAME	"xtun"
#define XTUN_BUFSIZE	2048	/* more than MTU + Ethernet header */

int main(void)
{
	char buf[XTUN_BUFSIZE];
	ssize_t len, written;
	struct ifreq ifr;
	int fd;

	/* One line per frame even into a file or a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	fd = open(XTUN_DEVICE, O_RDWR);
	if (fd < 0) {
		perror("open " XTUN_DEVICE);
		return EXIT_FAILURE;
	}

	/* Ethernet frames, without struct tun_pi, as in the earlier stages. */
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, XTUN_IFNAME, sizeof(XTUN_IFNAME));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("TUNSETIFF " XTUN_IFNAME);
		return EXIT_FAILURE;
	}

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
