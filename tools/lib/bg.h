/* bg.h - the one header of libbg, the code the bg tools share.
 * One concern per .c file in tools/lib/. Ordered by layer, each part in
 * the order a reader needs it:
 *  1. exit codes and messages;
 *  2. pure parsers and formatters over (const char *, size_t): no I/O, so
 *     they are unit-tested and fuzzed;
 *  3. I/O: clocks, HTTP, config files, locks, processes, sockets, files;
 *  4. the flip engine (flip.c), for bgflip.
 * Each declaration names its .c file. */
#ifndef BG_H
#define BG_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* ===== 1. Exit codes and messages ===== */

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
#define BG_SECS_MAX 86400	/* a day: any wait longer is a typo */

/* msg.c: every message is "prog: text" on stderr. */
extern const char *bg_prog;
void bg_setprog(const char *argv0);	/* first; also bg_signals_default() */
void bg_warn(const char *fmt, ...);	/* prog: text */
void bg_warnsys(const char *fmt, ...);	/* prog: text: strerror(errno) */
_Noreturn void bg_die(int code, const char *fmt, ...);
_Noreturn void bg_diesys(int code, const char *fmt, ...);
/* -h or --help anywhere before "--": print usage to stdout, exit 0;
 * -V likewise prints "prog VERSION" (version.c, from debian/changelog). */
extern const char bg_version[];
void bg_help(int argc, char **argv, const char *usage);
_Noreturn void bg_usage(const char *usage);	/* usage to stderr, exit 2 */
/* "prog: text" saying what is wrong with the command line, then usage,
 * exit 2 */
_Noreturn void bg_dieusage(const char *usage, const char *fmt, ...);
/* the value of option -ch, seconds like 30 or 2.5, more than 0 and at most
 * max, in milliseconds; anything else is a usage error (bg_dieusage) */
long long bg_optsecs(int ch, const char *arg, unsigned long max,
    const char *usage);
/* getopt's '?' (or ':') in every main: "prog: unknown flag -x" or "prog:
 * -f needs a value" (a flag usage shows with a value), usage, exit 2.
 * bg_setprog sets opterr = 0, so getopt itself prints nothing. */
_Noreturn void bg_badflag(int ch, const char *usage);
/* s[0..n) as a quoted one-line excerpt safe for a terminal: at most max
 * input bytes, C escapes for anything not printable ASCII, "..." after the
 * quote when cut. Always NUL-terminates buf. */
const char *bg_excerpt(const char *s, size_t n, size_t max, char *buf,
    size_t len);

/* ===== 2. Pure parsers and formatters ===== */

/* color.c */
#define BG_BLUE  0
#define BG_GREEN 1
#define bg_other(c) (1 - (c))
int bg_color_parse(const char *s, size_t n);	/* exactly blue|green -> 0|1, else -1 */
int bg_color_body(const char *s, size_t n);	/* same, one trailing \n or \r\n allowed */
int bg_color_arg(const char *s);		/* NUL-terminated operand */
/* The optional COLOR operand left after getopt: -1 when there is none; a
 * second operand, or anything but exactly blue or green, dies with usage. */
int bg_color_operand(int argc, char **argv, const char *usage);
const char *bg_color_name(int c);		/* "blue" or "green" */

/* num.c: decimal digits only, no sign, no spaces, no overflow. 0 ok, -1 bad. */
int bg_parse_ulong(const char *s, size_t n, unsigned long max, unsigned long *out);
/* seconds as "N" or "N.D" (up to 3 decimals), 0 < value <= max_s; result in ms */
int bg_parse_secs(const char *s, size_t n, unsigned long max_s, long long *ms);
/* the value of a hex digit (either case), -1 for anything else */
int bg_hexdigit(char ch);
/* ms >= 0 as the config writes seconds ("30", "2.5", "0.25"), then unit
 * ("" or "s"), into buf */
const char *bg_secs_fmt(long long ms, const char *unit, char *buf,
    size_t len);

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
/* The URL as the operator writes it, for messages and bgcolor -k:
 * "http://127.0.0.1:8001/bg", "unix:/run/app.sock:/bg" into buf */
const char *bg_url_fmt(const struct bg_addr *a, const char *path, char *buf,
    size_t len);

/* conf.c: /etc/bg.conf */
enum {
	K_MODE, K_URL, K_HOST_HEADER, K_BLUE, K_GREEN, K_HEALTH, K_TIMEOUT,
	K_HOOKS, K_APP, K_LOCK, K_LOG, K_STAGING_URL, K_NGINX, K_NGINX_PREFIX,
	K_NGINX_CONF, K_NGINX_PID, K_LIVE_CONF, K_BLUE_CONF, K_GREEN_CONF,
	K_STATE, K_LINGER, K_LIVE_ADDR, K_STAGING_ADDR, K_NFT, K_NFT_TABLE,
	K_NKEYS
};
#define BGK(k) (1UL << (k))
#define BG_MODE_RELOAD 0
#define BG_MODE_SOCKET 1
#define BG_MODE_PORT   2
#define BG_LINGER_OFF  (-1LL)	/* linger = off: keep them until they end */
#define BG_CONF_DEFAULT "/etc/bg.conf"
#define BG_CONF_MAX 65536	/* a config larger than this is refused */
struct bg_conf {
	unsigned long set;	/* BGK() of the keys given a non-empty value */
	/* the 8-byte fields first: no padding, so memcmp compares values */
	long long timeout_ms;
	long long linger_ms;	/* BG_LINGER_OFF, or ms (0 allowed) */
	int line[K_NKEYS];	/* where each key was set (0: not set) */
	int mode;
	struct bg_url url;
	char host_header[256];	/* "" when unset */
	struct bg_addr addr[2];	/* [BG_BLUE], [BG_GREEN] */
	char health[1024];
	char hooks[BG_PATH_MAX], app[BG_PATH_MAX], lock[BG_PATH_MAX];
	char log[BG_PATH_MAX], staging_url[1024], nginx[BG_PATH_MAX];
	char nginx_prefix[BG_PATH_MAX], nginx_conf[BG_PATH_MAX];
	char nginx_pid[BG_PATH_MAX], live_conf[BG_PATH_MAX];
	char color_conf[2][BG_PATH_MAX];	/* blue_conf, green_conf */
	char state[BG_PATH_MAX];
	struct bg_addr live_addr, staging_addr;	/* port mode: TCP only */
	char nft[BG_PATH_MAX];
	char nft_table[36];	/* [A-Za-z][A-Za-z0-9_]{0,31}; 36: no padding */
};
extern const char *const bg_conf_keys[K_NKEYS];
/* The K_ index of the key named s[0..n), -1 for none. */
int bg_conf_key(const char *s, size_t n);
/* Parse buf as a config named fname, validating the values of the keys in
 * used (others must still be known keys, once each). Defaults first.
 * 0 ok; -1 with err = "fname:line: what". Pure. */
int bg_conf_parse(const char *buf, size_t n, const char *fname,
    unsigned long used, struct bg_conf *c, char *err, size_t errlen);
/* The value of path key k (hooks, app, lock, ...), NULL for other keys. */
const char *bg_conf_pathval(const struct bg_conf *c, int k);
/* Die 4 naming the first key of keys that the config does not set. */
void bg_conf_need(const struct bg_conf *c, unsigned long keys, const char *path);
/* The Host header the tools send: host_header, NULL (from the URL) unset. */
const char *bg_conf_host(const struct bg_conf *c);

/* reply.c: an HTTP/1.x reply, parsed as it arrives (http.c is the
 * client). */
#define BG_REPLY_MAX 65536	/* bytes of status line + headers + body */
#define BG_BODY_KEEP 256	/* bytes of body kept for the caller */
struct bg_reply {
	int status;		/* e.g. 200 */
	char body[BG_BODY_KEEP];
	size_t bodylen;		/* bytes kept in body (<= BG_BODY_KEEP) */
	size_t bodytotal;	/* bytes of body seen */
	char err[200];		/* what went wrong, for the one-line message */
};
/* reply.c: parse a reply held in buf[0..n); eof says the peer closed.
 * Returns 1 when complete (status_only: once the headers are in), 0 when
 * more is needed, -1 when malformed (r->err says how). Pure. */
int bg_http_parse(const char *buf, size_t n, int eof, int status_only,
    struct bg_reply *r);
/* r->err = the formatted text; returns -1 */
int bg_reply_fail(struct bg_reply *r, const char *fmt, ...);

/* swap.c (bgswapconf's owner): swap two words in one streaming pass, so
 * that swapping twice gives the input back byte for byte. Default: a run of
 * ASCII letters that is exactly a case form (lower, UPPER, Capitalized) of
 * one word becomes the same form of the other; all: every occurrence, and
 * bg_swap_init refuses a pair whose occurrences could overlap. Pure: no I/O,
 * the few bytes of a possible partial match are carried in the struct. */
#define BG_SWAP_WMAX 64		/* longest word, in letters */
struct bg_swap {
	int all;		/* -a */
	int nforms;		/* case forms in use: 2 or 3 */
	size_t len[2], maxlen, minlen;
	char form[2][3][BG_SWAP_WMAX];	/* [word][lower, UPPER, Capitalized] */
	unsigned char first[256];	/* all: bit word*3+form, its first byte */
	char carry[BG_SWAP_WMAX];
	size_t carrylen;
	int longrun;		/* default: inside a run longer than any word */
	unsigned long long count;	/* swaps made */
};
/* 0, or -1 with *why saying what is wrong with the pair (exit 2). */
int bg_swap_init(struct bg_swap *s, const char *w1, size_t n1, const char *w2,
    size_t n2, int all, const char **why);
/* At most this much output from feeding n bytes (bg_swap_end: n = 0). */
size_t bg_swap_outmax(const struct bg_swap *s, size_t n);
/* The most input whose output fits in outcap bytes (0: outcap too small). */
size_t bg_swap_inmax(const struct bg_swap *s, size_t outcap);
/* Swap in[0..n) into out (room for bg_swap_outmax(s, n)); returns bytes
 * written. The chunks of one stream may be cut anywhere. */
size_t bg_swap_feed(struct bg_swap *s, const char *in, size_t n, char *out);
/* End of the stream: flush the carry; the struct is ready for a new one. */
size_t bg_swap_end(struct bg_swap *s, char *out);

/* procline.c: the /proc/net line parsers behind bg_inflight. One line
 * without its '\n'; 0 ok, -1 for a header or a malformed line. */
#define BG_TCP_ESTABLISHED 0x01
#define BG_TCP_TIME_WAIT   0x06
#define BG_TCP_CLOSE_WAIT  0x08
#define BG_TCP_LISTEN      0x0A
struct bg_tcprow {
	int family;		/* AF_INET (8 hex digits) or AF_INET6 (32) */
	unsigned char addr[16];	/* local address, network order (4 or 16) */
	unsigned port;		/* local port */
	unsigned char raddr[16];	/* remote address, the same way */
	unsigned rport;		/* remote port */
	unsigned state;		/* BG_TCP_* */
};
/* A row of /proc/net/tcp or tcp6. The kernel prints the address as native
 * 32-bit words: the bytes come out right on the machine that wrote it. */
int bg_proc_tcp_line(const char *s, size_t n, struct bg_tcprow *r);
#define BG_UNIX_STREAM     0x0001	/* Type */
#define BG_UNIX_CONNECTING 0x02		/* St: accepted by the kernel, not yet
					 * by the app (SS_CONNECTING) */
#define BG_UNIX_CONNECTED  0x03		/* St: SS_CONNECTED */
#define BG_UNIX_ACCEPTCON  0x10000UL	/* Flags: a listening socket */
struct bg_unixrow {
	unsigned long long id;	/* the kernel's (hashed) address; 0: hidden */
	unsigned long flags;
	unsigned type, state;
	const char *path;	/* into the line; "@name" when abstract */
	size_t pathlen;		/* 0: not bound */
};
/* A row of /proc/net/unix. */
int bg_proc_unix_line(const char *s, size_t n, struct bg_unixrow *r);

/* What a row must match (proc.c, diag.c): a unix path, or a port and a set
 * of local addresses, IPv4 kept as ::ffff:a.b.c.d. */
#define BG_TARGET_ADDRS 8
struct bg_target {
	const char *path;	/* unix: the instance's socket path */
	size_t pathlen;
	unsigned port;
	int any;		/* 0.0.0.0 or ::: every local address */
	int naddr;
	unsigned char addr[BG_TARGET_ADDRS][16];
};
void bg_addr_mapped(int family, const unsigned char *addr,
    unsigned char *out);
#define BG_HASH0 0xcbf29ce484222325ULL
uint64_t bg_row_hash(const void *p, size_t n, uint64_t h);
/* diag.c: the netlink messages of one read, n bytes, in answer to request
 * seq. Each row that matches t is handed to add(arg, key) (key: its
 * identity, to spot it twice). 1: the dump is done; 0: read more; -1:
 * errno (the kernel's error, EBADMSG for a malformed message, or add's). */
int bg_diag_parse(const void *buf, size_t n, unsigned seq, int is_unix,
    const struct bg_target *t, int (*add)(void *, uint64_t), void *arg);

/* nginx.c: a pid file ("1234\n"), the ppid in /proc/PID/stat. */
int bg_pidfile_parse(const char *s, size_t n, pid_t *pid);
long bg_proc_stat_ppid(const char *s, size_t n);

/* record.c: the crash record LOCK.flip, "bgflip MODE FROM TO\nLINE\n". */
struct bg_record {
	int mode;
	int from;		/* -1: no live color before (fresh state) */
	int to;
	char line[256];		/* the history line the flip appends */
};
int bg_record_parse(const char *s, size_t n, struct bg_record *r);

/* history.c: "TIME FROM TO USER REVISION" lines in the log. */
/* The first line of s[0..n), printable ASCII without spaces, at most max
 * bytes, into out (len bytes, NUL-terminated). Returns its length. Pure. */
size_t bg_field_clean(const char *s, size_t n, char *out, size_t len,
    size_t max);
int bg_history_line(char *buf, size_t len, time_t t, int from, int to,
    const char *user, const char *rev);
/* 1 when s[0..n) (one line, its '\n' optional) is a well-formed history
 * line: TIME (YYYY-MM-DDTHH:MM:SSZ) FROM (blue, green or -) TO (blue or
 * green, not FROM) USER (1-32 bytes) REV (1-64 bytes), each printable
 * ASCII without spaces, one space apart. Readers skip any other line. */
int bg_history_ok(const char *s, size_t n);

/* nft.c (port mode): the nftables table of bg's own, "table inet
 * NFT_TABLE", whose map colors sends live_addr and staging_addr to the
 * blue or green instance. */
#define BG_NFT_MARK "bg: blue/green ports, written by bgflip; do not edit"
#define BG_NFT_TMP  ".bg.nft"	/* the transaction, in the state directory */
/* Port mode's addresses: all numeric loopback, one family, all distinct.
 * 0, or -1 with why. Pure. */
int bg_nft_conf_check(const struct bg_conf *c, char *why, size_t len);
/* The one transaction that makes the table send live_addr to color and
 * staging_addr to the other (color -1: to nothing), creating what is
 * missing: its length, or -1 when len is too small. Pure. */
int bg_nft_ruleset(const struct bg_conf *c, int color, char *buf, size_t len);
/* `nft list tables inet` lists table inet NAME: 1, else 0. Pure. */
int bg_nft_listed(const char *s, size_t n, const char *table);
/* `nft list table inet NAME`: 0 when it is not ours (no marker, map or
 * chain); else 1 with *color: the color live_addr goes to when staging_addr
 * goes to the other and nothing else is mapped, -1 when nothing is mapped,
 * -2 otherwise (a hand edit). Pure. */
int bg_nft_parse(const char *s, size_t n, const struct bg_conf *c,
    int *color);
/* Chains blue and green each translate to the config's address alone: 1,
 * else 0 (the config changed, or a hand edit). Pure. */
int bg_nft_targets(const char *s, size_t n, const struct bg_conf *c);

/* ===== 3. I/O ===== */

/* time.c: CLOCK_MONOTONIC milliseconds; every wait has a deadline on it. */
long long bg_now_ms(void);
long long bg_now_us(void);	/* the same clock in microseconds */
void bg_sleep_ms(long long ms);

/* trace.c (bench): with BG_TRACE=1 in the environment at bg_trace_init
 * (call it before the environment is dropped), bg_trace(STEP) prints the
 * time since the last step to stderr. */
extern int bg_trace_on;
void bg_trace_init(void);
void bg_trace(const char *step);

/* http.c: a tiny HTTP/1.x GET client. One fresh connection per request,
 * "Connection: close", bounded by a deadline and a reply size cap. */
/* GET path from a; Host: host (NULL: from a). deadline is bg_now_ms()-based.
 * Returns 0 (reply in r, any status), BG_TIMEOUT or BG_SYS (r->err). */
int bg_http_get(const struct bg_addr *a, const char *path, const char *host,
    long long deadline, int status_only, struct bg_reply *r);

/* live.c: which color is live, as GET u answers on a fresh connection
 * (host: the Host header, NULL from u). 0 with *color; BG_TIMEOUT, or
 * BG_SYS for no answer, not a 200 or not exactly a color, with why
 * ("http://127.0.0.1:8080/bg answered 404 with ...") for one message. */
int bg_live_color(const struct bg_url *u, const char *host,
    long long deadline, int *color, char *why, size_t len);
#define BG_WHY_MAX 2048		/* room for any why above */

/* conf.c, reading the config */
/* -f value, else $BG_CONF, else /etc/bg.conf */
const char *bg_conf_path(const char *opt);
/* Read and parse path; dies 4 on a bad config, an unreadable one, too big. */
void bg_conf_load(const char *path, unsigned long used, struct bg_conf *c);
/* The same from fd, opened and checked by the caller (bg_trusted_open). */
void bg_conf_load_fd(int fd, const char *path, unsigned long used,
    struct bg_conf *c);

/* lock.c: the lock shared by bgstage, bgflip and make deploy (flock(2), so
 * flock(1) in a shell takes the same lock). The holder's pid is written into
 * the file when it can be. Returns the locked fd, or one of these (wait_ms
 * < 0: do not wait). */
enum {
	BG_LOCK_BUSY = -1,	/* held by another (*holder = its pid, or 0) */
	BG_LOCK_TIMEOUT = -2,	/* still held when wait_ms ran out */
	BG_LOCK_ERROR = -3	/* a system error (errno) */
};
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
/* A close-on-exec pidfd holding pid, or -1 with errno (ENOSYS where the
 * kernel or libc has no pidfd_open: the caller falls back to the pid). */
int bg_pidfd_open(pid_t pid);

/* run.c: interruption, and the chdir failure.
 * bg_catch_signals() makes SIGHUP, SIGINT and SIGTERM set bg_interrupted
 * (the signal number) instead of killing the caller. bg_run then starts no
 * child while it is set, and a child it is waiting for gets SIGTERM to its
 * process group, 2 s, SIGKILL; bg_run returns -1 with errno EINTR within
 * ~100 ms of the signal. The caller says what it stopped, then exits; for
 * the shell's sake by re-raising: signal(sig, SIG_DFL); raise(sig).
 * Without bg_catch_signals() the signals keep their default action. bg_run
 * returns -2 with errno when chdir(cwd) failed in the child (-1: execve
 * failed, or fork/pipe). The child always reads /dev/null, has default
 * signal dispositions and mask, and inherits no descriptor but 0, 1, 2.
 * bg_run reads nothing from outfd: a pipe there must be drained by someone
 * else, or hold all the output (64 KiB on Linux); a file is simpler. */
extern volatile sig_atomic_t bg_interrupted;
void bg_catch_signals(void);
/* run.c: every signal disposition back to its default and the mask
 * emptied, whatever the caller (or sudo) passed on: a SIGCHLD left ignored
 * would make the kernel reap our children. bg_setprog() calls it, so every
 * program starts so. bg_run returns -1 with errno ECHILD when a child's
 * status was lost anyway: a failure, never a success. */
void bg_signals_default(void);

/* proc.c: in-flight connections to an instance (bgdrain, bgstage):
 * server-side ESTABLISHED/CLOSE_WAIT TCP rows on the address's port, or
 * connected unix stream sockets bound to its path. >= 0, or -1 (errno). */
long bg_inflight(const struct bg_addr *a);

/* bg_inflight over one file laid out like /proc/net/tcp, tcp6 or unix
 * (per a), for tests on recorded tables. */
long bg_inflight_file(const struct bg_addr *a, const char *path);

/* proc.c: what a row must match (struct bg_target above), resolved. */
int bg_target_of(const struct bg_addr *a, struct bg_target *t);
/* The rows counted in one reading: 1 new, 0 seen, -1 out of memory. */
int bg_seen_add(uint64_t key);
void bg_seen_clear(void);
/* bg_inflight by one way only (tests, bench), or netlink first and /proc
 * when netlink is refused (said once on stderr): what bg_inflight does. */
#define BG_COUNT_AUTO 0
#define BG_COUNT_DIAG 1
#define BG_COUNT_PROC 2
long bg_inflight_by(const struct bg_addr *a, int how);
/* bg_inflight, but counting at most max (> 0): the count when below max */
long bg_inflight_upto(const struct bg_addr *a, long max);

/* diag.c: the same count through NETLINK_SOCK_DIAG, the kernel
 * filtering TCP rows by port, address and state (inet_diag bytecode) and
 * unix rows by state. >= 0, or -1 (errno): netlink refused or failed. */
long bg_count_diag(const struct bg_target *t, int is_unix, long max);
/* max > 0: stop once max rows are found (bgdrain's polls need only to
 * know whether any is left; the kernel then formats one batch, not all). */

/* atomic.c: whole files, read with a cap and replaced in one step. Each
 * writer says what failed on stderr and returns -1 (errno kept); the
 * readers leave the message to the caller. */
#define BG_TMP_NAME ".bg.tmp"	/* the temp name, in the target's directory */
/* Replace path by buf[0..n): temp, write, owner/mode, fsync, rename, fsync
 * the directory. mode < 0: keep the old file's mode and owner (new: 0644). */
int bg_atomic_write(const char *path, const char *buf, size_t n, int mode);
/* Make path a symlink to target, replacing what is there by rename. */
int bg_atomic_symlink(const char *target, const char *path);
int bg_remove(const char *path);	/* unlink (ENOENT is fine), fsync dir */
int bg_fsync_dir(const char *dir);
/* A regular file of at most max bytes into a malloc'd, NUL-terminated
 * *buf. O_NONBLOCK always; nofollow adds O_NOFOLLOW. Silent: -1 with errno
 * (EINVAL not a regular file, EFBIG larger than max), for the caller's
 * one message through bg_file_why. */
int bg_file_read(const char *path, int nofollow, size_t max, char **buf,
    size_t *n);
/* The same from an open descriptor (closed on return). */
int bg_file_readfd(int fd, size_t max, char **buf, size_t *n);
/* Why a bg_file_read failed, from its errno: "not a regular file",
 * "larger than MAX bytes", strerror. */
const char *bg_file_why(int err, size_t max, char *buf, size_t len);

/* safe.c: the SPEC's trust rules 1 and 2, for whatever root executes or
 * reads as configuration (config, conf files, nginx, nginx_conf,
 * nginx_prefix, nft, hooks). bg_trusted_open walks the absolute path from
 * "/" with openat(O_NOFOLLOW), fstat'ing each descriptor: every directory
 * on the way owned by root and not writable by others nor by a group other
 * than root's (sticky is fine), the object the same and a regular file (a
 * directory when flags has O_DIRECTORY); a symlink is followed only when
 * it is root's (so it lies in a directory only root changes). Returns the
 * descriptor of the checked object opened with flags (O_RDONLY to read it,
 * O_PATH to only check it; O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK added), or -1
 * after saying why on stderr, naming "what" and the path. */
int bg_trusted_open(const char *what, const char *path, int flags);
/* The config, for bg_conf_load_fd: as root through bg_trusted_open, else
 * a plain open. Dies 4 when it cannot be opened or trusted. */
int bg_conf_open(const char *path);
/* The same check, descriptor closed: 0 or -1. */
int bg_safe_path(const char *what, const char *path, int isdir);
int bg_safe_dir_of(const char *what, const char *path);	/* its directory */

/* nginx.c: the master from the pid file, its workers, nginx -t. */
#define BG_WORKERS_MAX 1024
struct bg_nginx {
	pid_t pid;		/* the checked master */
	int pidfd;		/* holds it; -1 without pidfd_open */
	pid_t old[BG_WORKERS_MAX];	/* its accepting workers at the HUP */
	int nold;
};
/* The pid in nginx_pid, checked to be a master of the nginx binary owned
 * by root or us: 0, or BG_SYS/BG_CONFIG (said why). */
int bg_nginx_master(const struct bg_conf *c, struct bg_nginx *ng);
int bg_nginx_alive(const struct bg_nginx *ng);
/* Note the accepting workers, then SIGHUP: 0 or -1 (said why). */
int bg_nginx_hup(struct bg_nginx *ng);
/* 1 when every worker noted by the HUP is gone or shutting down. */
int bg_nginx_settled(const struct bg_nginx *ng);
void bg_nginx_close(struct bg_nginx *ng);
/* nginx -t [-p prefix] [-c conf], fixed env, output to stderr:
 * 0, BG_CONFIG (rejected) or BG_SYS (could not run it). */
int bg_nginx_test(const struct bg_conf *c);

/* views.c: socket mode's STATE/{blue,green}/{live.sock,staging.sock,color}
 * and STATE/current. */
/* Make both views match the config (dry: only say what would change):
 * 0, BG_CONFIG or BG_SYS (said why). */
int bg_views_sync(const struct bg_conf *c, int dry);
/* Where STATE/current points: a color, BG_LIVE_NONE (-1) absent,
 * BG_LIVE_BAD (-2) bad (said why). */
int bg_current_get(const struct bg_conf *c);
/* Point STATE/current at color's view (-1: remove it). 0 or -1. */
int bg_current_set(const struct bg_conf *c, int color);

/* record.c, the file */
const char *bg_record_path(const struct bg_conf *c, char *buf, size_t len);
/* 1 read, 0 none, -1 unreadable or damaged (said why) */
int bg_record_read(const struct bg_conf *c, struct bg_record *r);
int bg_record_write(const struct bg_conf *c, const struct bg_record *r);
int bg_record_remove(const struct bg_conf *c);

/* history.c, the log */
/* SUDO_USER, else the login name, else the user of our uid. */
const char *bg_invoker(char *buf, size_t len);
/* APP/COLOR/REVISION read safely, or "-". */
const char *bg_revision(const struct bg_conf *c, int color, char *buf,
    size_t len);
/* Whole or not at all (a short write is cut back): 0 or -1. */
int bg_history_append(const char *log, const char *line);
int bg_history_last(const char *log, const char *line);	/* 1: last line */

/* What the table says, as bg_nft_parse (-1 also when there is no table),
 * and *stale (unless NULL): its chains are not as the config says:
 * 0; BG_CONFIG when it is not ours or nft cannot be run; BG_SYS. */
int bg_nft_read(const struct bg_conf *c, int *color, int *stale);
/* Run the transaction for color: 0, or -1 (said why; nothing changed). */
int bg_nft_apply(const struct bg_conf *c, int color);

/* ===== 4. The flip engine ===== */

/* flip.c: the switch itself, for bgflip. */
#define BG_SITE_MAX (1 << 20)	/* an nginx site file larger is a mistake */
struct bg_flip {
	const struct bg_conf *c;
	struct bg_nginx ng;	/* reload: the checked master */
	char *conf[2];		/* reload: blue_conf and green_conf bytes */
	size_t conflen[2];
	char url[BG_PATH_MAX + 320];	/* "nginx at http://HOST:PORT/bg" */
	int dry;
};
/* Read the color files (reload): 0, or -1 (said why). */
int bg_flip_init(struct bg_flip *f, const struct bg_conf *c);
/* What url answers on a fresh connection: a color, or -1 (why). */
int bg_flip_served(struct bg_flip *f, long long deadline, char *why,
    size_t len);
/* 1 when color's health path answers 200, else 0 (why). */
int bg_flip_healthy(struct bg_flip *f, int color, char *why, size_t len);
/* Live on disk: a color, or one of these (said why, but NONE). */
enum {
	BG_LIVE_NONE = -1,	/* socket, port: none yet (no STATE/current) */
	BG_LIVE_BAD = -2,	/* reload: live_conf is neither color's file;
				 * socket, port: a bad STATE/current */
	BG_LIVE_UNREAD = -3,	/* live_conf or the nft table unreadable */
	BG_LIVE_SPLIT = -4	/* port: the nft table and current disagree */
};
int bg_flip_disk(struct bg_flip *f);
/* Record, flip, verify, log, unrecord: 0, or 4/5 (nothing changed), 6
 * (rolled back), 7 (rollback failed). */
int bg_flip_run(struct bg_flip *f, const struct bg_record *rec);
/* Finish or undo a recorded flip: 0 (*live: its outcome; with f->dry only
 * predicted), or 4, 5, 7. Untouched *live when there was no record. */
int bg_flip_recover(struct bg_flip *f, int *live);

#endif
