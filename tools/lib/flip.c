/* flip.c - bgflip's switch itself: change the disk, make nginx serve it,
 * verify on fresh connections, roll back, and finish or undo a flip a
 * crash interrupted. The gates before it (lock, color, mark, health,
 * consistency) are in tools/bgflip.c.
 *
 * What is live on disk: reload mode, which of blue_conf/green_conf
 * live_conf is byte-equal to; socket mode, where STATE/current points. A
 * flip is recorded (record.c) before the disk changes and the record is
 * removed only once nginx is verified to serve the new color and the
 * history line is written, so a flip killed anywhere leaves the record. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bg.h"

#define VERIFY_MS 5000		/* nginx must serve the new color by then */
#define GET_MS    2000		/* one request */
#define VERIFY_POLL_MS 2	/* between two looks while verifying */
#define N(color)  bg_color_name(color)

/* blue_conf or green_conf into f->conf[i]. As root, from the descriptor
 * the trust check opened: a file swapped in after a check by path would
 * be installed as the live conf. */
static int
read_color_conf(struct bg_flip *f, int i)
{
	char what[16], why[64];
	int fd, rc;

	snprintf(what, sizeof what, "%s_conf", N(i));
	if (geteuid() != 0)
		rc = bg_file_read(f->c->color_conf[i], 0, BG_SITE_MAX,
		    &f->conf[i], &f->conflen[i]);
	else if ((fd = bg_trusted_open(what, f->c->color_conf[i],
	    O_RDONLY)) < 0)
		return -1;	/* said why */
	else
		rc = bg_file_readfd(fd, BG_SITE_MAX, &f->conf[i],
		    &f->conflen[i]);
	if (rc < 0)
		bg_warn("cannot use %s %s: %s", what, f->c->color_conf[i],
		    bg_file_why(errno, BG_SITE_MAX, why, sizeof why));
	return rc;
}

int
bg_flip_init(struct bg_flip *f, const struct bg_conf *c)
{
	char where[BG_PATH_MAX + 300];
	int i;

	memset(f, 0, sizeof *f);
	f->c = c;
	f->ng.pidfd = -1;
	snprintf(f->url, sizeof f->url, "nginx at %s",
	    bg_url_fmt(&c->url.addr, c->url.path, where, sizeof where));
	if (c->mode != BG_MODE_RELOAD)
		return 0;
	for (i = 0; i < 2; i++)
		if (read_color_conf(f, i) < 0)
			return -1;
	if (f->conflen[0] == f->conflen[1] &&
	    memcmp(f->conf[0], f->conf[1], f->conflen[0]) == 0) {
		bg_warn("blue_conf and green_conf are identical: regenerate one "
		    "from the other with bgswapconf");
		return -1;
	}
	return 0;
}

int
bg_flip_served(struct bg_flip *f, long long deadline, char *why, size_t len)
{
	int color;

	if (bg_live_color(&f->c->url, bg_conf_host(f->c), deadline, &color,
	    why, len) != 0)
		return -1;
	return color;
}

int
bg_flip_healthy(struct bg_flip *f, int color, char *why, size_t len)
{
	struct bg_reply r;

	if (bg_http_get(&f->c->addr[color], f->c->health, bg_conf_host(f->c),
	    bg_now_ms() + GET_MS, 1, &r) != 0) {
		snprintf(why, len, "%s", r.err);
		return 0;
	}
	snprintf(why, len, "GET %.200s answered %d", f->c->health, r.status);
	return r.status == 200;
}

/* Port mode: where STATE/current points, when the nft table agrees;
 * BG_LIVE_SPLIT (said how) when it does not. A fresh state (no current)
 * takes the table as it is: the first flip rewrites it. */
static int
port_disk(struct bg_flip *f)
{
	int cur, got;

	if ((cur = bg_current_get(f->c)) == BG_LIVE_BAD)
		return BG_LIVE_BAD;
	if (bg_nft_read(f->c, &got, NULL) != 0)
		return BG_LIVE_UNREAD;
	/* -n: a table that is gone is one bgflip would restore */
	if (got == cur || cur == BG_LIVE_NONE || (got == -1 && f->dry))
		return cur;
	bg_warn("nft table inet %s sends live_addr to %s but %s/current says "
	    "%s", f->c->nft_table, got == -1 ? "nothing" : got == -2 ?
	    "neither color alone (an edit by hand?)" : N(got), f->c->state,
	    N(cur));
	return BG_LIVE_SPLIT;
}

int
bg_flip_disk(struct bg_flip *f)
{
	size_t n;
	char *b, why[64];
	int color = BG_LIVE_BAD;

	if (f->c->mode == BG_MODE_SOCKET)
		return bg_current_get(f->c);
	if (f->c->mode == BG_MODE_PORT)
		return port_disk(f);
	if (bg_file_read(f->c->live_conf, 1, BG_SITE_MAX, &b, &n) < 0) {
		bg_warn("cannot use live_conf %s: %s", f->c->live_conf,
		    bg_file_why(errno, BG_SITE_MAX, why, sizeof why));
		return BG_LIVE_UNREAD;
	}
	if (n == f->conflen[BG_BLUE] && memcmp(b, f->conf[BG_BLUE], n) == 0)
		color = BG_BLUE;
	else if (n == f->conflen[BG_GREEN] &&
	    memcmp(b, f->conf[BG_GREEN], n) == 0)
		color = BG_GREEN;
	free(b);
	return color;
}

static int
set_disk(struct bg_flip *f, int color)
{
	int cur;

	if (f->c->mode == BG_MODE_SOCKET)
		return bg_current_set(f->c, color);
	if (f->c->mode == BG_MODE_PORT) {
		/* The table first (one transaction: all or nothing), then
		 * /bg; the crash record covers the step between. */
		if (bg_nft_apply(f->c, color) < 0)
			return -1;
		if (bg_current_set(f->c, color) == 0)
			return 0;
		/* Never leave the two apart: the table follows current. */
		if ((cur = bg_current_get(f->c)) != BG_LIVE_BAD && cur != color)
			bg_nft_apply(f->c, cur);
		return -1;
	}
	return bg_atomic_write(f->c->live_conf, f->conf[color],
	    f->conflen[color], -1);
}

/* Until VERIFY_MS: every worker of the old generation gone or shutting
 * down (after a HUP), and url answering color on a fresh connection. Both:
 * for a moment after a HUP both generations accept. */
static int
verify(struct bg_flip *f, int color, int hupped)
{
	long long deadline = bg_now_ms() + VERIFY_MS, d;
	char why[400] = "";
	int got;

	for (;;) {
		if (hupped && !bg_nginx_alive(&f->ng)) {
			bg_warn("nginx master %d died", (int)f->ng.pid);
			return -1;
		}
		if (hupped && !bg_nginx_settled(&f->ng))
			snprintf(why, sizeof why, "nginx's old workers still "
			    "accept: the reload did not take (see nginx's "
			    "error log)");
		else {
			d = bg_now_ms() + GET_MS;
			got = bg_flip_served(f, d < deadline ? d : deadline,
			    why, sizeof why);
			if (got == color)
				return 0;
			if (got >= 0)
				snprintf(why, sizeof why, "it serves %s", N(got));
		}
		if (bg_now_ms() >= deadline)
			break;
		/* nginx's own pace sets the end (its master waits ~100 ms
		 * before it retires the old workers): look often */
		bg_sleep_ms(VERIFY_POLL_MS);
	}
	bg_warn("%s does not serve %s after %d s: %s", f->url, N(color),
	    VERIFY_MS / 1000, why);
	return -1;
}

/* Make nginx serve what the disk now says: 0; BG_CONFIG or BG_SYS when
 * nginx -t refused or could not run (nothing signalled); -1 verification
 * failed; -2 the master is gone. */
static int
apply(struct bg_flip *f, int color)
{
	int rc;

	if (f->c->mode == BG_MODE_SOCKET)
		return verify(f, color, 0);
	if (f->c->mode == BG_MODE_PORT) {
		if ((rc = verify(f, color, 0)) != 0)
			return rc;
		/* /bg is from state/current: the table must say the same */
		return bg_flip_disk(f) == color ? 0 : -1;
	}
	if ((rc = bg_nginx_test(f->c)) != 0)
		return rc;
	bg_trace("nginx -t");
	if (bg_nginx_hup(&f->ng) < 0)
		return -2;
	bg_trace("SIGHUP");
	return verify(f, color, 1);
}

static int
logged(struct bg_flip *f, const struct bg_record *rec)
{
	/* The flip stands even when the log cannot be written: exiting
	 * non-zero would make a retry flip back. Say so and go on. */
	if (!bg_history_last(f->c->log, rec->line) &&
	    bg_history_append(f->c->log, rec->line) < 0)
		bg_warn("%s is live, but its history line is missing from %s",
		    N(rec->to), f->c->log);
	bg_trace("history append (fsync)");
	if (bg_record_remove(f->c) < 0)
		bg_warn("the next bgflip will find the crash record and see "
		    "that the flip to %s is complete", N(rec->to));
	bg_trace("crash record removed");
	return 0;
}

/* Put rec->from back after a failed flip: 6, or 7 when that fails. */
static int
roll_back(struct bg_flip *f, const struct bg_record *rec, int why)
{
	int from = rec->from;

	if (set_disk(f, from) < 0) {
		bg_warn("cannot put %s back on disk: nginx may serve either "
		    "color; the crash record stays for the next bgflip",
		    from < 0 ? "the fresh state" : N(from));
		return BG_HUMAN;
	}
	if (from < 0) {
		bg_record_remove(f->c);
		return BG_ROLLED;
	}
	/* The record stays until nginx is confirmed to serve from again:
	 * killed before that, the next bgflip must still know. */
	if (why == -2 || apply(f, from) != 0) {
		if (f->c->mode == BG_MODE_RELOAD)
			bg_warn("rollback failed: live_conf is %s's again, but "
			    "nginx (master %d, %s) is not confirmed to serve "
			    "it: read nginx's error log, start or reload nginx, "
			    "check with bgcolor, then run bgflip again", N(from),
			    (int)f->ng.pid,
			    bg_nginx_alive(&f->ng) ? "running" : "gone");
		else
			bg_warn("rollback failed: %s/current points at %s "
			    "again, but nginx does not serve it%s: check nginx "
			    "and its site config", f->c->state, N(from),
			    f->c->mode == BG_MODE_PORT ? ", or the nft table "
			    "does not say it" : "");
		return BG_HUMAN;
	}
	bg_record_remove(f->c);
	bg_warn("rolled back: %s is live again", N(from));
	return BG_ROLLED;
}

int
bg_flip_run(struct bg_flip *f, const struct bg_record *rec)
{
	int rc;

	if (bg_record_write(f->c, rec) < 0) {
		/* When only the directory sync failed the record is in place:
		 * left there, the next bgflip would finish a flip this one
		 * reported as not done. */
		bg_record_remove(f->c);
		return BG_SYS;
	}
	bg_trace("crash record (write, fsync, fsync dir)");
	if (set_disk(f, rec->to) < 0) {
		/* Usually the rename did not happen; if only the directory
		 * fsync failed, it did, and nginx still serves the old. */
		if (bg_flip_disk(f) == rec->from) {
			bg_record_remove(f->c);
			return BG_SYS;
		}
		return roll_back(f, rec, 0);
	}
	bg_trace("switch (rename, fsyncs)");
	if ((rc = apply(f, rec->to)) == 0) {
		bg_trace("verification GETs");
		return logged(f, rec);
	}
	if (rc > 0) {	/* nginx -t refused: nothing was signalled */
		if (set_disk(f, rec->from) < 0)
			return BG_HUMAN;
		bg_record_remove(f->c);
		return rc;
	}
	bg_warn("the switch to %s failed; rolling back", N(rec->to));
	return roll_back(f, rec, rc);
}

int
bg_flip_recover(struct bg_flip *f, int *live)
{
	struct bg_record rec;
	char why[400];
	int k, ok;

	if ((k = bg_record_read(f->c, &rec)) <= 0)
		return k < 0 ? BG_CONFIG : 0;
	if (rec.mode != f->c->mode) {
		bg_warn("the crash record is for %s mode; remove it by hand "
		    "once disk and nginx agree", rec.mode == BG_MODE_PORT ?
		    "port" : rec.mode ? "socket" : "reload");
		return BG_CONFIG;
	}
	/* Finish only what would pass the checks again: the being-staged
	 * mark and health here, nginx -t in apply(). A color a deploy is
	 * rewriting is never made live, not even to finish a flip. */
	if ((k = bg_marked(f->c, rec.to)) != 0) {
		ok = 0;
		snprintf(why, sizeof why, k > 0 ? "%s is being staged" :
		    "cannot tell whether %s is being staged", N(rec.to));
	} else
		ok = bg_flip_healthy(f, rec.to, why, sizeof why);
	bg_warn("found an interrupted flip from %s to %s; %s it%s%s",
	    rec.from < 0 ? "nothing" : N(rec.from), N(rec.to),
	    f->dry ? (ok ? "would finish" : "would undo") :
	    (ok ? "finishing" : "undoing"), ok ? "" : ": ", ok ? "" : why);
	*live = ok ? rec.to : rec.from;
	if (f->dry)
		return 0;
	if (ok && set_disk(f, rec.to) == 0 && ((f->c->mode != BG_MODE_PORT &&
	    bg_flip_served(f, bg_now_ms() + GET_MS, why, sizeof why) ==
	    rec.to) || apply(f, rec.to) == 0))
		return logged(f, &rec);
	*live = rec.from;
	if (set_disk(f, rec.from) < 0)
		return BG_HUMAN;
	if (rec.from >= 0 && (f->c->mode == BG_MODE_PORT ||
	    bg_flip_served(f, bg_now_ms() + GET_MS, why, sizeof why) !=
	    rec.from) && apply(f, rec.from) != 0) {
		bg_warn("cannot undo the interrupted flip: the disk says %s, "
		    "but nginx does not serve it; check nginx's error log",
		    N(rec.from));
		return BG_HUMAN;
	}
	bg_record_remove(f->c);
	return 0;
}
