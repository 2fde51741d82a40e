/* unit_nft - the pure parts of port mode's nft.c, table-driven: the
 * ruleset text (golden), the config check, and the reading of `nft list`
 * output recorded from nftables 1.0.6. Prints TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bg.h"

static int n, failed;

static void
ok(int cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	failed += !cond;
}

static void
conf(struct bg_conf *c, const char *live, const char *staging,
    const char *blue, const char *green)
{
	memset(c, 0, sizeof *c);
	strcpy(c->nft_table, "bg");
	bg_addr_parse(live, strlen(live), &c->live_addr);
	bg_addr_parse(staging, strlen(staging), &c->staging_addr);
	bg_addr_parse(blue, strlen(blue), &c->addr[BG_BLUE]);
	bg_addr_parse(green, strlen(green), &c->addr[BG_GREEN]);
}

#define MARK "comment \"" BG_NFT_MARK "\"\n"

static const char v4_head[] =
    "add table inet bg { comment \"" BG_NFT_MARK "\" ; }\n"
    "add chain inet bg blue\n"
    "add chain inet bg green\n"
    "add chain inet bg output { type nat hook output priority -100 ; "
    "policy accept ; }\n"
    "add map inet bg colors { type ipv4_addr . inet_service : verdict ; }\n"
    "flush chain inet bg output\n"
    "flush chain inet bg blue\n"
    "flush chain inet bg green\n"
    "flush map inet bg colors\n"
    "add rule inet bg blue meta l4proto tcp dnat ip to 127.0.0.1:8001\n"
    "add rule inet bg green meta l4proto tcp dnat ip to 127.0.0.1:8002\n"
    "add rule inet bg output meta l4proto tcp ip daddr . tcp dport vmap "
    "@colors\n";

static void
ruleset(void)
{
	struct bg_conf c;
	char buf[4096], want[4096];
	int k;

	conf(&c, "127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:8001",
	    "127.0.0.1:8002");
	k = bg_nft_ruleset(&c, BG_GREEN, buf, sizeof buf);
	snprintf(want, sizeof want, "%sadd element inet bg colors { "
	    "127.0.0.1 . 9001 : goto green , 127.0.0.1 . 9002 : goto blue }\n",
	    v4_head);
	ok(k > 0 && strcmp(buf, want) == 0, "ruleset: IPv4, green live");
	k = bg_nft_ruleset(&c, -1, buf, sizeof buf);
	ok(k > 0 && strcmp(buf, v4_head) == 0,
	    "ruleset: no color: the table, chains and an empty map");
	ok(bg_nft_ruleset(&c, BG_BLUE, buf, 100) == -1,
	    "ruleset: a buffer too small is refused");
	ok(bg_nft_ruleset(&c, BG_BLUE, buf, strlen(v4_head) + 10) == -1,
	    "ruleset: a buffer too small for the elements is refused");
	conf(&c, "[::1]:9001", "[0:0::1]:9002", "[::1]:8001", "[::1]:8002");
	strcpy(c.nft_table, "bg_2");
	k = bg_nft_ruleset(&c, BG_BLUE, buf, sizeof buf);
	ok(k > 0 && strstr(buf, "type ipv6_addr . inet_service") != NULL &&
	    strstr(buf, "add rule inet bg_2 blue meta l4proto tcp dnat ip6 to "
	    "[::1]:8001\n") != NULL && strstr(buf, "ip6 daddr . tcp dport") &&
	    strstr(buf, "colors { ::1 . 9001 : goto blue , ::1 . 9002 : goto "
	    "green }") != NULL, "ruleset: IPv6, canonical addresses, the "
	    "table name everywhere");
}

static void
confcheck(void)
{
	static const struct {
		const char *l, *s, *b, *g, *why;
	} t[] = {
		{ "127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:8001",
		    "127.0.0.1:8002", NULL },
		{ "127.0.0.5:80", "127.0.0.5:81", "127.0.0.1:8001",
		    "127.0.0.2:8001", NULL },
		{ "[::1]:9001", "[::1]:9002", "[::1]:8001", "[::1]:8002", NULL },
		{ "127.0.0.1:9001", "127.0.0.1:9001", "127.0.0.1:8001",
		    "127.0.0.1:8002", "same address" },
		{ "127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9001",
		    "127.0.0.1:8002", "same address" },
		{ "127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:8001",
		    "127.0.0.1:8001", "same address" },
		{ "10.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:8001",
		    "127.0.0.1:8002", "loopback" },
		{ "localhost:9001", "127.0.0.1:9002", "127.0.0.1:8001",
		    "127.0.0.1:8002", "numeric loopback" },
		{ "127.0.0.1:9001", "127.0.0.1:9002", "0.0.0.0:8001",
		    "127.0.0.1:8002", "loopback" },
		{ "[::1]:9001", "[::2]:9002", "[::1]:8001", "[::1]:8002",
		    "loopback" },
		{ "127.0.0.1:9001", "[::1]:9002", "127.0.0.1:8001",
		    "127.0.0.1:8002", "same family" },
		{ "127.0.0.1:9001", "127.0.0.1:9002", "[::1]:8001",
		    "127.0.0.1:8002", "same family" },
		{ "127.0.0.1:9001", "127.0.0.1:9002", "unix:/run/a.sock",
		    "127.0.0.1:8002", "not unix" },
	};
	struct bg_conf c;
	char why[300], what[400];
	size_t i;
	int r;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		conf(&c, t[i].l, t[i].s, t[i].b, t[i].g);
		why[0] = '\0';
		r = bg_nft_conf_check(&c, why, sizeof why);
		snprintf(what, sizeof what, "conf check: %s %s %s %s: %s",
		    t[i].l, t[i].s, t[i].b, t[i].g, t[i].why ? t[i].why : "ok");
		ok(t[i].why == NULL ? r == 0 : r == -1 &&
		    strstr(why, t[i].why) != NULL, what);
	}
}

static void
listed(void)
{
	static const char s[] = "table inet filter\ntable inet bg2\n"
	    "table ip bg\ntable inet bg\n";

	ok(bg_nft_listed(s, strlen(s), "bg") == 1, "listed: table inet bg");
	ok(bg_nft_listed(s, strlen(s) - 13, "bg") == 0,
	    "listed: bg2 and ip bg are not inet bg");
	ok(bg_nft_listed("", 0, "bg") == 0, "listed: no tables");
	ok(bg_nft_listed(s, strlen(s) - 1, "bg") == 1,
	    "listed: no final newline");
}

#define HEAD "table inet bg {\n\t" MARK
#define MAPV4 "\tmap colors {\n\t\ttype ipv4_addr . inet_service : verdict\n"
#define CHAINS "\t}\n\n\tchain blue {\n\t\tmeta l4proto 6 dnat ip to " \
    "127.0.0.1:8001\n\t}\n\n\tchain green {\n\t\tmeta l4proto 6 dnat ip " \
    "to 127.0.0.1:8002\n\t}\n\n\tchain output {\n\t\ttype nat hook output " \
    "priority -100; policy accept;\n\t\tip daddr . tcp dport vmap " \
    "@colors\n\t}\n}\n"

static void
parse(void)
{
	static const struct {
		const char *s, *what;
		int ours, color;
	} t[] = {
		{ HEAD MAPV4 "\t\telements = { 127.0.0.1 . 9001 : goto blue,\n"
		    "\t\t\t     127.0.0.1 . 9002 : goto green }\n" CHAINS,
		    "blue, elements folded over two lines", 1, BG_BLUE },
		{ HEAD MAPV4 "\t\telements = { 127.0.0.1 . 9002 : goto blue, "
		    "127.0.0.1 . 9001 : goto green }\n" CHAINS,
		    "green, on one line, staging first", 1, BG_GREEN },
		{ HEAD MAPV4 CHAINS, "an empty map: nothing", 1, -1 },
		{ HEAD MAPV4 "\t\telements = { 127.0.0.1 . 9001 : goto blue }\n"
		    CHAINS, "live only: a hand edit", 1, -2 },
		{ HEAD MAPV4 "\t\telements = { 127.0.0.1 . 9001 : goto blue, "
		    "127.0.0.1 . 9002 : goto blue }\n" CHAINS,
		    "both to blue: a hand edit", 1, -2 },
		{ HEAD MAPV4 "\t\telements = { 127.0.0.1 . 9001 : goto blue, "
		    "127.0.0.1 . 9002 : goto green, 127.0.0.1 . 22 : goto "
		    "blue }\n" CHAINS, "an element of someone else's", 1, -2 },
		{ HEAD MAPV4 "\t\telements = { 127.0.0.1 . 9001 : goto blue, "
		    "127.0.0.1 . 9001 : goto green, 127.0.0.1 . 9002 : goto "
		    "green }\n" CHAINS, "a key twice", 1, -2 },
		{ HEAD MAPV4 "\t\telements = { 127.0.0.1 . 9001 : accept, "
		    "127.0.0.1 . 9002 : goto green }\n" CHAINS,
		    "a verdict that is no color", 1, -2 },
		{ HEAD MAPV4 "\t\telements = { 127.0.0.1 . 9001 : goto blue,\n"
		    "\t\t\t     127.0.0.1 . 9002 : goto green \n" CHAINS,
		    "no closing brace: refused", 1, -2 },
		{ "table inet bg {\n" MAPV4 "\t\telements = { 127.0.0.1 . 9001 "
		    ": goto blue, 127.0.0.1 . 9002 : goto green }\n" CHAINS,
		    "no marker: not ours", 0, 0 },
		{ "table inet bg {\n\tcomment \"someone else\"\n" MAPV4 CHAINS,
		    "another comment: not ours", 0, 0 },
		{ HEAD "\tchain output {\n\t}\n}\n", "no map: not ours", 0, 0 },
		{ HEAD MAPV4 "\t}\n}\n", "no output chain: not ours", 0, 0 },
		{ "table inet bgx {\n\t" MARK MAPV4 CHAINS,
		    "another table's listing", 0, 0 },
		{ "", "nothing", 0, 0 },
	};
	struct bg_conf c;
	char what[200];
	size_t i;
	int r, color;

	conf(&c, "127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:8001",
	    "127.0.0.1:8002");
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		color = 99;
		r = bg_nft_parse(t[i].s, strlen(t[i].s), &c, &color);
		snprintf(what, sizeof what, "parse: %s", t[i].what);
		ok(r == t[i].ours && (!r ? color == 99 : color == t[i].color),
		    what);
	}
	{
		static const char s6[] = "table inet bg {\n\t" MARK
		    "\tmap colors {\n\t\ttype ipv6_addr . inet_service : "
		    "verdict\n\t\telements = { ::1 . 9001 : goto green, ::1 . "
		    "9002 : goto blue }\n\t}\n\n\tchain output {\n\t\ttype nat "
		    "hook output priority -100; policy accept;\n\t}\n}\n";

		conf(&c, "[::1]:9001", "[::1]:9002", "[::1]:8001",
		    "[::1]:8002");
		r = bg_nft_parse(s6, strlen(s6), &c, &color);
		ok(r == 1 && color == BG_GREEN, "parse: IPv6 keys");
	}
}

static void
targets(void)
{
	static const char moved[] = HEAD MAPV4 "\t}\n\n\tchain blue {\n\t\t"
	    "meta l4proto 6 dnat ip to 127.0.0.1:8003\n\t}\n\n\tchain green "
	    "{\n\t\tmeta l4proto 6 dnat ip to 127.0.0.1:8002\n\t}\n}\n";
	static const char two[] = HEAD MAPV4 "\t}\n\n\tchain blue {\n\t\t"
	    "counter packets 0 bytes 0\n\t\tmeta l4proto 6 dnat ip to "
	    "127.0.0.1:8001\n\t}\n\n\tchain green {\n\t\tmeta l4proto 6 "
	    "dnat ip to 127.0.0.1:8002\n\t}\n}\n";
	static const char v6[] = HEAD "\tchain blue {\n\t\tmeta l4proto 6 "
	    "dnat ip6 to [::1]:8001\n\t}\n\n\tchain green {\n\t\tmeta "
	    "l4proto 6 dnat ip6 to [::1]:8002\n\t}\n}\n";
	static const char s[] = HEAD MAPV4 CHAINS;
	struct bg_conf c;

	conf(&c, "127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:8001",
	    "127.0.0.1:8002");
	ok(bg_nft_targets(s, strlen(s), &c) == 1, "targets: as the config");
	ok(bg_nft_targets(moved, strlen(moved), &c) == 0,
	    "targets: blue's port is another");
	ok(bg_nft_targets(two, strlen(two), &c) == 0,
	    "targets: a rule added by hand");
	ok(bg_nft_targets(s, strlen(s) - 120, &c) == 0,
	    "targets: chain green cut short");
	conf(&c, "127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:18001",
	    "127.0.0.1:8002");
	ok(bg_nft_targets(s, strlen(s), &c) == 0,
	    "targets: 8001 is not 18001");
	conf(&c, "[::1]:9001", "[::1]:9002", "[::1]:8001", "[::1]:8002");
	ok(bg_nft_targets(v6, strlen(v6), &c) == 1, "targets: IPv6");
}

int
main(void)
{
	ruleset();
	confcheck();
	listed();
	parse();
	targets();
	printf("1..%d\n", n);
	return failed != 0;
}
