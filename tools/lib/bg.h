/* bg.h - the one header of libbg, the code the bg tools share.
 * One concern per .c file in tools/lib/; parsers are pure functions over
 * (const char *, size_t) so they can be unit-tested and fuzzed. */
#ifndef BG_H
#define BG_H

#include <stddef.h>
#include <sys/types.h>

/* Exit status, the same numbers in every program (SPEC). */
#define BG_OK       0	/* success / yes */
#define BG_NO       1	/* a check failed or the action was refused */
#define BG_USAGE    2	/* bad flag, operand, color or -u URL */
#define BG_TIMEOUT  3	/* a deadline passed */
#define BG_CONFIG   4	/* bad or unsafe config, conf or path; nginx -t failed */
#define BG_SYS      5	/* system or network error */
#define BG_ROLLED   6	/* bgflip: failed, rolled back */
#define BG_HUMAN    7	/* bgflip: failed, rollback failed: a human must look */

#define BG_PATH_MAX 1024	/* longest path accepted from a config */
#define BG_SUN_MAX  107		/* longest unix socket path */

/* msg.c: every message is "prog: text" on stderr. */
extern const char *bg_prog;
void bg_setprog(const char *argv0);
void bg_warn(const char *fmt, ...);	/* prog: text */
void bg_warnsys(const char *fmt, ...);	/* prog: text: strerror(errno) */
_Noreturn void bg_die(int code, const char *fmt, ...);
_Noreturn void bg_diesys(int code, const char *fmt, ...);
/* -h or --help anywhere before "--": print usage to stdout, exit 0. */
void bg_help(int argc, char **argv, const char *usage);
_Noreturn void bg_usage(const char *usage);	/* usage to stderr, exit 2 */

/* color.c */
#define BG_BLUE  0
#define BG_GREEN 1
#define bg_other(c) (1 - (c))
int bg_color_parse(const char *s, size_t n);	/* exactly blue|green -> 0|1, else -1 */
int bg_color_body(const char *s, size_t n);	/* same, one trailing \n or \r\n allowed */
int bg_color_arg(const char *s);		/* NUL-terminated operand */
const char *bg_color_name(int c);		/* "blue" or "green" */

/* num.c: decimal digits only, no sign, no spaces, no overflow. 0 ok, -1 bad. */
int bg_parse_ulong(const char *s, size_t n, unsigned long max, unsigned long *out);
/* seconds as "N" or "N.D" (up to 3 decimals), 0 < value <= max_s; result in ms */
int bg_parse_secs(const char *s, size_t n, unsigned long max_s, long long *ms);

/* time.c: CLOCK_MONOTONIC milliseconds; every wait has a deadline on it. */
long long bg_now_ms(void);
void bg_sleep_ms(long long ms);

/* addr.c: where an instance listens, and the URLs the tools GET. */
struct bg_addr {
	int is_unix;
	char host[256];		/* name, IPv4, or IPv6 without brackets */
	unsigned port;
	char path[BG_SUN_MAX + 1];	/* unix socket path */
};
struct bg_url {
	struct bg_addr addr;
	char path[1024];	/* starts with '/' */
};
/* HOST:PORT, [IPv6]:PORT or unix:/abs/path.sock. 0 ok, -1 bad. */
int bg_addr_parse(const char *s, size_t n, struct bg_addr *a);
/* http://HOST[:PORT]/PATH or unix:/abs/path.sock:/PATH. 0 ok, -1 bad. */
int bg_url_parse(const char *s, size_t n, struct bg_url *u);
/* "127.0.0.1:8001", "[::1]:8001", "unix:/run/app.sock" into buf */
const char *bg_addr_fmt(const struct bg_addr *a, char *buf, size_t len);

/* http.c: a tiny HTTP/1.x GET client. One fresh connection per request,
 * "Connection: close", bounded by a deadline and a reply size cap. */
#define BG_REPLY_MAX 65536	/* bytes of status line + headers + body */
#define BG_BODY_KEEP 256	/* bytes of body kept for the caller */
struct bg_reply {
	int status;		/* e.g. 200 */
	char body[BG_BODY_KEEP];
	size_t bodylen;		/* bytes kept in body (<= BG_BODY_KEEP) */
	size_t bodytotal;	/* bytes of body seen */
	char err[200];		/* what went wrong, for the one-line message */
};
/* Parse a reply held in buf[0..n); eof says the peer closed. Returns 1 when
 * complete (status_only: once the headers are in), 0 when more is needed,
 * -1 when malformed (r->err says how). Pure. */
int bg_http_parse(const char *buf, size_t n, int eof, int status_only,
    struct bg_reply *r);
/* GET path from a; Host: host (NULL: from a). deadline is bg_now_ms()-based.
 * Returns 0 (reply in r, any status), BG_TIMEOUT or BG_SYS (r->err). */
int bg_http_get(const struct bg_addr *a, const char *path, const char *host,
    long long deadline, int status_only, struct bg_reply *r);

/* conf.c: /etc/bg.conf */
enum {
	K_MODE, K_URL, K_HOST_HEADER, K_BLUE, K_GREEN, K_HEALTH, K_TIMEOUT,
	K_HOOKS, K_APP, K_LOCK, K_LOG, K_STAGING_URL, K_NGINX, K_NGINX_PREFIX,
	K_NGINX_CONF, K_NGINX_PID, K_LIVE_CONF, K_BLUE_CONF, K_GREEN_CONF,
	K_STATE, K_NKEYS
};
#define BGK(k) (1UL << (k))
#define BG_MODE_RELOAD 0
#define BG_MODE_SOCKET 1
#define BG_CONF_DEFAULT "/etc/bg.conf"
#define BG_CONF_MAX 65536	/* a config larger than this is refused */
struct bg_conf {
	unsigned long set;	/* BGK() of the keys given a non-empty value */
	int line[K_NKEYS];	/* where each key was set (0: not set) */
	int mode;
	struct bg_url url;
	char host_header[256];	/* "" when unset */
	struct bg_addr addr[2];	/* [BG_BLUE], [BG_GREEN] */
	char health[1024];
	long long timeout_ms;
	char hooks[BG_PATH_MAX], app[BG_PATH_MAX], lock[BG_PATH_MAX];
	char log[BG_PATH_MAX], staging_url[1024], nginx[BG_PATH_MAX];
	char nginx_prefix[BG_PATH_MAX], nginx_conf[BG_PATH_MAX];
	char nginx_pid[BG_PATH_MAX], live_conf[BG_PATH_MAX];
	char color_conf[2][BG_PATH_MAX];	/* blue_conf, green_conf */
	char state[BG_PATH_MAX];
};
extern const char *const bg_conf_keys[K_NKEYS];
/* Parse buf as a config named fname, validating the values of the keys in
 * used (others must still be known keys, once each). Defaults first.
 * 0 ok; -1 with err = "fname:line: what". Pure. */
int bg_conf_parse(const char *buf, size_t n, const char *fname,
    unsigned long used, struct bg_conf *c, char *err, size_t errlen);
/* -f value, else $BG_CONF, else /etc/bg.conf */
const char *bg_conf_path(const char *opt);
/* Read and parse path; dies 4 on a bad config, an unreadable one, too big. */
void bg_conf_load(const char *path, unsigned long used, struct bg_conf *c);
/* Die 4 naming the first key of keys that the config does not set. */
void bg_conf_need(const struct bg_conf *c, unsigned long keys, const char *path);

/* lock.c: the lock shared by bgstage, bgflip and make deploy (flock(2), so
 * flock(1) in a shell takes the same lock). The holder's pid is written into
 * the file when it can be. Returns the locked fd; -1 busy (*holder = pid or
 * 0), -2 wait timed out, -3 system error (errno). wait_ms < 0: do not wait. */
int bg_lock(const char *path, long long wait_ms, pid_t *holder);

/* mark.c: "being staged". make deploy creates APP/.bg-staging.COLOR under the
 * lock before it rsyncs; bgstage removes it once COLOR is healthy; bgflip
 * refuses a marked color. It lives in APP because the deploy user owns APP. */
const char *bg_mark_path(const struct bg_conf *c, int color, char *buf, size_t len);
int bg_marked(const struct bg_conf *c, int color);	/* 1 yes, 0 no, -1 error */

/* run.c: fork/exec with a fixed argv and environment, never a shell.
 * argv[0] is the path executed. The child's stdout and stderr go to outfd
 * (-1: inherited), cwd NULL: unchanged. Waits until deadline (bg_now_ms()
 * based; 0: no deadline), then kills the child (SIGTERM, then SIGKILL).
 * Returns 0 with *wstatus set, BG_TIMEOUT, or -1 with errno (exec failed). */
int bg_run(char *const argv[], char *const envp[], const char *cwd, int outfd,
    long long deadline, int *wstatus);
/* "exited 3", "killed by signal 9" */
const char *bg_wstatus_str(int wstatus, char *buf, size_t len);

/* proc.c: in-flight connections to an instance (bgdrain, bgstage):
 * server-side ESTABLISHED/CLOSE_WAIT TCP rows on the address's port, or
 * connected unix stream sockets bound to its path. >= 0, or -1 (errno). */
long bg_inflight(const struct bg_addr *a);

/* --- sections added by the people who own each lib file go below --- */

#endif
