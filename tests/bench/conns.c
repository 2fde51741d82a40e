/* conns - hold N idle TCP connections open, for the drain benchmark.
 *
 *   conns HOST PORT N
 *
 * Connects N times to HOST:PORT (numeric), prints "N" on stdout once all
 * are established, then holds them until SIGTERM, SIGINT or 10 minutes,
 * whichever comes first. Raise the open-files limit first (ulimit -n). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define LIFETIME 600	/* seconds: a forgotten conns does not linger */

int
main(int argc, char *argv[])
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *res;
	char *end;
	long n, i;
	int fd, rc;

	if (argc != 4) {
		fprintf(stderr, "usage: conns host port n\n");
		return 2;
	}
	n = strtol(argv[3], &end, 10);
	if (*end != '\0' || n < 1 || n > 100000) {
		fprintf(stderr, "conns: bad count %s\n", argv[3]);
		return 2;
	}
	if ((rc = getaddrinfo(argv[1], argv[2], &hints, &res)) != 0) {
		fprintf(stderr, "conns: %s: %s\n", argv[1], gai_strerror(rc));
		return 2;
	}
	alarm(LIFETIME);
	for (i = 0; i < n; i++) {
		if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) < 0) {
			perror("conns: socket");
			return 5;
		}
		while (connect(fd, res->ai_addr, res->ai_addrlen) < 0)
			if (errno != EINTR) {
				fprintf(stderr, "conns: connection %ld: ", i + 1);
				perror("connect");
				return 5;
			}
	}
	printf("%ld\n", n);
	fflush(stdout);
	for (;;)
		pause();
}
