/* fdwrite - write into another process's open descriptor, as the trust
 * tests' attacker (the deploy user) can into a process that runs as it.
 *
 *	fdwrite PID FD TEXT
 *
 * Takes a copy of PID's descriptor FD with pidfd_getfd(2) (allowed to
 * whoever may ptrace PID: its own user, once it dropped from root and
 * exec'ed) and writes TEXT and a newline to it. Exit 0 written, 1 not (said
 * why). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bg.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int
main(int argc, char **argv)
{
	unsigned long pid, fd;
	char buf[4096];
	int pfd, tfd;
	size_t n;

	bg_setprog(argv[0]);
	if (argc != 4 || bg_parse_ulong(argv[1], strlen(argv[1]), 4194304,
	    &pid) < 0 || bg_parse_ulong(argv[2], strlen(argv[2]), 65535,
	    &fd) < 0 || strlen(argv[3]) + 2 > sizeof buf)
		bg_die(2, "usage: fdwrite PID FD TEXT");
	if ((pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0)) < 0)
		bg_diesys(1, "pidfd_open %lu", pid);
	if ((tfd = (int)syscall(SYS_pidfd_getfd, pfd, (int)fd, 0)) < 0)
		bg_diesys(1, "pidfd_getfd %lu %lu", pid, fd);
	n = (size_t)snprintf(buf, sizeof buf, "%s\n", argv[3]);
	if (write(tfd, buf, n) != (ssize_t)n)
		bg_diesys(1, "write to fd %lu of %lu", fd, pid);
	return 0;
}
