/* bgflip - make the standby live: one atomic step, verified, undoable.
 *
 * Run as root through sudo. Under the lock: finish or undo a flip a crash
 * interrupted (the record next to the lock), pick the color, refuse one
 * being staged or unhealthy, check that nginx serves what the disk says,
 * then flip (reload: replace live_conf, nginx -t, SIGHUP; socket: rename
 * STATE/current), verify on fresh connections, roll back when that fails,
 * log. Every signal disposition starts at its default (bg_setprog), and
 * every signal that could end us (sudo relays the caller's USR1, ALRM...)
 * is held from the lock on, so a signal never leaves a half state; SIGKILL
 * is what the crash record is for. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bg.h"

#define GET_MS    2000		/* one request */
#define N(color)  bg_color_name(color)
/* run's live before it asks the disk: no crash record was recovered (the
 * BG_LIVE_* values bg_flip_disk returns are -1 to -4) */
#define LIVE_UNKNOWN (-5)

static const char usage[] = "bgflip [-Fn] [-f conf] [-w secs] [COLOR]\n"
    "       bgflip -V";

/* One run of bgflip: what setup read, what run works on. */
struct flip {
	struct bg_conf c;
	struct bg_flip fl;
	char user[64];	/* who asked, for the history line */
	int force;	/* -F: flip to an unhealthy color */
};

static void
hint(const struct bg_conf *c, int live, int got)
{
	if (c->mode != BG_MODE_RELOAD)
		bg_warn("nginx serves %s but %s/current says %s: does nginx's "
		    "site config use this state directory?", N(got), c->state,
		    N(live));
	else if (live < 0)
		bg_warn("live_conf %s is neither blue_conf nor green_conf (an "
		    "edit, or new templates): copy the one nginx serves (%s) "
		    "over it, or check and reload by hand", c->live_conf,
		    N(got));
	else
		bg_warn("nginx serves %s but live_conf %s is %s's (edited, not "
		    "reloaded): if the file is right, nginx -t and nginx -s "
		    "reload; else copy %s's file back over it", N(got),
		    c->live_conf, N(live), N(got));
}

/* Port mode: a table that is gone (a reboot, nft flush ruleset) is put
 * back as STATE/current says, and one whose chains translate elsewhere
 * than the config says is written again, as socket mode's views are; a
 * table of that name that is not ours is refused. */
static int
port_sync(struct flip *b)
{
	const struct bg_conf *c = &b->c;
	int rc, got, cur, stale;

	if ((rc = bg_nft_read(c, &got, &stale)) != 0)
		return rc;
	if ((got != -1 && !stale) || (cur = bg_current_get(c)) < 0 ||
	    (got != -1 && got != cur))
		return 0;
	if (got == -1)
		bg_warn("%s nft table inet %s for %s, as %s/current says: it "
		    "maps nothing (after a reboot, or a flush of the whole "
		    "ruleset)", b->fl.dry ? "would restore" : "restoring",
		    c->nft_table, N(cur), c->state);
	else
		bg_warn("%s nft table inet %s for %s: its chains do not "
		    "translate to blue and green as the config says",
		    b->fl.dry ? "would rewrite" : "rewriting", c->nft_table,
		    N(cur));
	if (b->fl.dry)
		return 0;
	return bg_nft_apply(c, cur) < 0 ? BG_SYS : 0;
}

static int
run(struct flip *b, int want, long long wait)
{
	const struct bg_conf *c = &b->c;
	struct bg_flip *fl = &b->fl;
	struct bg_record rec;
	char why[400], rev[80];
	sigset_t hold;
	pid_t holder;
	int fd, rc, live = LIVE_UNKNOWN, to, got, pending;

	fd = bg_lock(c->lock, wait, &holder);
	if (fd == BG_LOCK_BUSY || fd == BG_LOCK_TIMEOUT) {
		if (holder > 0)
			snprintf(why, sizeof why, "pid %d", (int)holder);
		else
			snprintf(why, sizeof why, "another process");
		if (fd == BG_LOCK_TIMEOUT)
			bg_die(BG_TIMEOUT, "lock %s still held by %s after -w",
			    c->lock, why);
		bg_die(BG_NO, "lock %s is busy: held by %s (a deploy or "
		    "another bgflip; to wait for it: -w SECS)", c->lock, why);
	}
	if (fd < 0)
		bg_diesys(BG_SYS, "cannot take lock %s", c->lock);
	bg_trace("lock");
	/* Everything catchable; a fault (SEGV...) still kills us, as it
	 * must. Held until exit: the flip is done or undone by then. */
	sigfillset(&hold);
	sigprocmask(SIG_BLOCK, &hold, NULL);

	if (c->mode == BG_MODE_RELOAD &&
	    (rc = bg_nginx_master(c, &fl->ng)) != 0)
		return rc;
	if (c->mode == BG_MODE_PORT && (rc = port_sync(b)) != 0)
		return rc;
	if (c->mode != BG_MODE_RELOAD && (rc = bg_views_sync(c, fl->dry)) != 0)
		return rc;
	if ((rc = bg_flip_recover(fl, &live)) != 0)
		return rc;
	bg_trace("views, crash record checked");
	/* Finished or undone an interrupted flip and asked for no color:
	 * that was the job. Going on would flip back what a re-run of
	 * make switch after a crash asked for. */
	if (live >= 0 && want < 0) {
		bg_warn("%s is live; stopping here (to flip: bgflip %s)",
		    N(live), N(bg_other(live)));
		printf("%s\n", N(live));
		return 0;
	}
	/* -n: a pending record's outcome is predicted, not on disk yet */
	pending = live != LIVE_UNKNOWN && fl->dry;
	if (!pending)
		live = bg_flip_disk(fl);
	if (live == BG_LIVE_UNREAD ||
	    (live == BG_LIVE_BAD && c->mode != BG_MODE_RELOAD))
		return BG_CONFIG;
	if (live == BG_LIVE_SPLIT) {	/* port: the table and current disagree */
		/* Production goes where the table says: keep it there while
		 * current catches up, then flip with every check. */
		if (bg_nft_read(c, &got, NULL) == 0 && got >= 0 &&
		    (live = bg_current_get(c)) >= 0 && live != got)
			bg_warn("production goes to %s: to keep it there, ln "
			    "-sfn %s %s/current; then bgflip %s if %s is the "
			    "one to make live", N(got), N(got), c->state,
			    N(live), N(live));
		else if ((live = bg_current_get(c)) >= 0)
			bg_warn("to make the table say what %s/current says: "
			    "rm %s/current && bgflip %s (nft list map inet "
			    "%s colors shows what the table says)", c->state,
			    c->state, N(live), c->nft_table);
		return BG_NO;
	}
	if (live == BG_LIVE_NONE && want < 0) {
		bg_warn("no live color yet (%s/current is missing): name the "
		    "one to make live: bgflip blue", c->state);
		return BG_USAGE;
	}
	/* BG_LIVE_BAD (neither file): no color to pick, the next check
	 * fails */
	to = want >= 0 ? want : live >= 0 ? bg_other(live) : -1;
	if (to >= 0 && to != live) {
		if ((rc = bg_marked(c, to)) < 0)
			bg_diesys(BG_SYS, "cannot check whether %s is being "
			    "staged", N(to));
		if (rc > 0)
			bg_die(BG_NO, "%s is being staged: finish or re-run "
			    "make deploy", N(to));
		if (!bg_flip_healthy(fl, to, why, sizeof why)) {
			if (!b->force)
				bg_die(BG_NO, "%s is not healthy (%s); to flip "
				    "anyway: bgflip -F %s", N(to), why, N(to));
			bg_warn("%s is not healthy (%s); flipping anyway",
			    N(to), why);
		}
		bg_trace("mark, health GET");
	}
	if (live != BG_LIVE_NONE) {	/* a fresh state has no /bg to ask */
		got = bg_flip_served(fl, bg_now_ms() + GET_MS, why, sizeof why);
		if (got < 0) {
			bg_warn("cannot tell what nginx serves: %s", why);
			return BG_SYS;
		}
		if (got != live && !pending) {
			hint(c, live, got);
			return BG_NO;
		}
		bg_trace("consistency GET");
	}
	if (to == live) {
		bg_warn("%s is already live; nothing to do", N(to));
		printf("%s\n", N(to));
		return 0;
	}
	if (fl->dry) {
		bg_warn("would flip %s to %s: %s is not being staged and is "
		    "healthy; nginx serves what the disk says", live < 0 ?
		    "nothing" : N(live), N(to), N(to));
		if (c->mode == BG_MODE_RELOAD)
			bg_warn("would copy %s over %s, run nginx -t, send "
			    "SIGHUP to nginx master %d", c->color_conf[to],
			    c->live_conf, (int)fl->ng.pid);
		else if (c->mode == BG_MODE_PORT)
			bg_warn("would switch nft table inet %s to %s in one "
			    "nft -f transaction, then point %s/current at it",
			    c->nft_table, N(to), c->state);
		else
			bg_warn("would point %s/current at %s", c->state,
			    N(to));
		bg_warn("would wait until %s serves %s on new connections, "
		    "then append a line to %s", fl->url, N(to), c->log);
		printf("%s\n", N(to));
		return 0;
	}
	rec.mode = c->mode;
	rec.from = live;
	rec.to = to;
	bg_revision(c, to, rev, sizeof rev);
	if (bg_history_line(rec.line, sizeof rec.line, time(NULL), live, to,
	    b->user, rev) < 0)
		bg_die(BG_SYS, "cannot format the history line");
	if ((rc = bg_flip_run(fl, &rec)) == 0)
		printf("%s\n", N(to));
	return rc;
}

/* Port mode: addresses nft can translate, an nft to run and trust. */
static void
port_setup(const struct bg_conf *c, const char *path)
{
	char why[300];
	struct stat st;

	if (bg_nft_conf_check(c, why, sizeof why) < 0)
		bg_die(BG_CONFIG, "%s: %s", path, why);
	if (stat(c->nft, &st) < 0)
		bg_diesys(BG_CONFIG, "nft %s (port mode runs it; key nft)",
		    c->nft);
	if (!S_ISREG(st.st_mode) || access(c->nft, X_OK) < 0)
		bg_die(BG_CONFIG, "nft %s is not an executable file (port mode "
		    "runs it; key nft)", c->nft);
	/* the same trust rule as for the nginx binary */
	if (geteuid() == 0 && bg_safe_path("nft binary", c->nft, 0) < 0)
		exit(BG_CONFIG);
}

/* The environment is the caller's: read what is needed from it, then
 * drop it. As root, trust no path that others could change. */
static void
setup(struct flip *b, const char *fopt)
{
	struct bg_conf *c = &b->c;
	static char path[BG_PATH_MAX];
	const char *env = getenv("BG_CONF");
	struct stat st;
	int root = geteuid() == 0;

	if (getenv("SUDO_UID") != NULL && ((fopt != NULL &&
	    strcmp(fopt, BG_CONF_DEFAULT) != 0) || (fopt == NULL &&
	    env != NULL && *env != '\0' && strcmp(env, BG_CONF_DEFAULT) != 0)))
		bg_die(BG_CONFIG, "under sudo the config is %s: -f and "
		    "BG_CONF are refused", BG_CONF_DEFAULT);
	if (snprintf(path, sizeof path, "%s", bg_conf_path(fopt)) >=
	    (int)sizeof path)
		bg_die(BG_CONFIG, "config path too long");
	bg_invoker(b->user, sizeof b->user);
	clearenv();
	umask(022);
	signal(SIGPIPE, SIG_IGN);
	/* As root: read the very descriptor that was checked. */
	bg_conf_load_fd(bg_conf_open(path), path, BGK(K_MODE) | BGK(K_URL) |
	    BGK(K_HOST_HEADER) | BGK(K_BLUE) | BGK(K_GREEN) | BGK(K_HEALTH) |
	    BGK(K_APP) | BGK(K_LOCK) | BGK(K_LOG) | BGK(K_NGINX) |
	    BGK(K_NGINX_PREFIX) | BGK(K_NGINX_CONF) | BGK(K_NGINX_PID) |
	    BGK(K_LIVE_CONF) | BGK(K_BLUE_CONF) | BGK(K_GREEN_CONF) |
	    BGK(K_STATE) | BGK(K_LIVE_ADDR) | BGK(K_STAGING_ADDR) |
	    BGK(K_NFT) | BGK(K_NFT_TABLE), c);
	bg_conf_need(c, BGK(K_URL) | BGK(K_BLUE) | BGK(K_GREEN) |
	    (c->mode == BG_MODE_RELOAD ? BGK(K_LIVE_CONF) | BGK(K_BLUE_CONF) |
	    BGK(K_GREEN_CONF) : 0) | (c->mode == BG_MODE_PORT ?
	    BGK(K_LIVE_ADDR) | BGK(K_STAGING_ADDR) : 0), path);
	if (root && (bg_safe_dir_of("lock directory", c->lock) < 0 ||
	    bg_safe_dir_of("log directory", c->log) < 0))
		exit(BG_CONFIG);
	if (c->mode == BG_MODE_PORT)
		port_setup(c, path);
	if (c->mode != BG_MODE_RELOAD) {
		if (c->mode == BG_MODE_SOCKET && (!c->addr[BG_BLUE].is_unix ||
		    !c->addr[BG_GREEN].is_unix))
			bg_die(BG_CONFIG, "%s: socket mode needs unix: "
			    "addresses for blue and green", path);
		if (lstat(c->state, &st) < 0)
			bg_diesys(BG_CONFIG, "state directory %s", c->state);
		if (!S_ISDIR(st.st_mode))
			bg_die(BG_CONFIG, "state %s is not a directory (a "
			    "symlink?)", c->state);
		if (root && bg_safe_path("state directory", c->state, 1) < 0)
			exit(BG_CONFIG);
		bg_flip_init(&b->fl, c);
		return;
	}
	if (lstat(c->live_conf, &st) < 0)
		bg_diesys(BG_CONFIG, "live_conf %s", c->live_conf);
	if (!S_ISREG(st.st_mode))
		bg_die(BG_CONFIG, "live_conf %s is not a regular file (a "
		    "symlink?): bgflip replaces it by rename", c->live_conf);
	/* blue_conf and green_conf: checked as they are read (flip.c) */
	if (root && (bg_safe_path("live_conf", c->live_conf, 0) < 0 ||
	    bg_safe_path("nginx binary", c->nginx, 0) < 0 ||
	    (c->nginx_conf[0] != '\0' &&
	    bg_safe_path("nginx_conf", c->nginx_conf, 0) < 0) ||
	    (c->nginx_prefix[0] != '\0' &&
	    bg_safe_path("nginx_prefix", c->nginx_prefix, 1) < 0) ||
	    bg_safe_dir_of("nginx_pid directory", c->nginx_pid) < 0))
		exit(BG_CONFIG);
	if (bg_flip_init(&b->fl, c) < 0)
		exit(BG_CONFIG);
}

int
main(int argc, char **argv)
{
	const char *fopt = NULL;
	long long wait = -1;
	int ch, want = -1, rc;
	int force = 0, dry = 0;
	struct flip b;

	bg_setprog(argv[0]);
	bg_trace_init();	/* before setup() drops the environment */
	bg_help(argc, argv, usage);
	while ((ch = getopt(argc, argv, "Ff:nw:")) != -1) {
		switch (ch) {
		case 'F':
			force = 1;
			break;
		case 'f':
			fopt = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'w':
			wait = bg_optsecs(ch, optarg, BG_SECS_MAX, usage);
			break;
		default:
			bg_badflag(ch, usage);
		}
	}
	want = bg_color_operand(argc, argv, usage);
	memset(&b, 0, sizeof b);
	b.force = force;
	setup(&b, fopt);
	bg_trace("config, checks");
	b.fl.dry = dry;
	rc = run(&b, want, wait);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		bg_warnsys("cannot write to stdout");
		if (rc == 0)
			rc = BG_SYS;
	}
	free(b.fl.conf[BG_BLUE]);
	free(b.fl.conf[BG_GREEN]);
	return rc;
}
