/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the guest file parsers of preflight
 * (migrate/guest/parse.c, cpio.c). The first byte picks the parser, the
 * rest is the file; every parser must return 0 or -ENOMEM and its result
 * must be walkable and freeable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/guest/cpio.h"
#include "migrate/guest/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dev(const char *key, const char *d, void *u)
{
	struct guest_devname n;

	(void)key;
	(void)u;
	guest_devname_parse(d, &n);
}

static int cpio_entry(const char *name, uint32_t mode, void *u)
{
	(void)mode;
	(void)u;
	return strlen(name) > 4096;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;

	if (!size || size > 262144)
		return 0;
	switch (data[0] % 8) {
	case 0: {
		struct guest_fstab f;

		if (guest_fstab_parse(buf, len, &f) == 0) {
			for (size_t i = 0; i < f.n; i++) {
				struct guest_devname n;

				guest_devname_parse(f.entries[i].spec, &n);
				guest_opts_has(f.entries[i].opts, "noauto");
			}
			guest_fstab_clear(&f);
		}
		break;
	}
	case 1:
	case 2:
	case 3: {
		struct guest_grub g;

		if (guest_grub_parse((enum guest_grub_flavour)(data[0] % 8 - 1), buf, len, &g) == 0) {
			const struct guest_boot_entry *e = guest_grub_default(&g);
			char v[256];

			for (size_t i = 0; i < g.n; i++) {
				guest_cmdline_devices(g.entries[i].args, dev, NULL);
				guest_cmdline_get(g.entries[i].args, "console", v, sizeof(v));
			}
			if (e && (e < g.entries || e >= g.entries + g.n))
				abort();
			guest_grub_clear(&g);
		}
		break;
	}
	case 4: {
		struct guest_inittab t;

		if (guest_inittab_parse(buf, len, &t) == 0)
			guest_inittab_clear(&t);
		break;
	}
	case 5: {
		struct guest_names n;

		if (guest_securetty_parse(buf, len, &n) == 0)
			guest_names_clear(&n);
		if (guest_modules_parse(buf, len, &n) == 0)
			guest_names_clear(&n);
		break;
	}
	case 6: {
		struct guest_udev_rules r;

		if (guest_udev_parse(buf, len, &r) == 0) {
			for (size_t i = 0; i < r.n; i++)
				guest_udev_get(&r.rules[i], "ATTR", "address", GUEST_UDEV_MATCH);
			guest_udev_clear(&r);
		}
		break;
	}
	case 7: {
		/* the cpio reader, fed in uneven chunks */
		struct guest_cpio *c = guest_cpio_new(cpio_entry, NULL);
		size_t off = 0, step = 1;

		if (!c)
			break;
		while (off < len && !guest_cpio_done(c)) {
			size_t n = step < len - off ? step : len - off;

			if (guest_cpio_feed(c, buf + off, n) < 0)
				break;
			off += n;
			step = step * 3 % 1021 + 1;
		}
		guest_cpio_free(c);
		break;
	}
	}
	return 0;
}
