/* nginx.c - the nginx side of a reload-mode switch: `nginx -t`, the
 * master named by the pid file, its worker generations, SIGHUP.
 *
 * A pid file is only a claim: before root signals the pid in it, the pid
 * must be an nginx master of the configured binary, owned by root or by
 * us. The process is held by a pidfd (Linux >= 5.3) from before the checks
 * until the signal, so a pid reused in between cannot be signalled.
 *
 * After SIGHUP the master starts a new generation of workers and tells the
 * old one to quit; for a moment both accept. An old worker that got the
 * message renames itself "worker process is shutting down" and closes its
 * listening sockets before it next waits for events, so once every worker
 * of the old generation is gone or says so, every new connection is the
 * new generation's. A reload that fails (a port in use) leaves the old
 * workers running as they were: that is how it is detected. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bg.h"

#define NGINX_T_MS 30000	/* nginx -t on a large config: seconds */

int
bg_pidfile_parse(const char *s, size_t n, pid_t *pid)
{
	unsigned long v;

	if (n > 0 && s[n - 1] == '\n')
		n--;
	if (bg_parse_ulong(s, n, 4194304, &v) < 0 || v < 2)
		return -1;	/* pid 1 is init, never an nginx master */
	*pid = (pid_t)v;
	return 0;
}

long
bg_proc_stat_ppid(const char *s, size_t n)
{
	const char *p = NULL, *end = s + n;
	unsigned long v;
	size_t i, k;

	/* "pid (comm) S ppid ...": comm may hold any byte, even ')' */
	for (i = n; i > 0; i--)
		if (s[i - 1] == ')') {
			p = s + i;
			break;
		}
	if (p == NULL || end - p < 5 || p[0] != ' ' || p[2] != ' ')
		return -1;
	p += 3;
	for (k = 0; p + k < end && p[k] != ' '; k++)
		;
	if (bg_parse_ulong(p, k, LONG_MAX, &v) < 0)
		return -1;
	return (long)v;
}

/* /proc/PID/NAME into buf, NULs turned into spaces; length, or -1. */
static ssize_t
proc_read(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t r, i;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	do
		r = read(fd, buf, len - 1);
	while (r < 0 && errno == EINTR);
	close(fd);
	if (r < 0)
		return -1;
	for (i = 0; i < r; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[r] = '\0';
	return r;
}

int
bg_nginx_master(const struct bg_conf *c, struct bg_nginx *ng)
{
	char want[PATH_MAX], exe[PATH_MAX + 16], cmd[4096];
	struct stat st;
	size_t n, wn;
	ssize_t k;
	char *buf;
	pid_t pid;

	ng->pid = 0;
	ng->pidfd = -1;
	ng->nold = 0;
	if (bg_file_read(c->nginx_pid, 1, 64, &buf, &n) < 0) {
		if (errno == ENOENT)
			bg_warn("no nginx pid file %s: is nginx running?",
			    c->nginx_pid);
		else
			bg_warn("cannot read nginx pid file %s: %s",
			    c->nginx_pid, bg_file_why(errno, 64, exe,
			    sizeof exe));
		return BG_SYS;
	}
	k = bg_pidfile_parse(buf, n, &pid);
	free(buf);
	if (k < 0) {
		bg_warn("nginx pid file %s does not hold a pid", c->nginx_pid);
		return BG_SYS;
	}
	if (realpath(c->nginx, want) == NULL) {
		bg_warnsys("nginx binary %s", c->nginx);
		return BG_CONFIG;
	}
	ng->pidfd = bg_pidfd_open(pid);
	if (ng->pidfd < 0 && errno == ESRCH) {
		bg_warn("nginx is not running: pid %d from %s is gone",
		    (int)pid, c->nginx_pid);
		return BG_SYS;
	}
	if (ng->pidfd < 0 && (errno == EMFILE || errno == ENFILE)) {
		bg_warnsys("cannot hold nginx master %d (pid from %s)",
		    (int)pid, c->nginx_pid);
		return BG_SYS;
	}
	snprintf(cmd, sizeof cmd, "/proc/%d/exe", (int)pid);
	k = readlink(cmd, exe, sizeof exe - 1);
	if (k < 0) {
		bg_warnsys("nginx is not running? cannot read %s (pid from %s)",
		    cmd, c->nginx_pid);
		goto fail;
	}
	exe[k] = '\0';
	wn = strlen(want);
	if (strncmp(exe, want, wn) != 0 ||
	    (exe[wn] != '\0' && strcmp(exe + wn, " (deleted)") != 0)) {
		bg_warn("pid %d from %s is not an nginx master: it runs %s, "
		    "not %s", (int)pid, c->nginx_pid, exe, want);
		goto fail;
	}
	if (proc_read(pid, "cmdline", cmd, sizeof cmd) < 0) {
		/* out of descriptors is not "not nginx": say which */
		bg_warnsys("cannot read /proc/%d/cmdline (pid from %s)",
		    (int)pid, c->nginx_pid);
		goto fail;
	}
	if (strstr(cmd, "master process") == NULL) {
		bg_warn("pid %d from %s is not an nginx master process",
		    (int)pid, c->nginx_pid);
		goto fail;
	}
	snprintf(cmd, sizeof cmd, "/proc/%d", (int)pid);
	if (stat(cmd, &st) < 0) {
		bg_warnsys("nginx master %d", (int)pid);
		goto fail;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		bg_warn("nginx master %d is owned by uid %u, neither root nor "
		    "us", (int)pid, (unsigned)st.st_uid);
		goto fail;
	}
	if (st.st_uid != geteuid() && geteuid() != 0) {
		bg_warn("cannot signal nginx master %d: it is root's; run "
		    "bgflip as root", (int)pid);
		goto fail;
	}
	ng->pid = pid;
	/* The pidfd was opened before the checks: if it still refers to a
	 * live process, that process is the one just checked. */
	if (!bg_nginx_alive(ng)) {
		bg_warn("nginx master %d exited while being checked", (int)pid);
		goto fail;
	}
	return 0;
fail:
	if (ng->pidfd >= 0)
		close(ng->pidfd);
	ng->pidfd = -1;
	ng->pid = 0;
	return BG_SYS;
}

int
bg_nginx_alive(const struct bg_nginx *ng)
{
	struct pollfd p;

	if (ng->pid <= 0)
		return 0;
	if (ng->pidfd < 0)
		return kill(ng->pid, 0) == 0 || errno == EPERM;
	/* A pidfd polls readable once its process has exited. */
	p.fd = ng->pidfd;
	p.events = POLLIN;
	return poll(&p, 1, 0) == 0;
}

/* "worker process" and not yet "worker process is shutting down" */
static int
accepting_worker(pid_t pid)
{
	char cmd[256];

	if (proc_read(pid, "cmdline", cmd, sizeof cmd) < 0)
		return 0;
	return strstr(cmd, "worker process") != NULL &&
	    strstr(cmd, "shutting down") == NULL;
}

/* The accepting workers of master, into out[0..max). */
static int
list_workers(pid_t master, pid_t *out, int max)
{
	char buf[512], kids[8192], name[48], *p, *e;
	struct dirent *de;
	unsigned long v;
	DIR *d;
	int n = 0;
	ssize_t k;

	/* The master's children, from the kernel's own list: one read where
	 * the scan below reads every process on the machine. */
	snprintf(name, sizeof name, "task/%d/children", (int)master);
	if ((k = proc_read(master, name, kids, sizeof kids)) >= 0 &&
	    (size_t)k < sizeof kids - 1) {
		for (p = kids; n < max && (p = strpbrk(p, "0123456789")); p = e) {
			e = p + strspn(p, "0123456789");
			if (bg_parse_ulong(p, (size_t)(e - p), 4194304, &v) == 0 &&
			    accepting_worker((pid_t)v))
				out[n++] = (pid_t)v;
		}
		return n;
	}
	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && n < max) {
		if (bg_parse_ulong(de->d_name, strlen(de->d_name), 4194304,
		    &v) < 0)
			continue;
		if ((k = proc_read((pid_t)v, "stat", buf, sizeof buf)) < 0)
			continue;
		if (bg_proc_stat_ppid(buf, (size_t)k) == (long)master &&
		    accepting_worker((pid_t)v))
			out[n++] = (pid_t)v;
	}
	closedir(d);
	return n;
}

int
bg_nginx_hup(struct bg_nginx *ng)
{
	int n, rc = -1;

	n = list_workers(ng->pid, ng->old, BG_WORKERS_MAX);
	ng->nold = n < 0 ? 0 : n;
#ifdef SYS_pidfd_send_signal
	if (ng->pidfd >= 0)
		rc = (int)syscall(SYS_pidfd_send_signal, ng->pidfd, SIGHUP,
		    NULL, 0);
	else
#endif
		rc = kill(ng->pid, SIGHUP);
	if (rc < 0)
		bg_warnsys("cannot send SIGHUP to nginx master %d", (int)ng->pid);
	return rc;
}

int
bg_nginx_settled(const struct bg_nginx *ng)
{
	int i;

	for (i = 0; i < ng->nold; i++)
		if (accepting_worker(ng->old[i]))
			return 0;
	return 1;
}

void
bg_nginx_close(struct bg_nginx *ng)
{
	if (ng->pidfd >= 0)
		close(ng->pidfd);
	ng->pidfd = -1;
}

int
bg_nginx_test(const struct bg_conf *c)
{
	static char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char *envp[] = { path, NULL };
	char *argv[8], wbuf[64];
	int argc = 0, ws, rc;

	/* Fixed argv, fixed environment, the configured binary: never PATH. */
	argv[argc++] = (char *)c->nginx;
	argv[argc++] = "-t";
	argv[argc++] = "-q";
	if (c->nginx_prefix[0] != '\0') {
		argv[argc++] = "-p";
		argv[argc++] = (char *)c->nginx_prefix;
	}
	if (c->nginx_conf[0] != '\0') {
		argv[argc++] = "-c";
		argv[argc++] = (char *)c->nginx_conf;
	}
	argv[argc] = NULL;
	rc = bg_run(argv, envp, "/", 2, bg_now_ms() + NGINX_T_MS, &ws);
	if (rc == BG_TIMEOUT) {
		bg_warn("%s -t did not finish in %d s", c->nginx,
		    NGINX_T_MS / 1000);
		return BG_SYS;
	}
	if (rc != 0 && errno == ECHILD) {
		bg_warn("%s -t: its exit status was lost (No child processes): "
		    "not counted as a pass", c->nginx);
		return BG_SYS;
	}
	if (rc != 0) {
		bg_warnsys("cannot run %s -t", c->nginx);
		return BG_SYS;
	}
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return 0;
	bg_warn("%s -t rejected the config (%s; its message is above)",
	    c->nginx, bg_wstatus_str(ws, wbuf, sizeof wbuf));
	return BG_CONFIG;
}
