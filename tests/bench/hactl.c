/* hactl - one command to HAProxy's runtime API (its stats socket), for
 * make bench: the HAProxy counterpart of running bgflip.
 *
 *	hactl SOCKET 'set server app/green state ready; set server ...'
 *
 * Connects to the unix socket, sends the line, reads the answer to EOF.
 * Exit 0 when HAProxy answered nothing but blank lines (its "done"), 1
 * with its answer on stderr otherwise, 2 on a usage or socket error. Not a
 * test: it asserts nothing. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct sockaddr_un sa;
	char buf[4096];
	size_t have = 0, i;
	ssize_t r;
	int fd, blank = 1;

	if (argc != 3 || strlen(argv[1]) >= sizeof sa.sun_path) {
		fprintf(stderr, "usage: hactl socket command\n");
		return 2;
	}
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, argv[1], strlen(argv[1]));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("hactl: connect");
		return 2;
	}
	if (write(fd, argv[2], strlen(argv[2])) < 0 || write(fd, "\n", 1) < 0) {
		perror("hactl: write");
		return 2;
	}
	while ((r = read(fd, buf + have, sizeof buf - 1 - have)) > 0 ||
	    (r < 0 && errno == EINTR))
		if (r > 0 && (have += (size_t)r) == sizeof buf - 1)
			break;
	close(fd);
	for (i = 0; i < have; i++)
		if (buf[i] != '\n' && buf[i] != '\r' && buf[i] != ' ')
			blank = 0;
	if (!blank) {
		buf[have] = '\0';
		fprintf(stderr, "hactl: %s", buf);
		return 1;
	}
	return 0;
}
