/* bgstage - bring up the standby: run its hooks, wait until it is healthy.
 *
 * Where the SPEC is silent (docs/bgstage.1 says the same):
 * - The config and the hooks are checked before the lock is taken: an
 *   unsafe hooks directory or hook (writable by group or others) is 4, a
 *   missing or non-executable hook 1, before anything runs.
 * - A hook gets exactly PATH, BG_COLOR, BG_ADDR, BG_APP_DIR: no HOME, no
 *   LANG. Each hook may run up to HOOK_MAX_S, then its process group is
 *   killed (exit 3); -t bounds only the health wait.
 * - A missing APP/COLOR directory is 4 (make init creates it).
 * - The live color comes from url (2 s); failing that is 5, never 3, so
 *   3 always means "not healthy in time".
 * - -n takes no lock (it must not create the lock file) and runs nothing.
 * - SIGHUP, SIGINT, SIGTERM: the running hook's process group is stopped,
 *   then bgstage dies of the same signal; the mark stays.
 * - Run as root (SPEC "Trust"): the hooks directory and each hook pass
 *   bg_trusted_open (root's all the way up to "/"); the mark in the
 *   deploy user's APP is removed as APP's owner (a child that drops to
 *   its uid and gid), by unlinkat through an O_NOFOLLOW descriptor of APP.
 * - -r (retire) runs only the retire hook, also while COLOR has
 *   connections, never on the live color; it refuses while linger = off
 *   (the operator chose to leave long-lived connections alone) unless -F,
 *   refuses a color being staged (a deploy is rewriting its files: a
 *   restart would run them half-copied), and leaves the being-staged mark
 *   alone. -r with -i or -m is a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bg.h"

#define HOOK_MAX_S   3600	/* a hung hook (a lock, a prompt) is killed */
#define LIVE_MS      2000	/* asking nginx which color is live */
#define POLL_MS      200	/* between health checks */
#define REQ_MS       1000	/* longest single health request */
#define HOOK_PATH    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char usage[] = "bgstage [-Fimnr] [-f conf] [-t secs] [COLOR]\n"
    "       bgstage -V";

#define NHOOKS 4
static const char *const hook_names[NHOOKS] = { "install", "migrate",
	"restart", "retire" };

/* Die of the signal that interrupted us, after saying what it stopped. */
static _Noreturn void
interrupted(const char *what, const char *hook)
{
	int sig = bg_interrupted;

	bg_warn("interrupted by signal %d (%s): %s%s", sig, strsignal(sig), what,
	    hook ? hook : "");
	fflush(stderr);
	signal(sig, SIG_DFL);
	kill(getpid(), sig);
	_exit(128 + sig);	/* not reached: the signal is not blocked */
}

/* "30s", "1.5s" */
static const char *
secs_str(long long ms, char *buf, size_t len)
{
	return bg_secs_fmt(ms, "s", buf, len);
}

/* Writable by group or others: anyone could put code there that we run.
 * As root, also the trust rules: root's, all the way up. */
static void
check_hooks_dir(const char *dir)
{
	struct stat st;
	int fd;

	if (stat(dir, &st) < 0)
		bg_diesys(BG_CONFIG, "hooks directory %s", dir);
	if (!S_ISDIR(st.st_mode))
		bg_die(BG_CONFIG, "hooks directory %s: not a directory", dir);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		bg_die(BG_CONFIG, "hooks directory %s is writable by group or "
		    "others: refusing to run hooks from it (chmod go-w %s)",
		    dir, dir);
	if (geteuid() == 0) {
		if ((fd = bg_trusted_open("hooks directory", dir, O_PATH |
		    O_DIRECTORY)) < 0)
			exit(BG_CONFIG);
		close(fd);
	}
}

/* 0 ok; BG_CONFIG unsafe; BG_NO missing or not executable (said why). */
static int
check_hook(const char *path, int pass)
{
	struct stat st;
	int fd = -1;

	if (stat(path, &st) < 0) {
		if (pass == 1)
			return BG_OK;
		bg_warnsys("hook %s", path);
		return BG_NO;
	}
	if (pass == 1) {
		if (st.st_mode & (S_IWGRP | S_IWOTH)) {
			bg_warn("hook %s is writable by group or others: "
			    "refusing to run it (chmod go-w %s)", path, path);
			return BG_CONFIG;
		}
		if (geteuid() == 0 && (fd = bg_trusted_open("hook", path,
		    O_PATH)) < 0)
			return BG_CONFIG;
		if (fd >= 0)
			close(fd);
		return BG_OK;
	}
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
		bg_warn("hook %s is not an executable file (chmod +x %s)",
		    path, path);
		return BG_NO;
	}
	return BG_OK;
}

/* The live color, from nginx's /bg route; dies 5 when it cannot tell. */
static int
live_color(const struct bg_conf *c)
{
	char why[BG_WHY_MAX];
	int rc, col;

	rc = bg_live_color(&c->url, bg_conf_host(c), bg_now_ms() + LIVE_MS,
	    &col, why, sizeof why);
	if (bg_interrupted)
		interrupted("while asking which color is live", NULL);
	if (rc != 0)
		bg_die(BG_SYS, "cannot tell which color is live: %s", why);
	return col;
}

static void
run_hook(const char *path, char *const envp[], const char *cwd,
    const char *color)
{
	char *argv[3], st[96];
	int rc, ws;

	argv[0] = (char *)path;
	argv[1] = (char *)color;
	argv[2] = NULL;
	rc = bg_run(argv, envp, cwd, STDERR_FILENO,
	    bg_now_ms() + HOOK_MAX_S * 1000LL, &ws);
	if (rc == -1 && errno == EINTR && bg_interrupted)
		interrupted("stopped hook ", path);
	if (rc == -2)
		bg_diesys(BG_CONFIG, "hook %s: cannot enter %s", path, cwd);
	if (rc < 0 && errno == ECHILD)
		bg_die(BG_NO, "hook %s: its exit status was lost (No child "
		    "processes): not counted as a success; %s not staged",
		    path, color);
	if (rc < 0)
		bg_diesys(BG_NO, "hook %s: cannot run it", path);
	if (rc == BG_TIMEOUT)
		bg_die(BG_TIMEOUT, "hook %s still running after %ds: killed "
		    "(%s)", path, HOOK_MAX_S, bg_wstatus_str(ws, st, sizeof st));
	if (ws != 0)
		bg_die(BG_NO, "hook %s %s; %s not staged", path,
		    bg_wstatus_str(ws, st, sizeof st), color);
}

/* Remove COLOR's being-staged mark from APP, which the deploy user owns:
 * by unlinkat through an O_NOFOLLOW descriptor of APP and, as root, only
 * after dropping to APP's owner (SPEC "Trust" rule 3); a root-owned APP
 * must be trusted all the way up. So no symlink or renamed directory of
 * the deploy user's makes root unlink anything. 0; -1 (errno) or -2
 * (unsafe, said why). */
static int
clear_mark(const struct bg_conf *c, int color)
{
	char name[32];
	struct stat st;
	int dfd, ws, err = 0;
	pid_t pid;

	snprintf(name, sizeof name, ".bg-staging.%s", bg_color_name(color));
	dfd = open(c->app, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		bg_warn("app %s is not a directory (a symlink?): refusing to "
		    "remove the mark in it as root", c->app);
		return -2;
	}
	if (dfd < 0)
		return -1;
	if (fstat(dfd, &st) < 0)
		goto fail;
	if (geteuid() == 0 && st.st_uid == 0) {
		/* root's APP: only where nobody else could have led us */
		close(dfd);
		if ((dfd = bg_trusted_open("app", c->app, O_RDONLY |
		    O_DIRECTORY)) < 0)
			return -2;
	}
	if (geteuid() != 0 || st.st_uid == 0) {
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
			goto fail;
		close(dfd);
		return 0;
	}
	fflush(NULL);
	if ((pid = fork()) < 0)
		goto fail;
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(st.st_gid) < 0 ||
		    setuid(st.st_uid) < 0)
			_exit(errno & 0xff);
		if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
			_exit(errno & 0xff);
		_exit(0);
	}
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			goto fail;	/* ECHILD: the status is lost */
	close(dfd);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		errno = WIFEXITED(ws) ? WEXITSTATUS(ws) : EINTR;
		return -1;
	}
	return 0;
fail:
	err = errno;
	close(dfd);
	errno = err;
	return -1;
}

/* Why a color never got healthy, for the operator: does anything listen
 * at all? lastrc is the last health request's: 0 when something answered. */
static const char *
unhealthy_why(const struct bg_addr *a, int lastrc, const char *last,
    char *buf, size_t len)
{
	struct stat st;
	char where[BG_PATH_MAX + 16];

	bg_addr_fmt(a, where, sizeof where);
	if (lastrc == 0)
		snprintf(buf, len, "something listens at %s and answers, but "
		    "not 200: the app runs and says it is not ready", where);
	else if (a->is_unix && lstat(a->path, &st) < 0)
		snprintf(buf, len, "nothing listens: no socket file %s (%s; did "
		    "the app start? see the restart hook's output above)",
		    a->path, strerror(errno));
	else if (a->is_unix && !S_ISSOCK(st.st_mode))
		snprintf(buf, len, "%s is not a socket", a->path);
	else if (strstr(last, strerror(ECONNREFUSED)) != NULL)
		snprintf(buf, len, "nothing listens at %s (connection refused: "
		    "the app is not running, or listens elsewhere; see the "
		    "restart hook's output above)", where);
	else if (lastrc == BG_TIMEOUT)
		snprintf(buf, len, "%s accepts connections but does not answer",
		    where);
	else
		snprintf(buf, len, "see the restart hook's output above");
	return buf;
}

/* Polls addr + health until a 200 or the deadline: exit 3 when it passes. */
static void
wait_healthy(const struct bg_conf *c, int color, long long wait_ms)
{
	const struct bg_addr *a = &c->addr[color];
	struct bg_reply r;
	long long start, deadline, now, req;
	char last[sizeof r.err + 32] = "no answer yet", t[32], why[BG_PATH_MAX + 256];
	int rc, tty = isatty(STDERR_FILENO), shown = 0;

	start = bg_now_ms();
	deadline = start + wait_ms;
	for (;;) {
		now = bg_now_ms();
		req = now + REQ_MS < deadline ? now + REQ_MS : deadline;
		rc = bg_http_get(a, c->health, bg_conf_host(c), req, 1,
		    &r);
		if (rc == 0 && r.status == 200)
			break;
		if (rc == 0)
			snprintf(last, sizeof last, "last answer %d", r.status);
		else if (rc == BG_TIMEOUT)
			snprintf(last, sizeof last, "no answer within %s",
			    secs_str(req - now, t, sizeof t));
		else
			snprintf(last, sizeof last, "%s", r.err);
		if (tty) {
			fprintf(stderr, "\r%s: waiting for %s: %s, %s"
			    "\033[K", bg_prog, bg_color_name(color),
			    secs_str((bg_now_ms() - start) / 100 * 100, t,
			    sizeof t), last);
			shown = 1;
		}
		while (!bg_interrupted && bg_now_ms() < now + POLL_MS &&
		    bg_now_ms() < deadline)
			bg_sleep_ms(20);
		if (bg_interrupted) {
			if (shown)
				fputc('\n', stderr);
			interrupted("while waiting for health", NULL);
		}
		if (bg_now_ms() >= deadline) {
			if (shown)
				fputc('\n', stderr);
			bg_die(BG_TIMEOUT, "%s not healthy after %s: %s; %s",
			    bg_color_name(color),
			    secs_str(wait_ms, t, sizeof t), last,
			    unhealthy_why(a, rc, last, why, sizeof why));
		}
	}
	if (shown)
		fprintf(stderr, "\r%s: %s is healthy\033[K\n", bg_prog,
		    bg_color_name(color));
}

int
main(int argc, char **argv)
{
	struct bg_conf c;
	struct stat st;
	const char *confpath = NULL, *name;
	char hooks[NHOOKS][BG_PATH_MAX + 16], appdir[BG_PATH_MAX + 8];
	char ebuf[4][BG_PATH_MAX + 32], addr[BG_PATH_MAX], t[32];
	char url[BG_PATH_MAX + 1400];
	char mark[BG_PATH_MAX + 32];
	char *envp[5];
	long long wait_ms = -1;
	long inflight;
	pid_t holder;
	int ch, i, rc, color = -1, live, force = 0, dry = 0, fd, retire = 0;
	int want[NHOOKS] = { 0, 0, 1, 0 };

	bg_setprog(argv[0]);
	bg_help(argc, argv, usage);
	while ((ch = getopt(argc, argv, "Ff:imnrt:")) != -1) {
		switch (ch) {
		case 'F': force = 1; break;
		case 'f': confpath = optarg; break;
		case 'i': want[0] = 1; break;
		case 'm': want[1] = 1; break;
		case 'n': dry = 1; break;
		case 'r': retire = 1; break;
		case 't':
			wait_ms = bg_optsecs(ch, optarg, BG_SECS_MAX, usage);
			break;
		default:
			bg_badflag(ch, usage);
		}
	}
	if (retire && (want[0] || want[1]))
		bg_dieusage(usage, "-r runs only the retire hook: not with -i "
		    "or -m");
	if (retire) {
		want[2] = 0;
		want[3] = 1;
	}
	color = bg_color_operand(argc, argv, usage);
	bg_catch_signals();

	confpath = bg_conf_path(confpath);
	/* as root, trusted and read from the checked descriptor */
	bg_conf_load_fd(bg_conf_open(confpath), confpath, BGK(K_URL) |
	    BGK(K_HOST_HEADER) | BGK(K_BLUE) | BGK(K_GREEN) | BGK(K_HEALTH) |
	    BGK(K_TIMEOUT) | BGK(K_HOOKS) | BGK(K_APP) | BGK(K_LOCK) |
	    (retire ? BGK(K_LINGER) : 0), &c);
	bg_conf_need(&c, BGK(K_URL) | BGK(K_BLUE) | BGK(K_GREEN) |
	    BGK(K_HOOKS), confpath);
	if (wait_ms < 0)
		wait_ms = c.timeout_ms;

	if (retire && c.linger_ms == BG_LINGER_OFF && !force)
		bg_die(BG_NO, "%s says linger = off: long-lived connections stay "
		    "until they end, and retiring would close them; to retire "
		    "anyway: bgstage -rF", confpath);
	check_hooks_dir(c.hooks);
	for (i = 0; i < NHOOKS; i++)
		snprintf(hooks[i], sizeof hooks[i], "%s/%s", c.hooks,
		    hook_names[i]);
	for (rc = BG_OK, i = 0; i < NHOOKS; i++)
		if (want[i] && check_hook(hooks[i], 1) != BG_OK)
			rc = BG_CONFIG;
	for (i = 0; rc == BG_OK && i < NHOOKS; i++)
		if (want[i])
			rc = check_hook(hooks[i], 2);
	if (rc != BG_OK)
		exit(rc);

	/* As root: the lock file is opened for writing, so its directory
	 * must be root's all the way up, as bgflip checks it. */
	if (geteuid() == 0 && bg_safe_dir_of("lock directory", c.lock) < 0)
		exit(BG_CONFIG);
	/* Held until we exit; the kernel drops it however we die. */
	if (dry)
		bg_warn("would take the lock %s", c.lock);
	else if ((fd = bg_lock(c.lock, -1, &holder)) < 0) {
		if (fd == BG_LOCK_BUSY && holder > 0)
			bg_die(BG_NO, "lock %s is held by pid %ld: a deploy or "
			    "switch is running", c.lock, (long)holder);
		if (fd == BG_LOCK_BUSY || fd == BG_LOCK_TIMEOUT)
			bg_die(BG_NO, "lock %s is held by another process: a "
			    "deploy or switch is running", c.lock);
		bg_diesys(BG_SYS, "cannot take the lock %s", c.lock);
	}

	live = live_color(&c);
	if (color < 0)
		color = bg_other(live);
	name = bg_color_name(color);
	if (color == live)
		bg_die(BG_NO, "%s is live: refusing to %s it (the standby "
		    "is %s)", name, retire ? "retire" : "stage",
		    bg_color_name(bg_other(live)));
	if (retire && (rc = bg_marked(&c, color)) != 0)
		bg_die(rc < 0 ? BG_SYS : BG_NO, "%s is being staged by a "
		    "deploy%s: not retiring it (its files may be half "
		    "copied)", name, rc < 0 ? " (or its mark cannot be read)" :
		    "");
	if (!force && !retire) {
		if ((inflight = bg_inflight(&c.addr[color])) < 0)
			bg_diesys(BG_SYS, "cannot count %s's connections", name);
		if (inflight > 0)
			bg_die(BG_NO, "%s still has %ld connection%s in flight; "
			    "to stage it anyway: bgstage -F %s", name, inflight,
			    inflight == 1 ? "" : "s", name);
	}

	snprintf(appdir, sizeof appdir, "%s/%s", c.app, name);
	if (stat(appdir, &st) < 0 || !S_ISDIR(st.st_mode))
		bg_die(BG_CONFIG, "%s: not a directory (make init creates it)",
		    appdir);
	bg_addr_fmt(&c.addr[color], addr, sizeof addr);
	snprintf(ebuf[0], sizeof ebuf[0], "%s", HOOK_PATH);
	snprintf(ebuf[1], sizeof ebuf[1], "BG_COLOR=%s", name);
	snprintf(ebuf[2], sizeof ebuf[2], "BG_ADDR=%s", addr);
	snprintf(ebuf[3], sizeof ebuf[3], "BG_APP_DIR=%s", appdir);
	for (i = 0; i < 4; i++)
		envp[i] = ebuf[i];
	envp[4] = NULL;

	for (i = 0; i < NHOOKS; i++) {
		if (!want[i])
			continue;
		if (dry)
			bg_warn("would run %s %s in %s with %s %s %s %s",
			    hooks[i], name, appdir, ebuf[0], ebuf[1], ebuf[2],
			    ebuf[3]);
		else
			run_hook(hooks[i], envp, appdir, name);
	}

	if (dry) {
		bg_warn("would wait up to %s for %s to answer 200",
		    secs_str(wait_ms, t, sizeof t), bg_url_fmt(&c.addr[color],
		    c.health, url, sizeof url));
		if (!retire &&
		    bg_mark_path(&c, color, mark, sizeof mark) != NULL)
			bg_warn("would remove the mark %s", mark);
	} else {
		wait_healthy(&c, color, wait_ms);
		/* retire: a mark there would be a deploy's, not ours */
		if (!retire && bg_mark_path(&c, color, mark, sizeof mark) ==
		    NULL)
			bg_die(BG_CONFIG, "%s: app path too long", confpath);
		if (!retire && (rc = clear_mark(&c, color)) == -2)
			exit(BG_CONFIG);
		if (!retire && rc < 0)
			bg_diesys(BG_SYS, "%s is healthy, but cannot remove "
			    "its being-staged mark %s", name, mark);
	}
	printf("%s\n", name);
	if (fflush(stdout) != 0 || ferror(stdout))
		bg_diesys(BG_SYS, "cannot write to stdout");
	return BG_OK;
}
