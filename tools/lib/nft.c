/* nft.c - port mode's nftables table: which instance port the fixed
 * loopback addresses nginx proxies to (live_addr, staging_addr) reach.
 *
 *	table inet bg {
 *		comment "bg: ..."			the marker: ours
 *		map colors {
 *			type ipv4_addr . inet_service : verdict
 *			elements = { 127.0.0.1 . 9001 : goto blue,
 *				     127.0.0.1 . 9002 : goto green }
 *		}
 *		chain blue { meta l4proto tcp dnat ip to 127.0.0.1:8001 }
 *		chain green { meta l4proto tcp dnat ip to 127.0.0.1:8002 }
 *		chain output {
 *			type nat hook output priority -100; policy accept;
 *			meta l4proto tcp ip daddr . tcp dport vmap @colors
 *		}
 *	}
 *
 * As kube-proxy does for Service addresses: a verdict map from the front
 * address to a chain that translates to one instance. A flip rewrites the
 * whole table's contents in ONE `nft -f` transaction (the kernel applies
 * it all or nothing); connections already open keep their translation in
 * conntrack, so none is cut. Only this table is ever named: the host's
 * firewall (ufw, firewalld, iptables-nft) is left as it is. The ruleset
 * text and the reading of `nft list` are pure functions, for tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bg.h"

#define NFT_MS   10000		/* one nft run */
#define OUT_MAX  65536		/* what we read of nft's output */

/* The canonical text of a numeric address (as nft prints it) and its
 * family: AF_INET, AF_INET6, or -1. */
static int
canon(const char *host, char *out, size_t len)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, host, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)len) ? AF_INET : -1;
	if (inet_pton(AF_INET6, host, a) == 1)
		return inet_ntop(AF_INET6, a, out, (socklen_t)len) ? AF_INET6 :
		    -1;
	return -1;
}

static int
loopback(const char *host)
{
	unsigned char a[16];
	static const unsigned char one[16] = { [15] = 1 };

	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	return inet_pton(AF_INET6, host, a) == 1 && memcmp(a, one, 16) == 0;
}

int
bg_nft_conf_check(const struct bg_conf *c, char *why, size_t len)
{
	const struct bg_addr *a[4] = { &c->live_addr, &c->staging_addr,
	    &c->addr[BG_BLUE], &c->addr[BG_GREEN] };
	static const char *const name[4] = { "live_addr", "staging_addr",
	    "blue", "green" };
	char t[2][64];
	int i, j, fam = 0, f;

	for (i = 0; i < 4; i++) {
		if (a[i]->is_unix) {
			snprintf(why, len, "%s must be a loopback TCP address "
			    "in port mode, not unix:", name[i]);
			return -1;
		}
		if ((f = canon(a[i]->host, t[0], sizeof t[0])) < 0 ||
		    !loopback(a[i]->host)) {
			snprintf(why, len, "%s must be a numeric loopback "
			    "address (127.0.0.0/8 or [::1]) in port mode",
			    name[i]);
			return -1;
		}
		if (i > 0 && f != fam) {
			snprintf(why, len, "%s is not of the same family as "
			    "live_addr: blue, green, live_addr and staging_addr "
			    "are all IPv4 or all [::1] (nft translates "
			    "within one family)", name[i]);
			return -1;
		}
		fam = f;
	}
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++) {
			canon(a[i]->host, t[0], sizeof t[0]);
			canon(a[j]->host, t[1], sizeof t[1]);
			if (a[i]->port == a[j]->port && strcmp(t[0], t[1]) == 0) {
				snprintf(why, len, "%s and %s are the same "
				    "address", name[i], name[j]);
				return -1;
			}
		}
	return 0;
}

/* "127.0.0.1 . 9001", as nft lists a map key. */
static void
key(const struct bg_addr *a, char *buf, size_t len)
{
	char h[64];

	canon(a->host, h, sizeof h);
	snprintf(buf, len, "%s . %u", h, a->port);
}

int
bg_nft_ruleset(const struct bg_conf *c, int color, char *buf, size_t len)
{
	const char *t = c->nft_table, *ip;
	char h[2][64], k[2][80];
	int fam, n, i;

	if ((fam = canon(c->live_addr.host, h[0], sizeof h[0])) < 0)
		return -1;
	ip = fam == AF_INET ? "ip" : "ip6";
	n = snprintf(buf, len,
	    "add table inet %s { comment \"%s\" ; }\n"
	    "add chain inet %s blue\n"
	    "add chain inet %s green\n"
	    "add chain inet %s output { type nat hook output priority -100 ; "
	    "policy accept ; }\n"
	    "add map inet %s colors { type %s_addr . inet_service : verdict ; }\n"
	    "flush chain inet %s output\n"
	    "flush chain inet %s blue\n"
	    "flush chain inet %s green\n"
	    "flush map inet %s colors\n",
	    t, BG_NFT_MARK, t, t, t, t, fam == AF_INET ? "ipv4" : "ipv6",
	    t, t, t, t);
	for (i = 0; i < 2 && n >= 0 && (size_t)n < len; i++) {
		canon(c->addr[i].host, h[1], sizeof h[1]);
		n += snprintf(buf + n, len - (size_t)n, "add rule inet %s %s "
		    "meta l4proto tcp dnat %s to %s%s%s:%u\n", t,
		    bg_color_name(i), ip, fam == AF_INET ? "" : "[", h[1],
		    fam == AF_INET ? "" : "]", c->addr[i].port);
	}
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, "add rule inet %s output "
		    "meta l4proto tcp %s daddr . tcp dport vmap @colors\n", t, ip);
	if (color >= 0 && n >= 0 && (size_t)n < len) {
		key(&c->live_addr, k[0], sizeof k[0]);
		key(&c->staging_addr, k[1], sizeof k[1]);
		n += snprintf(buf + n, len - (size_t)n, "add element inet %s "
		    "colors { %s : goto %s , %s : goto %s }\n", t, k[0],
		    bg_color_name(color), k[1], bg_color_name(bg_other(color)));
	}
	if (n < 0 || (size_t)n >= len)
		return -1;
	return n;
}

/* The next line of s[0..n) from *i, without its '\n' and with leading
 * and trailing blanks cut: 0 at the end. */
static int
line(const char *s, size_t n, size_t *i, const char **l, size_t *ln)
{
	size_t a, b;

	if (*i >= n)
		return 0;
	a = *i;
	for (b = a; b < n && s[b] != '\n'; b++)
		;
	*i = b < n ? b + 1 : b;
	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' ||
	    s[b - 1] == '\r'))
		b--;
	*l = s + a;
	*ln = b - a;
	return 1;
}

static int
is(const char *l, size_t ln, const char *w)
{
	return ln == strlen(w) && memcmp(l, w, ln) == 0;
}

int
bg_nft_listed(const char *s, size_t n, const char *table)
{
	char want[64];
	const char *l;
	size_t i = 0, ln;

	snprintf(want, sizeof want, "table inet %s", table);
	while (line(s, n, &i, &l, &ln))
		if (is(l, ln, want))
			return 1;
	return 0;
}

/* One element "KEY : goto COLOR" with blanks squeezed, against the keys:
 * 0 live, 1 staging, -1 another; *color set. */
static int
element(const char *e, size_t n, const char k[2][80], int *color)
{
	char sq[200];
	size_t i, m = 0;
	const char *g;
	int which;

	for (i = 0; i < n && m < sizeof sq - 1; i++) {
		/* nft folds the list only after a comma */
		if (e[i] == '\n' && m > 0)
			return -1;
		if (e[i] == ' ' || e[i] == '\t' || e[i] == '\n') {
			if (m > 0 && sq[m - 1] != ' ')
				sq[m++] = ' ';
		} else
			sq[m++] = e[i];
	}
	if (i < n)
		return -1;	/* longer than any element of ours */
	while (m > 0 && sq[m - 1] == ' ')
		m--;
	sq[m] = '\0';
	if ((g = strstr(sq, " : goto ")) == NULL)
		return -1;
	if ((*color = bg_color_parse(g + 8, strlen(g + 8))) < 0)
		return -1;
	for (which = 0; which < 2; which++)
		if ((size_t)(g - sq) == strlen(k[which]) &&
		    memcmp(sq, k[which], strlen(k[which])) == 0)
			return which;
	return -1;
}

int
bg_nft_parse(const char *s, size_t n, const struct bg_conf *c, int *color)
{
	char head[64], mark[128], k[2][80];
	const char *l, *e, *end;
	size_t i = 0, ln, j;
	int got[2] = { -1, -1 }, map = 0, output = 0, marked = 0, other = 0;
	int which, col, in_map = 0;

	snprintf(head, sizeof head, "table inet %s {", c->nft_table);
	snprintf(mark, sizeof mark, "comment \"%s\"", BG_NFT_MARK);
	key(&c->live_addr, k[0], sizeof k[0]);
	key(&c->staging_addr, k[1], sizeof k[1]);
	if (!line(s, n, &i, &l, &ln) || !is(l, ln, head))
		return 0;
	while (line(s, n, &i, &l, &ln)) {
		if (is(l, ln, mark))
			marked = 1;
		else if (is(l, ln, "map colors {"))
			map = in_map = 1;
		else if (is(l, ln, "chain output {"))
			output = 1;
		else if (in_map && is(l, ln, "}"))
			in_map = 0;
		else if (in_map && ln > 12 && memcmp(l, "elements = {", 12) == 0) {
			/* to the closing brace, over as many lines as nft
			 * folds the elements into */
			e = l + 12;
			end = memchr(e, '}', (size_t)(s + n - e));
			if (end == NULL)
				return 0;
			i = (size_t)(end - s) + 1;
			while (e < end) {
				for (j = 0; e + j < end && e[j] != ','; j++)
					;
				which = element(e, j, k, &col);
				if (which < 0 || got[which] >= 0)
					other = 1;
				else
					got[which] = col;
				e += j + (e + j < end);
			}
		}
	}
	if (!marked || !map || !output)
		return 0;
	if (!other && got[0] < 0 && got[1] < 0)
		*color = -1;
	else if (!other && got[0] >= 0 && got[1] == bg_other(got[0]))
		*color = got[0];
	else
		*color = -2;
	return 1;
}

/* Chain COLOR holds one rule, a translation to the config's address for
 * COLOR ("... dnat ip to 127.0.0.1:8001", "... to [::1]:8001"). */
static int
target(const char *s, size_t n, const struct bg_conf *c, int color)
{
	char head[32], want[80], h[64];
	const char *l;
	size_t i = 0, ln, wl, j;
	int in = 0, rules = 0, ok = 0;

	snprintf(head, sizeof head, "chain %s {", bg_color_name(color));
	if (canon(c->addr[color].host, h, sizeof h) == AF_INET)
		snprintf(want, sizeof want, " to %s:%u", h,
		    c->addr[color].port);
	else
		snprintf(want, sizeof want, " to [%s]:%u", h,
		    c->addr[color].port);
	wl = strlen(want);
	while (line(s, n, &i, &l, &ln)) {
		if (!in) {
			in = is(l, ln, head);
			continue;
		}
		if (is(l, ln, "}"))
			return rules == 1 && ok;
		if (ln == 0)
			continue;
		rules++;
		ok = ln > wl && memcmp(l + ln - wl, want, wl) == 0;
		for (j = 0; ok && j + 5 <= ln - wl; j++)
			if (memcmp(l + j, "dnat ", 5) == 0)
				break;
		ok = ok && j + 5 <= ln - wl;
	}
	return 0;
}

int
bg_nft_targets(const char *s, size_t n, const struct bg_conf *c)
{
	return target(s, n, c, BG_BLUE) && target(s, n, c, BG_GREEN);
}

/* Run nft with args after its path; its output (stdout and stderr) into
 * a malloc'd *out. 0 with *ws, or BG_CONFIG (cannot run it: said why),
 * BG_SYS. */
static int
nft(const struct bg_conf *c, const char *const *args, char **out, size_t *n,
    int *ws)
{
	static char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	char *envp[] = { path, NULL };
	char *argv[8];
	int fd, rc, i;
	ssize_t k;

	*out = NULL;
	*n = 0;
	argv[0] = (char *)c->nft;
	for (i = 0; i < 6 && args[i] != NULL; i++)
		argv[i + 1] = (char *)args[i];
	argv[i + 1] = NULL;
	if ((fd = memfd_create("nft", MFD_CLOEXEC)) < 0) {
		bg_warnsys("cannot run nft %s", c->nft);
		return BG_SYS;
	}
	rc = bg_run(argv, envp, "/", fd, bg_now_ms() + NFT_MS, ws);
	if (rc == BG_TIMEOUT) {
		bg_warn("nft %s did not finish in %d s", c->nft, NFT_MS / 1000);
		close(fd);
		return BG_SYS;
	}
	if (rc != 0) {
		rc = errno == ENOENT || errno == EACCES || errno == ENOEXEC ?
		    BG_CONFIG : BG_SYS;
		bg_warnsys("cannot run nft %s", c->nft);
		close(fd);
		return rc;
	}
	if ((*out = malloc(OUT_MAX + 1)) == NULL ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		bg_warnsys("cannot read what nft %s said", c->nft);
		free(*out);
		*out = NULL;
		close(fd);
		return BG_SYS;
	}
	while ((k = read(fd, *out + *n, OUT_MAX - *n)) > 0)
		*n += (size_t)k;
	close(fd);
	(*out)[*n] = '\0';
	return 0;
}

/* nft's own message, line by line, after ours. */
static void
say(const char *out, size_t n)
{
	const char *l;
	size_t i = 0, ln;
	int lines = 0;

	while (line(out, n, &i, &l, &ln) && lines++ < 20)
		if (ln > 0)
			bg_warn("nft: %.*s", (int)(ln > 300 ? 300 : ln), l);
}

int
bg_nft_read(const struct bg_conf *c, int *color, int *stale)
{
	const char *list[] = { "list", "tables", "inet", NULL };
	const char *show[] = { "-n", "list", "table", "inet", c->nft_table,
	    NULL };
	char wbuf[64], *out, *out2;
	size_t n, n2;
	int rc, ws, ws2;

	if ((rc = nft(c, show, &out, &n, &ws)) != 0)
		return rc;
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
		rc = bg_nft_parse(out, n, c, color);
		if (stale != NULL)
			*stale = rc && !bg_nft_targets(out, n, c);
		free(out);
		if (rc)
			return 0;
		bg_warn("nft table inet %s is not bgflip's (it lacks bg's "
		    "marker comment, map colors or chain output): set "
		    "nft_table to another name, or, if it is a leftover of "
		    "bg's, nft delete table inet %s", c->nft_table,
		    c->nft_table);
		return BG_CONFIG;
	}
	/* Failed: because there is no such table (the usual case on a
	 * fresh machine or after a reboot), or for another reason? */
	if ((rc = nft(c, list, &out2, &n2, &ws2)) != 0) {
		free(out);
		return rc;
	}
	if (WIFEXITED(ws2) && WEXITSTATUS(ws2) == 0 &&
	    !bg_nft_listed(out2, n2, c->nft_table)) {
		free(out);
		free(out2);
		*color = -1;
		if (stale != NULL)
			*stale = 0;
		return 0;
	}
	say(out, n);
	bg_warn("nft list table inet %s failed (%s)", c->nft_table,
	    bg_wstatus_str(ws, wbuf, sizeof wbuf));
	free(out);
	free(out2);
	return BG_SYS;
}

int
bg_nft_apply(const struct bg_conf *c, int color)
{
	char rules[4096], path[BG_PATH_MAX + 16], wbuf[64], *out;
	const char *args[] = { "-f", path, NULL };
	size_t n;
	ssize_t k;
	int fd, rc, len, ws;

	if ((len = bg_nft_ruleset(c, color, rules, sizeof rules)) < 0) {
		bg_warn("cannot build the nft ruleset for port mode");
		return -1;
	}
	/* A fixed dot-name in the state directory, which root trusts:
	 * removed and made anew, never followed. */
	snprintf(path, sizeof path, "%s/%s", c->state, BG_NFT_TMP);
	if ((unlink(path) < 0 && errno != ENOENT) ||
	    (fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		bg_warnsys("cannot create %s", path);
		return -1;
	}
	for (n = 0; n < (size_t)len; n += (size_t)k)
		if ((k = write(fd, rules + n, (size_t)len - n)) < 0 &&
		    errno != EINTR) {
			bg_warnsys("cannot write %s", path);
			close(fd);
			unlink(path);
			return -1;
		} else if (k < 0)
			k = 0;
	if (close(fd) < 0) {
		bg_warnsys("cannot write %s", path);
		unlink(path);
		return -1;
	}
	rc = nft(c, args, &out, &n, &ws);
	unlink(path);
	if (rc != 0)
		return -1;
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
		say(out, n);
		bg_warn("nft -f refused the switch of table inet %s to %s (%s): "
		    "a transaction is applied whole or not at all", c->nft_table,
		    color < 0 ? "no color" : bg_color_name(color),
		    bg_wstatus_str(ws, wbuf, sizeof wbuf));
		free(out);
		return -1;
	}
	free(out);
	return 0;
}
