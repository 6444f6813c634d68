/* SPDX-License-Identifier: GPL-2.0-or-later */
/* MAC addresses as text (netcfg/mac.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "netcfg/netcfg.h"

static void test_parse(void **state)
{
	static const uint8_t want[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	uint8_t mac[6];

	assert_int_equal(netcfg_mac_parse("52:54:00:ab:cd:ef", mac), 0);
	assert_memory_equal(mac, want, 6);
	memset(mac, 0, sizeof(mac));
	assert_int_equal(netcfg_mac_parse("52:54:00:AB:Cd:eF", mac), 0);
	assert_memory_equal(mac, want, 6);
	assert_int_equal(netcfg_mac_parse("ff:ff:ff:ff:ff:ff", mac), 0);
	assert_int_equal(mac[0], 0xff);
}

static void test_parse_refused(void **state)
{
	static const char *const bad[] = {
		"", "52", "52:54:00:ab:cd", "52:54:00:ab:cd:ef:", "52:54:00:ab:cd:ef:01",
		"52:54:00:ab:cd:e", "52:54:00:ab:cd:efa", "5:54:00:ab:cd:ef",
		"52-54-00-ab-cd-ef", "525400abcdef", "52:54:00:ab:cd:eg", " 52:54:00:ab:cd:ef",
		"52:54:00:ab:cd:ef ", "52::54:00:ab:cd:ef", "0x:54:00:ab:cd:ef", "not-a-mac",
	};
	uint8_t mac[6];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(netcfg_mac_parse(bad[i], mac), -EINVAL);
}

static void test_format(void **state)
{
	static const uint8_t mac[6] = { 0x02, 0x62, 0x64, 0x0a, 0xBC, 0x00 };
	char buf[NETCFG_MAC_STRLEN];
	uint8_t back[6];

	assert_ptr_equal(netcfg_mac_format(mac, buf), buf);
	assert_string_equal(buf, "02:62:64:0a:bc:00");
	assert_int_equal(netcfg_mac_parse(buf, back), 0);
	assert_memory_equal(back, mac, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
