/* run.c - run a child with a fixed argv and environment, never a shell,
 * and wait for it with a deadline. The child leads its own process group, so
 * a deadline or an interruption kills whatever it started too. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bg.h"

#define GRACE_MS 2000	/* between SIGTERM and SIGKILL */
#define TICK_MS  100	/* longest sleep between looks at bg_interrupted */

volatile sig_atomic_t bg_interrupted;

static void
on_signal(int sig)
{
	bg_interrupted = sig;
}

void
bg_signals_default(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	/* A caller (or sudo) may hand us SIGCHLD ignored, which makes the
	 * kernel reap our children and waitpid fail; or any signal blocked
	 * or ignored. Start from the defaults, whatever we were given. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);	/* fails harmlessly for KILL/STOP */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void
bg_catch_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: waits must see EINTR */
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

/* What the child reports through the close-on-exec pipe when it cannot
 * exec: nothing arrives when execve succeeded. */
struct failure {
	int what;	/* 1 chdir, 2 exec, 3 setting up fds */
	int err;
};

static void
child_fail(int fd, int what)
{
	struct failure f;

	f.what = what;
	f.err = errno;
	while (write(fd, &f, sizeof f) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* Only async-signal-safe calls from here to execve. */
static _Noreturn void
child(char *const argv[], char *const envp[], const char *cwd, int outfd,
    int errfd)
{
	int fd;

	/* The descriptors below must not land on the report pipe. */
	if (errfd <= 2 && (errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 3)) < 0)
		_exit(127);
	setpgid(0, 0);
	/* Ignored signals stay ignored across execve: give the child the
	 * defaults, whatever the caller set up for itself (async-signal-safe
	 * calls only). */
	bg_signals_default();

	if (outfd >= 0) {
		for (fd = 1; fd <= 2; fd++) {
			if (outfd == fd) {
				if (fcntl(fd, F_SETFD, 0) < 0)
					child_fail(errfd, 3);
			} else if (dup2(outfd, fd) < 0)
				child_fail(errfd, 3);
		}
	}
	if ((fd = open("/dev/null", O_RDONLY)) < 0)
		child_fail(errfd, 3);
	if (fd != 0) {
		if (dup2(fd, 0) < 0)
			child_fail(errfd, 3);
		close(fd);
	}
	/* A descriptor the caller forgot to mark close-on-exec (the lock!)
	 * must not outlive us in a daemon the child starts. */
#if defined(SYS_close_range)
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) < 0)
#endif
	{
		long max = sysconf(_SC_OPEN_MAX);

		if (max < 0 || max > 65536)
			max = 65536;
		for (fd = 3; fd < max; fd++)
			if (fd != errfd)
				fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	if (cwd != NULL && chdir(cwd) < 0)
		child_fail(errfd, 1);
	execve(argv[0], argv, envp);
	child_fail(errfd, 2);
	_exit(127);	/* not reached */
}

int
bg_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	/* the kernel sets close-on-exec; say so where it is relied on */
	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* Wait for pid until deadline (0: none). 1 reaped (*wstatus set), 0 the
 * deadline passed, -1 bg_interrupted was set (when stop_on_signal), -2 the
 * status is lost (errno: ECHILD when someone else reaped it). */
static int
wait_until(pid_t pid, int pidfd, long long deadline, int stop_on_signal,
    int *wstatus)
{
	long long left;
	pid_t r;

	for (;;) {
		r = waitpid(pid, wstatus, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR) {
			/* ECHILD: someone else reaped it (SIGCHLD ignored).
			 * Its status is lost: never count that as success. */
			*wstatus = 0;
			return -2;
		}
		if (stop_on_signal && bg_interrupted)
			return -1;
		left = TICK_MS;
		if (deadline > 0) {
			left = deadline - bg_now_ms();
			if (left <= 0)
				return 0;
			if (left > TICK_MS)
				left = TICK_MS;
		}
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };

			poll(&p, 1, (int)left);	/* EINTR: look again */
		} else
			bg_sleep_ms(left < 10 ? left : 10);
	}
}

/* SIGTERM to the group, GRACE_MS to go, then SIGKILL to whatever is left. */
static void
kill_group(pid_t pid, int pidfd, int *wstatus)
{
	kill(-pid, SIGTERM);
	if (wait_until(pid, pidfd, bg_now_ms() + GRACE_MS, 0, wstatus) != 0) {
		kill(-pid, SIGKILL);	/* stragglers; ESRCH is fine */
		return;
	}
	kill(-pid, SIGKILL);
	while (waitpid(pid, wstatus, 0) < 0 && errno == EINTR)
		;
}

int
bg_run(char *const argv[], char *const envp[], const char *cwd, int outfd,
    long long deadline, int *wstatus)
{
	struct failure f;
	int pfd[2], pidfd, r, st = 0;
	ssize_t n;
	pid_t pid;

	if (bg_interrupted) {
		errno = EINTR;
		return -1;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);	/* or buffered output would be written twice */
	if ((pid = fork()) < 0) {
		int e = errno;

		close(pfd[0]);
		close(pfd[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		child(argv, envp, cwd, outfd, pfd[1]);
	}
	/* Also in the parent, so kill(-pid) works from the first instant. */
	setpgid(pid, pid);
	close(pfd[1]);
	pidfd = bg_pidfd_open(pid);

	/* Blocks until execve (the pipe closes) or a failure report. */
	do
		n = read(pfd[0], &f, sizeof f);
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof f) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (pidfd >= 0)
			close(pidfd);
		errno = f.err;
		return f.what == 1 ? -2 : -1;
	}

	r = wait_until(pid, pidfd, deadline, 1, &st);
	if (r == -2) {
		int e = errno;

		kill(-pid, SIGKILL);	/* whatever it left behind */
		if (pidfd >= 0)
			close(pidfd);
		errno = e;
		return -1;
	}
	if (r != 1)
		kill_group(pid, pidfd, &st);
	if (pidfd >= 0)
		close(pidfd);
	if (wstatus != NULL)
		*wstatus = st;
	if (r == 0)
		return BG_TIMEOUT;
	if (r < 0) {
		errno = EINTR;
		return -1;
	}
	return 0;
}

const char *
bg_wstatus_str(int wstatus, char *buf, size_t len)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, len, "exited %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(wstatus),
		    strsignal(WTERMSIG(wstatus)));
	else
		snprintf(buf, len, "stopped (status 0x%x)", (unsigned)wstatus);
	return buf;
}
