/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of netcfg/reconcile.c: (desired, observed) -> actions, with
 * hand-made link snapshots and no kernel. Links: netcfg/reconcile.o,
 * common/log.o.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netcfg/reconcile.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The scene: bridges br-dmz (ifindex 10) and br-sv (11), tunnel ports
 * tap-a-dmz and tap-b-dmz in br-dmz, tap-a-sv in br-sv, plus a VM port and
 * a stray link that the desired state does not mention. */
static const struct bridge_cfg bridges[] = {
	{ .name = "br-dmz", .segment = "dmz" },
	{ .name = "br-sv", .segment = "sv" },
};

static const struct reconcile_port ports[] = {
	{ .name = "tap-a-dmz", .bridge = "br-dmz" },
	{ .name = "tap-b-dmz", .bridge = "br-dmz" },
	{ .name = "tap-a-sv", .bridge = "br-sv" },
};

static const struct reconcile_desired desired = {
	.bridges = bridges, .n_bridges = ARRAY_SIZE(bridges),
	.ports = ports, .n_ports = ARRAY_SIZE(ports),
};

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000   /* <linux/if.h>; glibc's <net/if.h> lacks it */
#endif
#define UP (IFF_UP | IFF_LOWER_UP)

static struct netcfg_link in_sync[] = {
	{ .ifindex = 1, .name = "lo", .kind = "", .flags = UP, .port_state = -1 },
	{ .ifindex = 10, .name = "br-dmz", .kind = "bridge", .flags = UP, .port_state = -1 },
	{ .ifindex = 11, .name = "br-sv", .kind = "bridge", .flags = UP, .port_state = -1 },
	{ .ifindex = 20, .name = "tap-a-dmz", .kind = "tun", .master = 10, .flags = UP, .port_state = 3 },
	{ .ifindex = 21, .name = "tap-b-dmz", .kind = "tun", .master = 10, .flags = UP, .port_state = 4 },
	{ .ifindex = 22, .name = "tap-a-sv", .kind = "tun", .master = 11, .flags = UP, .port_state = 3 },
	{ .ifindex = 30, .name = "vnet0", .kind = "tun", .master = 10, .flags = UP, .port_state = 3 },
	{ .ifindex = 31, .name = "eth9", .kind = "veth", .flags = 0, .port_state = -1 },
};

/* A mutable copy of in_sync for each test. */
static struct netcfg_link obs[ARRAY_SIZE(in_sync)];
static size_t n_obs;

static int setup(void **state)
{
	memcpy(obs, in_sync, sizeof(obs));
	n_obs = ARRAY_SIZE(obs);
	return 0;
}

static struct netcfg_link *obs_find(const char *name)
{
	size_t i;

	for (i = 0; i < n_obs; i++)
		if (strcmp(obs[i].name, name) == 0)
			return &obs[i];
	fail_msg("no observed link %s", name);
	abort();                /* fail_msg does not return; tell the compiler */
}

static void obs_remove(const char *name)
{
	struct netcfg_link *l = obs_find(name);
	size_t i = (size_t)(l - obs);

	memmove(&obs[i], &obs[i + 1], (n_obs - i - 1) * sizeof(obs[0]));
	n_obs--;
}

struct expect {
	enum reconcile_op op;
	const char *name;
	const char *bridge;      /* "" for bridge actions */
	size_t bridge_index;
};

static void run_and_check(const struct reconcile_desired *d,
			  const struct expect *exp, size_t n_exp)
{
	struct reconcile_action *a = NULL;
	size_t n = 999, i;

	assert_int_equal(reconcile(d, obs, n_obs, &a, &n), 0);
	assert_non_null(a);
	for (i = 0; i < n; i++)
		print_message("  action %zu: %s %s (%s)\n", i,
			      reconcile_op_to_string(a[i].op), a[i].name, a[i].bridge);
	assert_int_equal(n, n_exp);
	for (i = 0; i < n; i++) {
		assert_string_equal(reconcile_op_to_string(a[i].op),
				    reconcile_op_to_string(exp[i].op));
		assert_string_equal(a[i].name, exp[i].name);
		assert_string_equal(a[i].bridge, exp[i].bridge);
		assert_int_equal(a[i].bridge_index, exp[i].bridge_index);
	}
	free(a);
}

static void test_in_sync(void **state)
{
	run_and_check(&desired, NULL, 0);
}

static void test_empty_desired(void **state)
{
	const struct reconcile_desired none = { 0 };

	run_and_check(&none, NULL, 0);
	n_obs = 0;
	run_and_check(&none, NULL, 0);
}

/* Someone ran "ip link del br-dmz": the kernel released its ports. */
static void test_bridge_deleted(void **state)
{
	const struct expect exp[] = {
		{ RECONCILE_CREATE_BRIDGE, "br-dmz", "", 0 },
		{ RECONCILE_ENSLAVE, "tap-a-dmz", "br-dmz", 0 },
		{ RECONCILE_ENSLAVE, "tap-b-dmz", "br-dmz", 0 },
	};

	obs_remove("br-dmz");
	obs_find("tap-a-dmz")->master = 0;
	obs_find("tap-b-dmz")->master = 0;
	obs_find("vnet0")->master = 0;
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
}

/* Even a stale snapshot that still shows the old master must enslave: the
 * new bridge will have another ifindex. */
static void test_bridge_missing_stale_master(void **state)
{
	const struct expect exp[] = {
		{ RECONCILE_CREATE_BRIDGE, "br-sv", "", 1 },
		{ RECONCILE_ENSLAVE, "tap-a-sv", "br-sv", 1 },
	};

	obs_remove("br-sv");
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
}

/* "ip link set tap-b-dmz nomaster". */
static void test_port_pulled_out(void **state)
{
	const struct expect exp[] = {
		{ RECONCILE_ENSLAVE, "tap-b-dmz", "br-dmz", 0 },
	};

	obs_find("tap-b-dmz")->master = 0;
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
}

/* "ip link set tap-a-sv master br-dmz". */
static void test_port_in_wrong_bridge(void **state)
{
	const struct expect exp[] = {
		{ RECONCILE_ENSLAVE, "tap-a-sv", "br-sv", 1 },
	};

	obs_find("tap-a-sv")->master = 10;
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
}

/* br-sv's name is taken by a veth: report it, touch neither it nor the
 * port that belongs in br-sv (enslaving into a non-bridge is wrong). */
static void test_conflict(void **state)
{
	struct netcfg_link *l = obs_find("br-sv");
	const struct expect exp[] = {
		{ RECONCILE_CONFLICT, "br-sv", "", 1 },
		{ RECONCILE_PORT_UP, "tap-a-sv", "br-sv", 1 },
	};

	strcpy(l->kind, "veth");
	l->flags = 0;                           /* no BRIDGE_UP for it either */
	obs_find("tap-a-sv")->master = 0;
	obs_find("tap-a-sv")->flags = 0;
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
}

/* A link without IFLA_INFO_KIND (kind "") is no bridge either. */
static void test_conflict_no_kind(void **state)
{
	const struct expect exp[] = {
		{ RECONCILE_CONFLICT, "br-dmz", "", 0 },
	};

	obs_find("br-dmz")->kind[0] = '\0';
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
}

static void test_bridge_down(void **state)
{
	const struct expect exp[] = {
		{ RECONCILE_BRIDGE_UP, "br-sv", "", 1 },
	};

	obs_find("br-sv")->flags = IFF_LOWER_UP;   /* carrier without IFF_UP */
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
}

static void test_port_down(void **state)
{
	const struct expect exp[] = {
		{ RECONCILE_PORT_UP, "tap-a-dmz", "br-dmz", 0 },
	};

	obs_find("tap-a-dmz")->flags = 0;
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
}

static void test_port_missing(void **state)
{
	const struct expect exp[] = {
		{ RECONCILE_PORT_MISSING, "tap-a-sv", "br-sv", 1 },
	};

	obs_remove("tap-a-sv");
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
}

/* Everything broken at once: bridges first (configuration order), then
 * ports (given order), ENSLAVE before PORT_UP for the same port. The
 * observed array is shuffled to show that its order does not matter. */
static void test_ordering(void **state)
{
	const struct expect exp[] = {
		{ RECONCILE_BRIDGE_UP, "br-dmz", "", 0 },
		{ RECONCILE_CREATE_BRIDGE, "br-sv", "", 1 },
		{ RECONCILE_ENSLAVE, "tap-a-dmz", "br-dmz", 0 },
		{ RECONCILE_PORT_UP, "tap-a-dmz", "br-dmz", 0 },
		{ RECONCILE_PORT_MISSING, "tap-b-dmz", "br-dmz", 0 },
		{ RECONCILE_ENSLAVE, "tap-a-sv", "br-sv", 1 },
		{ RECONCILE_PORT_UP, "tap-a-sv", "br-sv", 1 },
	};
	struct netcfg_link tmp;
	size_t i;

	obs_find("br-dmz")->flags = 0;
	obs_remove("br-sv");
	obs_find("tap-a-dmz")->master = 0;
	obs_find("tap-a-dmz")->flags = 0;
	obs_remove("tap-b-dmz");
	obs_find("tap-a-sv")->master = 0;
	obs_find("tap-a-sv")->flags = 0;
	for (i = 0; i < n_obs / 2; i++) {
		tmp = obs[i];
		obs[i] = obs[n_obs - 1 - i];
		obs[n_obs - 1 - i] = tmp;
	}
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
	/* Deterministic: the same input gives the same output again. */
	run_and_check(&desired, exp, ARRAY_SIZE(exp));
}

/* A port whose bridge is not a configured one (e.g. a leftover): the
 * bridge_index says so, and the observed bridge of that name still counts. */
static void test_port_of_unconfigured_bridge(void **state)
{
	const struct reconcile_port p[] = {
		{ .name = "tap-a-dmz", .bridge = "br-dmz" },
	};
	const struct reconcile_desired d = {
		.bridges = bridges + 1, .n_bridges = 1,   /* br-sv only */
		.ports = p, .n_ports = 1,
	};
	const struct expect exp[] = {
		{ RECONCILE_ENSLAVE, "tap-a-dmz", "br-dmz", RECONCILE_NO_BRIDGE },
	};

	run_and_check(&d, NULL, 0);
	obs_find("tap-a-dmz")->master = 11;
	run_and_check(&d, exp, ARRAY_SIZE(exp));
}

/* Names that fill IFNAMSIZ exactly (15 chars + NUL) are copied whole. */
static void test_long_names(void **state)
{
	const struct bridge_cfg b[] = { { .name = "br-0123456789ab" } };
	const struct reconcile_port p[] = {
		{ .name = "tap-0123456789a", .bridge = "br-0123456789ab" },
	};
	const struct reconcile_desired d = {
		.bridges = b, .n_bridges = 1, .ports = p, .n_ports = 1,
	};
	const struct expect exp[] = {
		{ RECONCILE_CREATE_BRIDGE, "br-0123456789ab", "", 0 },
		{ RECONCILE_PORT_MISSING, "tap-0123456789a", "br-0123456789ab", 0 },
	};

	run_and_check(&d, exp, ARRAY_SIZE(exp));
}

/* The loop guard holds tap-b-dmz blocked: the kernel shows it DISABLED on
 * an STP-off bridge (in_sync has BLOCKING): both count as blocked. */
static void test_blocked_in_sync(void **state)
{
	struct reconcile_port p[ARRAY_SIZE(ports)];
	struct reconcile_desired d = desired;

	memcpy(p, ports, sizeof(p));
	p[1].blocked = true;
	d.ports = p;
	run_and_check(&d, NULL, 0);
	obs_find("tap-b-dmz")->port_state = PORT_STATE_DISABLED;
	run_and_check(&d, NULL, 0);
	obs_find("tap-b-dmz")->port_state = PORT_STATE_LISTENING;
	run_and_check(&d, NULL, 0);
}

/* Carrier came back and the kernel made the port forward again; or it was
 * learning. Unblocked ports in the same state need nothing. */
static void test_blocked_but_forwarding(void **state)
{
	struct reconcile_port p[ARRAY_SIZE(ports)];
	struct reconcile_desired d = desired;
	const struct expect exp[] = {
		{ RECONCILE_PORT_BLOCK, "tap-b-dmz", "br-dmz", 0 },
	};

	memcpy(p, ports, sizeof(p));
	p[1].blocked = true;
	d.ports = p;
	obs_find("tap-b-dmz")->port_state = PORT_STATE_FORWARDING;
	run_and_check(&d, exp, ARRAY_SIZE(exp));
	obs_find("tap-b-dmz")->port_state = PORT_STATE_LEARNING;
	run_and_check(&d, exp, ARRAY_SIZE(exp));
	p[1].blocked = false;
	run_and_check(&d, NULL, 0);
}

/* A blocked port out of its bridge and down: enslave, up, then block (the
 * kernel refuses a state on a port that is down or not a port yet). Not
 * when its bridge's name is in conflict. */
static void test_blocked_reenslaved(void **state)
{
	struct reconcile_port p[ARRAY_SIZE(ports)];
	struct reconcile_desired d = desired;
	const struct expect exp[] = {
		{ RECONCILE_ENSLAVE, "tap-a-dmz", "br-dmz", 0 },
		{ RECONCILE_PORT_UP, "tap-a-dmz", "br-dmz", 0 },
		{ RECONCILE_PORT_BLOCK, "tap-a-dmz", "br-dmz", 0 },
	};
	const struct expect exp_conflict[] = {
		{ RECONCILE_CONFLICT, "br-dmz", "", 0 },
		{ RECONCILE_PORT_UP, "tap-a-dmz", "br-dmz", 0 },
	};

	memcpy(p, ports, sizeof(p));
	p[0].blocked = true;
	d.ports = p;
	obs_find("tap-a-dmz")->master = 0;
	obs_find("tap-a-dmz")->flags = 0;
	obs_find("tap-a-dmz")->port_state = -1;
	run_and_check(&d, exp, ARRAY_SIZE(exp));
	strcpy(obs_find("br-dmz")->kind, "team");
	obs_find("tap-a-dmz")->master = 10;
	obs_find("tap-a-dmz")->port_state = PORT_STATE_FORWARDING;
	run_and_check(&d, exp_conflict, ARRAY_SIZE(exp_conflict));
}

static void test_strings(void **state)
{
	int i;

	assert_string_equal(reconcile_op_to_string(RECONCILE_CREATE_BRIDGE), "create-bridge");
	assert_string_equal(reconcile_op_to_string(RECONCILE_PORT_MISSING), "port-missing");
	assert_string_equal(reconcile_op_to_string(RECONCILE_PORT_BLOCK), "port-block");
	for (i = 0; i < _RECONCILE_OP_MAX; i++)
		assert_non_null(reconcile_op_to_string((enum reconcile_op)i));
	assert_null(reconcile_op_to_string(_RECONCILE_OP_MAX));
	assert_null(reconcile_op_to_string((enum reconcile_op)-1));

	assert_string_equal(port_state_to_string(PORT_STATE_BLOCKING), "blocking");
	assert_string_equal(port_state_to_string(PORT_STATE_FORWARDING), "forwarding");
	assert_string_equal(port_state_to_string(PORT_STATE_DISABLED), "disabled");
	for (i = 0; i < _PORT_STATE_MAX; i++)
		assert_non_null(port_state_to_string((enum port_state)i));
	assert_null(port_state_to_string(_PORT_STATE_MAX));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_in_sync, setup),
		cmocka_unit_test_setup(test_empty_desired, setup),
		cmocka_unit_test_setup(test_bridge_deleted, setup),
		cmocka_unit_test_setup(test_bridge_missing_stale_master, setup),
		cmocka_unit_test_setup(test_port_pulled_out, setup),
		cmocka_unit_test_setup(test_port_in_wrong_bridge, setup),
		cmocka_unit_test_setup(test_conflict, setup),
		cmocka_unit_test_setup(test_conflict_no_kind, setup),
		cmocka_unit_test_setup(test_bridge_down, setup),
		cmocka_unit_test_setup(test_port_down, setup),
		cmocka_unit_test_setup(test_port_missing, setup),
		cmocka_unit_test_setup(test_ordering, setup),
		cmocka_unit_test_setup(test_port_of_unconfigured_bridge, setup),
		cmocka_unit_test_setup(test_long_names, setup),
		cmocka_unit_test_setup(test_blocked_in_sync, setup),
		cmocka_unit_test_setup(test_blocked_but_forwarding, setup),
		cmocka_unit_test_setup(test_blocked_reenslaved, setup),
		cmocka_unit_test(test_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
