/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bridgectl doctor: is this host ready for bridged? Each check reads the
 * host (files under /proc and /sys, the TAP device, the configuration,
 * the control socket, iptables-save) and says ok, warn or error, with a
 * fix line. Nothing is changed. Exit status: 1 when a check says error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/timex.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "bridged/cli/cli.h"
#include "netcfg/config.h"
#include "tunnel/wire.h"

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

enum doc_level { DOC_OK, DOC_WARN, DOC_ERROR, _DOC_LEVEL_MAX };
static const char *const doc_level_names[_DOC_LEVEL_MAX] = {
	[DOC_OK] = "ok", [DOC_WARN] = "warn", [DOC_ERROR] = "error",
};

struct doctor {
	json_object *checks;
	unsigned count[_DOC_LEVEL_MAX];
};

/* Records one check; fix may be NULL for ok. */
static void __attribute__((format(printf, 5, 6)))
doc_add(struct doctor *doc, const char *id, enum doc_level lvl, const char *fix, const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "status", json_object_new_string(doc_level_names[lvl]));
	json_object_object_add(o, "message", json_object_new_string(msg));
	json_object_object_add(o, "fix", fix ? json_object_new_string(fix) : NULL);
	json_object_array_add(doc->checks, o);
	doc->count[lvl]++;
}

/* The first line of a file (trailing blanks cut); -errno. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return 0;
}

static int read_long(const char *path, long *ret)
{
	char buf[64], *end;
	int r = read_line(path, buf, sizeof(buf));

	if (r < 0)
		return r;
	*ret = strtol(buf, &end, 10);
	return end == buf ? -EINVAL : 0;
}

/* ---- the checks ------------------------------------------------------ */

static void check_key_file(struct doctor *doc, const struct config *c)
{
	const char *p = c->node.private_key_file;
	char fix[600];
	struct stat st;

	if (stat(p, &st) < 0) {
		snprintf(fix, sizeof(fix), "umask 077; bridgectl genkey > %s", p);
		doc_add(doc, "key-file", DOC_ERROR, fix, "PrivateKeyFile %s: %s", p, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		doc_add(doc, "key-file", DOC_ERROR, "point PrivateKeyFile at the file bridgectl genkey wrote",
			"PrivateKeyFile %s is not a regular file", p);
		return;
	}
	if (st.st_mode & 077) {
		snprintf(fix, sizeof(fix), "chmod 600 %s", p);
		doc_add(doc, "key-file", DOC_ERROR, fix,
			"PrivateKeyFile %s has mode %04o: group or others can read it, bridged refuses it",
			p, (unsigned)(st.st_mode & 07777));
		return;
	}
	if (st.st_uid != geteuid()) {
		snprintf(fix, sizeof(fix), "chown root: %s", p);
		doc_add(doc, "key-file", DOC_WARN, fix, "PrivateKeyFile %s is owned by uid %u, not by the daemon's user",
			p, (unsigned)st.st_uid);
		return;
	}
	doc_add(doc, "key-file", DOC_OK, NULL, "PrivateKeyFile %s: mode %04o", p, (unsigned)(st.st_mode & 07777));
}

static void check_tun(struct doctor *doc)
{
	struct stat st;
	unsigned feat = 0;
	int fd;

	if (stat("/dev/net/tun", &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 10 ||
	    minor(st.st_rdev) != 200) {
		doc_add(doc, "tun-device", DOC_ERROR,
			"mkdir -p /dev/net && mknod -m 0666 /dev/net/tun c 10 200 (and modprobe tun)",
			"/dev/net/tun is missing or not the TUN/TAP device (char 10:200)");
		return;
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		doc_add(doc, "tun-device", DOC_ERROR, "modprobe tun; run bridged as root (CAP_NET_ADMIN)",
			"/dev/net/tun cannot be opened: %s", strerror(errno));
		return;
	}
	if (ioctl(fd, TUNGETFEATURES, &feat) < 0)
		feat = 0;
	close(fd);
	doc_add(doc, "tun-device", DOC_OK, NULL, "/dev/net/tun opens (TAP devices can be made)");

	/* the fast path: virtio-net headers and queues on the TAP, UDP GRO */
	{
		char missing[128] = "";
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1;

		if (!(feat & IFF_VNET_HDR))
			strcat(missing, " IFF_VNET_HDR");
		if (!(feat & IFF_MULTI_QUEUE))
			strcat(missing, " IFF_MULTI_QUEUE");
		if (s < 0 || setsockopt(s, IPPROTO_UDP, UDP_GRO, &one, sizeof(one)) < 0)
			strcat(missing, " UDP_GRO");
		if (s >= 0)
			close(s);
		if (missing[0])
			doc_add(doc, "offloads", DOC_WARN, "a kernel of 5.0 or later has them all",
				"kernel offloads missing:%s; bridged works, slower", missing);
		else
			doc_add(doc, "offloads", DOC_OK, NULL, "TAP IFF_VNET_HDR and IFF_MULTI_QUEUE, UDP GRO available");
	}
}

static void check_bridge_nf(struct doctor *doc)
{
	static const char *const names[] = { "iptables", "ip6tables", "arptables" };

	for (size_t i = 0; i < 3; i++) {
		char rel[96], id[64], fix[256];
		long v;

		snprintf(rel, sizeof(rel), "/proc/sys/net/bridge/bridge-nf-call-%s", names[i]);
		snprintf(id, sizeof(id), "bridge-nf-call-%s", names[i]);
		if (read_long(rel, &v) < 0) {
			doc_add(doc, id, DOC_OK, NULL, "br_netfilter not loaded: bridged frames do not cross %s", names[i]);
			continue;
		}
		if (v) {
			snprintf(fix, sizeof(fix), "sysctl -w net.bridge.%s=0; echo net.bridge.%s=0 >> /etc/sysctl.d/90-bridged.conf",
				 id, id);
			doc_add(doc, id, DOC_WARN, fix,
				"net.bridge.%s = 1: every frame crossing a segment bridge goes through %s "
				"(slow, and its rules may drop the VMs' traffic)", id, names[i]);
		} else {
			doc_add(doc, id, DOC_OK, NULL, "net.bridge.%s = 0", id);
		}
	}
}

static void check_bridges(struct doctor *doc, const struct config *c)
{
	for (size_t i = 0; i < c->n_bridges; i++) {
		const struct bridge_cfg *b = &c->bridges[i];
		char rel[128], id[64], fix[256];
		long stp = 0, fd = 0;

		snprintf(id, sizeof(id), "bridge:%s", b->name);
		snprintf(rel, sizeof(rel), "/sys/class/net/%s/bridge/stp_state", b->name);
		if (read_long(rel, &stp) < 0) {
			snprintf(rel, sizeof(rel), "/sys/class/net/%s", b->name);
			if (access(rel, F_OK) == 0) {
				doc_add(doc, id, DOC_ERROR, "rename the bridge in bridged.conf, or remove that interface",
					"%s exists but is not a bridge", b->name);
				continue;
			}
			doc_add(doc, id, DOC_OK, NULL, "%s does not exist yet: bridged creates it (STP off, forward delay 0)",
				b->name);
			continue;
		}
		snprintf(rel, sizeof(rel), "/sys/class/net/%s/bridge/forward_delay", b->name);
		read_long(rel, &fd);
		if ((stp && !b->stp) || (fd && !b->stp && b->forward_delay == 0)) {
			snprintf(fix, sizeof(fix), "ip link set %s type bridge stp_state 0 forward_delay 0 "
				 "(and remove it from /etc/network/interfaces or networkd if set there)", b->name);
			doc_add(doc, id, DOC_WARN, fix,
				"segment bridge %s has STP %s and forward delay %ld.%02ld s: a tunnel port waits that long "
				"after every restart, and STP may block it", b->name, stp ? "on" : "off", fd / 100, fd % 100);
		} else {
			doc_add(doc, id, DOC_OK, NULL, "segment bridge %s: STP %s, forward delay %ld s", b->name,
				stp ? "on" : "off", fd / 100);
		}
	}
}

/* The interfaces that carry the underlay: the one holding ListenAddress,
 * and those on whose subnet a peer's endpoint is. */
static bool underlay_iface(const struct config *c, const struct ifaddrs *ifa)
{
	const struct sockaddr_in *a = (const struct sockaddr_in *)ifa->ifa_addr;
	const struct sockaddr_in *m = (const struct sockaddr_in *)ifa->ifa_netmask;
	const struct sockaddr_in *l = (const struct sockaddr_in *)&c->node.listen;

	if (!a || a->sin_family != AF_INET || !m || (ifa->ifa_flags & IFF_LOOPBACK))
		return false;
	if (l->sin_family == AF_INET && l->sin_addr.s_addr == a->sin_addr.s_addr)
		return true;
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct sockaddr_in *e = (const struct sockaddr_in *)&c->peers[i].endpoint;

		if (c->peers[i].has_endpoint && e->sin_family == AF_INET &&
		    ((e->sin_addr.s_addr ^ a->sin_addr.s_addr) & m->sin_addr.s_addr) == 0)
			return true;
	}
	return false;
}

static void check_underlay(struct doctor *doc, const struct config *c)
{
	struct ifaddrs *ifs = NULL;
	char rel[128], fix[300];
	long all = 0, v, mtu;
	bool any = false;
	/* a 1500-byte frame (+14 Ethernet) in one packet: data header, AEAD
	 * tag, UDP, IPv4 */
	const long need = 1500 + 14 + WIRE_DATA_HDR_LEN + WIRE_TAG_LEN + 8 + 20;

	read_long("/proc/sys/net/ipv4/conf/all/rp_filter", &all);
	if (getifaddrs(&ifs) < 0)
		ifs = NULL;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!underlay_iface(c, i))
			continue;
		any = true;
		snprintf(rel, sizeof(rel), "/proc/sys/net/ipv4/conf/%s/rp_filter", i->ifa_name);
		v = 0;
		read_long(rel, &v);
		/* the kernel uses the larger of "all" and the interface's */
		if ((all > v ? all : v) == 1) {
			snprintf(fix, sizeof(fix), "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.%s.rp_filter=2 "
				 "(loose), and the same in /etc/sysctl.d/", i->ifa_name);
			doc_add(doc, "rp-filter", DOC_WARN, fix,
				"strict reverse-path filter on underlay %s: tunnel packets from a peer that the "
				"routes would reach through another interface are dropped", i->ifa_name);
		} else {
			doc_add(doc, "rp-filter", DOC_OK, NULL, "underlay %s: rp_filter %ld", i->ifa_name,
				all > v ? all : v);
		}
		snprintf(rel, sizeof(rel), "/sys/class/net/%s/mtu", i->ifa_name);
		if (read_long(rel, &mtu) < 0)
			continue;
		if (mtu < 1280) {
			snprintf(fix, sizeof(fix), "ip link set %s mtu 1500", i->ifa_name);
			doc_add(doc, "underlay-mtu", DOC_WARN, fix,
				"underlay %s MTU %ld: a 1500-byte frame takes %ld packets; below 1280 the "
				"overhead grows fast", i->ifa_name, mtu, (need + mtu - 29) / (mtu - 28));
		} else if (mtu < need) {
			doc_add(doc, "underlay-mtu", DOC_OK, NULL,
				"underlay %s MTU %ld: 1500-byte frames are split by bridged in two packets "
				"(no IP fragmentation; %ld would carry them whole)", i->ifa_name, mtu, need);
		} else {
			doc_add(doc, "underlay-mtu", DOC_OK, NULL, "underlay %s MTU %ld: 1500-byte frames travel whole",
				i->ifa_name, mtu);
		}
	}
	if (ifs)
		freeifaddrs(ifs);
	if (!any)
		doc_add(doc, "underlay", DOC_WARN, "set ListenAddress, or a peer Endpoint on a connected subnet",
			"no local interface found for the underlay (ListenAddress any, no peer endpoint on a "
			"connected subnet): rp_filter and MTU not checked; all.rp_filter = %ld", all);
}

/* Runs argv, its stdout into a malloc'd string (at most 1 MiB); NULL if it
 * cannot run or fails. */
static char *run_capture(const char *const argv[])
{
	int p[2], st;
	size_t len = 0, cap = 65536;
	char *buf;
	pid_t pid;
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		if (devnull >= 0)
			dup2(devnull, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	buf = malloc(cap + 1);
	while (buf && (n = read(p[0], buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap)
			break;
	}
	close(p[0]);
	waitpid(pid, &st, 0);
	if (!buf || !WIFEXITED(st) || WEXITSTATUS(st)) {
		free(buf);
		return NULL;
	}
	buf[len] = 0;
	return buf;
}

/* Whether an iptables-save rule line (after "-A INPUT ") has a word. */
static bool rule_has(const char *rule, const char *word)
{
	size_t n = strlen(word);

	for (const char *s = strstr(rule, word); s; s = strstr(s + 1, word))
		if ((s == rule || s[-1] == ' ') && (s[n] == ' ' || s[n] == 0))
			return true;
	return false;
}

/* What the filter table's INPUT chain does to UDP to port: "ACCEPT",
 * "DROP" or "REJECT", from the first rule that matches every such packet
 * (no source, interface or state conditions), else the policy. ret_rule:
 * that rule's line, or "". Rules with conditions are skipped (counted in
 * *ret_conditional). A pure function of iptables-save's text. */
const char *doctor_fw_verdict(const char *save, unsigned port, char *ret_rule, size_t len,
			      unsigned *ret_conditional);
const char *doctor_fw_verdict(const char *save, unsigned port, char *ret_rule, size_t len,
			      unsigned *ret_conditional)
{
	static char policy[16];
	bool in_filter = false;
	const char *line = save;
	char dport[32], dports[32];

	snprintf(policy, sizeof(policy), "ACCEPT");
	*ret_conditional = 0;
	ret_rule[0] = 0;
	snprintf(dport, sizeof(dport), "--dport %u", port);
	snprintf(dports, sizeof(dports), "%u", port);
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		char l[1024];
		size_t n = nl ? (size_t)(nl - line) : strlen(line);

		snprintf(l, sizeof(l), "%.*s", (int)(n < sizeof(l) - 1 ? n : sizeof(l) - 1), line);
		line = nl ? nl + 1 : NULL;
		if (l[0] == '*') {
			in_filter = !strcmp(l, "*filter");
			continue;
		}
		if (!in_filter)
			continue;
		if (!strncmp(l, ":INPUT ", 7)) {
			sscanf(l + 7, "%15s", policy);
			continue;
		}
		if (strncmp(l, "-A INPUT ", 9))
			continue;
		{
			const char *r = l + 9, *j = strstr(r, "-j ");
			char target[16] = "";
			bool proto_ok, port_ok;

			if (!j)
				continue;
			sscanf(j + 3, "%15s", target);
			if (strcmp(target, "ACCEPT") && strcmp(target, "DROP") && strcmp(target, "REJECT"))
				continue;
			proto_ok = !strstr(r, "-p ") || rule_has(r, "udp") || rule_has(r, "17");
			if (strstr(r, "--dport ") || strstr(r, "--dports "))
				port_ok = strstr(r, dport) != NULL ||
					  (strstr(r, "--dports ") && strstr(strstr(r, "--dports "), dports));
			else
				port_ok = true;
			if (!proto_ok || !port_ok)
				continue;
			/* conditions that a peer's packet may or may not meet */
			if (strstr(r, "-s ") || strstr(r, "-i ") || strstr(r, "--state") || strstr(r, "--ctstate") ||
			    strstr(r, "! ") || strstr(r, "-m limit") || strstr(r, "-m statistic") ||
			    strstr(r, "-m set") || strstr(r, "--sport")) {
				(*ret_conditional)++;
				continue;
			}
			snprintf(ret_rule, len, "%s", l);
			return !strcmp(target, "ACCEPT") ? "ACCEPT" : !strcmp(target, "DROP") ? "DROP" : "REJECT";
		}
	}
	return policy;
}

static void check_firewall(struct doctor *doc, const struct config *c)
{
	const char *const argv4[] = { "iptables-save", "-t", "filter", NULL };
	unsigned port = ntohs(((const struct sockaddr_in *)&c->node.listen)->sin_port), cond = 0;
	char rule[512], fix[600];
	const char *v;
	char *save = run_capture(argv4);

	if (!save) {
		doc_add(doc, "udp-port", DOC_OK, NULL, "iptables-save not available: no iptables rules to check "
			"(nftables rules of its own are not read)");
		return;
	}
	v = doctor_fw_verdict(save, port, rule, sizeof(rule), &cond);
	free(save);
	if (!strcmp(v, "ACCEPT")) {
		doc_add(doc, "udp-port", DOC_OK, NULL, "UDP port %u: accepted by the INPUT chain%s%s%s", port,
			rule[0] ? " (" : " (policy)", rule, rule[0] ? ")" : "");
		return;
	}
	snprintf(fix, sizeof(fix), "iptables -I INPUT -p udp --dport %u -j ACCEPT (and in the saved rules, "
		 "e.g. /etc/iptables/rules.v4)", port);
	if (rule[0])
		doc_add(doc, "udp-port", DOC_ERROR, fix, "UDP port %u is dropped by the INPUT rule '%s'", port, rule);
	else
		doc_add(doc, "udp-port", DOC_ERROR, fix, "UDP port %u is dropped by the INPUT policy %s%s", port, v,
			cond ? " (rules with conditions were not counted)" : "");
}

static void check_clock(struct doctor *doc)
{
	struct timex tx = { 0 };
	int st = adjtimex(&tx);

	if (st == TIME_ERROR || (tx.status & STA_UNSYNC))
		doc_add(doc, "clock", DOC_WARN, "install and enable an NTP client (systemd-timesyncd, chrony)",
			"the clock is not synchronised: the handshake's timestamps order initiations, and a "
			"clock set back makes a peer refuse them until it passes the last one");
	else
		doc_add(doc, "clock", DOC_OK, NULL, "the clock is synchronised (estimated error %ld us)", tx.esterror);
}

static void check_libvirt(struct doctor *doc)
{
	bool autostart, active;

	autostart = access("/etc/libvirt/qemu/networks/autostart/default.xml",
			   F_OK) == 0;
	active = access("/run/libvirt/network/default.xml", F_OK) == 0;
	if (!autostart && !active) {
		doc_add(doc, "libvirt-default-network", DOC_OK, NULL,
			"libvirt's default NAT network is neither active nor autostarted");
		return;
	}
	doc_add(doc, "libvirt-default-network", DOC_WARN,
		active ? "virsh net-destroy default; virsh net-autostart default --disable"
		       : "virsh net-autostart default --disable",
		"libvirt's default NAT network is %s%s%s: VMs defined without a bridge land on virbr0, "
		"off the segments", active ? "active" : "", active && autostart ? " and " : "",
		autostart ? "autostarted" : "");
}

static void check_daemon(struct doctor *doc, const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	char fix[300];

	snprintf(fix, sizeof(fix), "systemctl start bridged (journalctl -u bridged says why it is not running)");
	if (strlen(sock) >= sizeof(sa.sun_path)) {
		doc_add(doc, "daemon", DOC_ERROR, "a shorter ControlSocket", "control socket path too long: %s", sock);
		return;
	}
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(fd);
		doc_add(doc, "daemon", DOC_OK, NULL, "bridged answers on %s", sock);
		return;
	}
	doc_add(doc, "daemon", DOC_ERROR, fix, "no bridged answers on %s: %s", sock, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static const char doctor_help[] =
"Usage: bridgectl doctor [--json] [--config FILE]\n"
"\n"
"Checks that this host is ready for bridged and says, for each check, ok,\n"
"warn or error, and how to fix it. Nothing is changed. The checks:\n"
"  config                    the configuration parses (bridged -n)\n"
"  daemon                    bridged answers on its control socket\n"
"  key-file                  PrivateKeyFile exists, mode 0600 (bridged refuses more)\n"
"  tun-device                /dev/net/tun is the TUN/TAP device and opens\n"
"  offloads                  TAP vnet headers and queues, UDP GRO (the fast path)\n"
"  bridge-nf-call-iptables   net.bridge.bridge-nf-call-* = 1 sends every\n"
"  bridge-nf-call-ip6tables  bridged frame through iptables, ip6tables,\n"
"  bridge-nf-call-arptables  arptables\n"
"  bridge:NAME               a segment bridge with STP on or a forward delay\n"
"                            (unless bridged.conf asks for them)\n"
"  rp-filter                 strict reverse-path filtering on the underlay\n"
"  underlay-mtu              the underlay's MTU against 1500-byte frames\n"
"  udp-port                  the ListenPort against the iptables INPUT chain\n"
"  clock                     the clock is NTP-synchronised\n"
"  libvirt-default-network   libvirt's NAT network active or autostarted\n"
"\n"
"Options:\n"
"  --json          one JSON object: {\"checks\": [{\"id\", \"status\", \"message\",\n"
"                  \"fix\"}...], \"errors\": N, \"warnings\": N}\n"
"  --config FILE   the daemon's configuration (default " CONFIG_DEFAULT_PATH ")\n"
"  -h, --help      this text\n"
"\n"
"The control socket is --socket, else the configuration's ControlSocket.\n"
"\n"
"Exit status: 0 when no check says error (warnings allowed), 1 when one\n"
"does, 2 on a usage error.\n";


int doctor_main(int argc, char **argv)
{
	struct doctor doc = { .checks = json_object_new_array() };
	struct config_errors errs = { 0 };
	struct config *c = NULL;
	const char *cfg = CONFIG_DEFAULT_PATH, *sock = cli_socket;
	bool json = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			cfg = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(doctor_help, stdout);
			json_object_put(doc.checks);
			return 0;
		} else {
			fprintf(stderr, "bridgectl doctor: %s '%s'\n%s",
				!strcmp(argv[i], "--config") ? "missing FILE after" : "unknown argument", argv[i],
				doctor_help);
			json_object_put(doc.checks);
			return 2;
		}
	}

	if (config_parse_file(cfg, &c, &errs) < 0) {
		char fix[600];

		snprintf(fix, sizeof(fix), "bridged -n -c %s shows every error; docs: bridged.conf(5)", cfg);
		doc_add(&doc, "config", DOC_ERROR, fix, "%s%s", errs.n ? errs.msgs[0] : "cannot be read",
			errs.n > 1 ? " (and more)" : "");
		c = NULL;
	} else {
		doc_add(&doc, "config", DOC_OK, NULL, "%s: %zu bridge(s), %zu peer(s)", cfg, c->n_bridges, c->n_peers);
		if (!strcmp(sock, CONFIG_DEFAULT_SOCKET))
			sock = c->node.control_socket;
	}
	config_errors_clear(&errs);
	check_daemon(&doc, sock);
	if (c)
		check_key_file(&doc, c);
	check_tun(&doc);
	check_bridge_nf(&doc);
	if (c) {
		check_bridges(&doc, c);
		check_underlay(&doc, c);
		check_firewall(&doc, c);
	}
	check_clock(&doc);
	check_libvirt(&doc);

	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "checks", json_object_get(doc.checks));
		json_object_object_add(o, "errors", json_object_new_int((int)doc.count[DOC_ERROR]));
		json_object_object_add(o, "warnings", json_object_new_int((int)doc.count[DOC_WARN]));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		for (size_t i = 0; i < json_object_array_length(doc.checks); i++) {
			json_object *o = json_object_array_get_idx(doc.checks, i), *fix;

			printf("%-6s %-26s %s\n", json_object_get_string(json_object_object_get(o, "status")),
			       json_object_get_string(json_object_object_get(o, "id")),
			       json_object_get_string(json_object_object_get(o, "message")));
			fix = json_object_object_get(o, "fix");
			if (fix)
				printf("%-6s %-26s fix: %s\n", "", "", json_object_get_string(fix));
		}
		printf("\n%u error(s), %u warning(s)\n", doc.count[DOC_ERROR], doc.count[DOC_WARN]);
	}
	rc = doc.count[DOC_ERROR] ? 1 : 0;
	json_object_put(doc.checks);
	config_free(c);
	return rc;
}
