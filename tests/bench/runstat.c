/* runstat - run a command N times and print its start-to-exit time and
 * peak memory, for make bench:
 *
 *	runstat N CMD [ARG ...]
 *
 * prints one line "median_us max_us maxrss_kib last_exit". The time is
 * fork to wait4, so it includes exec and the dynamic loader; the memory is
 * the child's ru_maxrss, the largest over the N runs. stdin, stdout and
 * stderr of CMD are /dev/null. Not a test: it asserts nothing.
 * (fork, not posix_spawn: a CLONE_VM child's ru_maxrss would count ours.) */
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bg.h"

#define RUNS_MAX 1000

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	static long long t[RUNS_MAX];
	struct rusage ru;
	long long t0;
	long maxrss = 0;
	int i, n, st = 0, fd;
	pid_t pid;

	if (argc < 3 || (n = atoi(argv[1])) < 1 || n > RUNS_MAX) {
		fprintf(stderr, "usage: runstat N CMD [ARG ...]\n");
		return 2;
	}
	for (i = 0; i < n; i++) {
		t0 = bg_now_us();
		if ((pid = fork()) < 0) {
			perror("runstat: fork");
			return 5;
		}
		if (pid == 0) {
			if ((fd = open("/dev/null", O_RDWR)) >= 0) {
				dup2(fd, 0);
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execv(argv[2], argv + 2);
			_exit(127);
		}
		if (wait4(pid, &st, 0, &ru) < 0) {
			perror("runstat: wait4");
			return 5;
		}
		t[i] = bg_now_us() - t0;
		if (ru.ru_maxrss > maxrss)
			maxrss = ru.ru_maxrss;
	}
	qsort(t, (size_t)n, sizeof *t, cmp_ll);
	printf("%lld %lld %ld %d\n", t[(n - 1) / 2], t[n - 1], maxrss,
	    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
