/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Maps the settings of a Xen config (see xenlex.c) to a struct xen_vm:
 * the keys a migration uses, the disk specs (xm positional with stacked
 * prefixes, xl positional and key=value) and the vif specs. Every setting
 * that is not mapped is kept and warned about, never silently dropped.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/escape.h"
#include "migrate/xen/xencfg.h"

#define XEN_MAX_FILE	(4u << 20)

const char *const xen_access_names[XEN_ACCESS_MAX] = {
	[XEN_ACCESS_R] = "r",
	[XEN_ACCESS_RW] = "rw",
};

const char *const xen_devtype_names[XEN_DEVTYPE_MAX] = {
	[XEN_DEVTYPE_DISK] = "disk",
	[XEN_DEVTYPE_CDROM] = "cdrom",
};

static int warn_push(char ***w, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int warn_push(char ***w, size_t *n, const char *fmt, ...)
{
	char *s, **nw;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	nw = realloc(*w, (*n + 1) * sizeof(*nw));
	if (!nw) {
		free(s);
		return -ENOMEM;
	}
	*w = nw;
	nw[(*n)++] = s;
	return 0;
}

static int set_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Trims blanks in place; returns the start. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int replace(char **dst, const char *src)
{
	char *n = src ? strdup(src) : NULL;

	if (src && !n)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

bool xen_vdev_split(const char *vdev, char *disk, size_t disklen, int *ret_part)
{
	static const char *const prefixes[] = { "xvd", "sd", "hd", "vd" };
	size_t plen = 0, letters = 0, digits = 0;
	int part = 0;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(vdev, prefixes[i], strlen(prefixes[i]))) {
			plen = strlen(prefixes[i]);
			break;
		}
	if (!plen)
		return false;
	while (vdev[plen + letters] >= 'a' && vdev[plen + letters] <= 'z')
		letters++;
	if (!letters || letters > 3)
		return false;
	while (vdev[plen + letters + digits] >= '0' && vdev[plen + letters + digits] <= '9') {
		part = part * 10 + (vdev[plen + letters + digits] - '0');
		digits++;
		if (digits > 3)
			return false;
	}
	if (vdev[plen + letters + digits] != '\0')
		return false;
	if (digits && (vdev[plen + letters] == '0' || part == 0))
		return false;
	if (plen + letters + 1 > disklen)
		return false;
	memcpy(disk, vdev, plen + letters);
	disk[plen + letters] = '\0';
	*ret_part = part;
	return true;
}

void xen_disk_clear(struct xen_disk *d)
{
	free(d->target);
	free(d->vdev);
	free(d->format);
	free(d->backendtype);
	free(d->script);
	memset(d, 0, sizeof(*d));
}

void xen_vif_clear(struct xen_vif *v)
{
	free(v->mac);
	free(v->bridge);
	free(v->model);
	free(v->vifname);
	free(v->ip);
	free(v->script);
	free(v->rate);
	free(v->type);
	memset(v, 0, sizeof(*v));
}

static const char *const known_formats[] = { "raw", "qcow", "qcow2", "vhd", "qed", "empty" };

static bool is_format(const char *s)
{
	for (size_t i = 0; i < sizeof(known_formats) / sizeof(known_formats[0]); i++)
		if (!strcmp(s, known_formats[i]))
			return true;
	return false;
}

/* Strips stacked xm prefixes ("tap2:tapdisk:aio:", "phy:") from target. */
static int disk_target(struct xen_disk *d, const char *t, char *err, size_t errlen)
{
	static const struct {
		const char *prefix, *backend, *format;
	} prefixes[] = {
		{ "phy:", "phy", NULL }, { "file:", "qdisk", NULL }, { "tap:", "tap", NULL },
		{ "tap2:", "tap", NULL }, { "tapdisk:", NULL, NULL }, { "aio:", NULL, "raw" },
		{ "raw:", NULL, "raw" }, { "qcow:", NULL, "qcow" }, { "qcow2:", NULL, "qcow2" },
		{ "vhd:", NULL, "vhd" }, { "qed:", NULL, "qed" }, { "ioemu:", NULL, NULL },
		{ "sync:", NULL, "raw" },
	};
	bool phy = false, again = true;
	int r;

	while (again) {
		again = false;
		for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
			size_t l = strlen(prefixes[i].prefix);

			if (strncmp(t, prefixes[i].prefix, l))
				continue;
			t += l;
			if (prefixes[i].backend && !d->backendtype) {
				r = replace(&d->backendtype, prefixes[i].backend);
				if (r < 0)
					return r;
			}
			if (prefixes[i].format) {
				r = replace(&d->format, prefixes[i].format);
				if (r < 0)
					return r;
			}
			if (!strcmp(prefixes[i].prefix, "phy:"))
				phy = true;
			again = true;
			break;
		}
	}
	if (!*t)
		return 0;	/* empty cdrom */
	if (*t != '/' && strchr(t, ':')) {
		size_t l = strcspn(t, ":");
		char e[STR_ESCAPE_MAX];

		return set_err(err, errlen, "unknown disk prefix '%s:' in '%s'",
			       str_escape(t, l > 40 ? 40 : l, e, sizeof(e)), STR_ESCAPED(t));
	}
	if (*t != '/' && phy) {
		/* phy:sda6 means /dev/sda6 */
		char *p;

		if (asprintf(&p, "/dev/%s", t) < 0)
			return -ENOMEM;
		free(d->target);
		d->target = p;
		return 0;
	}
	if (*t != '/')
		return set_err(err, errlen, "disk target '%s' is not an absolute path", STR_ESCAPED(t));
	return replace(&d->target, t);
}

static int disk_access(struct xen_disk *d, const char *m, char ***w, size_t *nw, char *err, size_t errlen)
{
	if (!strcmp(m, "r") || !strcmp(m, "ro")) {
		d->access = XEN_ACCESS_R;
	} else if (!strcmp(m, "w") || !strcmp(m, "rw")) {
		d->access = XEN_ACCESS_RW;
	} else if (!strcmp(m, "w!") || !strcmp(m, "rw!")) {
		d->access = XEN_ACCESS_RW;
		return warn_push(w, nw, "disk %s: shared writable mode '%s' becomes plain read-write",
				 d->vdev ? d->vdev : "?", m);
	} else {
		return set_err(err, errlen, "bad disk access mode '%s' (r, ro, w, rw or w!)",
			       STR_ESCAPED(m));
	}
	return 0;
}

static int disk_vdev(struct xen_disk *d, const char *v, char *err, size_t errlen)
{
	const char *colon;
	int r;

	if (!strncmp(v, "ioemu:", 6))
		v += 6;
	if (!strncmp(v, "/dev/", 5))
		v += 5;
	colon = strchr(v, ':');
	if (colon) {
		if (!strcmp(colon, ":cdrom"))
			d->devtype = XEN_DEVTYPE_CDROM;
		else if (strcmp(colon, ":disk"))
			return set_err(err, errlen, "bad device type '%s' (cdrom or disk)",
				       STR_ESCAPED(colon + 1));
	}
	if (colon == v || !*v)
		return set_err(err, errlen, "empty virtual device name");
	free(d->vdev);
	d->vdev = colon ? strndup(v, (size_t)(colon - v)) : strdup(v);
	if (!d->vdev)
		return -ENOMEM;
	for (char *c = d->vdev; *c; c++)
		if (!isalnum((unsigned char)*c))
			return set_err(err, errlen, "bad virtual device name '%s'", STR_ESCAPED(d->vdev));
	r = 0;
	return r;
}

int xen_disk_parse(const char *spec, struct xen_disk *ret, char ***w, size_t *nw, char *err, size_t errlen)
{
	struct xen_disk d = { .access = XEN_ACCESS_RW, .devtype = XEN_DEVTYPE_DISK };
	char *copy = strdup(spec), *pos[8], *access = NULL, *tok, *rest;
	const char *target = NULL;
	size_t npos = 0;
	bool keyed = false;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	rest = copy;
	while (rest && r == 0) {
		char *comma, *eq;

		tok = rest;
		/* xl: target= swallows the rest, commas included */
		if (!strncmp(trim(tok), "target=", 7)) {
			target = trim(tok) + 7;
			keyed = true;
			break;
		}
		comma = strchr(rest, ',');
		if (comma) {
			*comma = '\0';
			rest = comma + 1;
		} else {
			rest = NULL;
		}
		tok = trim(tok);
		eq = strchr(tok, '=');
		if (eq && tok[0] != '/') {
			char *k = tok, *v;

			*eq = '\0';
			k = trim(k);
			v = trim(eq + 1);
			keyed = true;
			if (!strcmp(k, "format")) {
				if (!is_format(v))
					r = set_err(err, errlen, "unknown disk format '%s'", STR_ESCAPED(v));
				else
					r = replace(&d.format, v);
			} else if (!strcmp(k, "vdev")) {
				r = disk_vdev(&d, v, err, errlen);
			} else if (!strcmp(k, "access")) {
				access = v;
			} else if (!strcmp(k, "devtype")) {
				if (!strcmp(v, "cdrom"))
					d.devtype = XEN_DEVTYPE_CDROM;
				else if (!strcmp(v, "disk"))
					d.devtype = XEN_DEVTYPE_DISK;
				else
					r = set_err(err, errlen, "bad devtype '%s' (disk or cdrom)",
						    STR_ESCAPED(v));
			} else if (!strcmp(k, "backendtype")) {
				r = replace(&d.backendtype, v);
			} else if (!strcmp(k, "script")) {
				r = replace(&d.script, v);
			} else {
				r = warn_push(w, nw, "disk '%s': option %s=%s is not migrated",
					      STR_ESCAPED(spec), STR_ESCAPED(k), STR_ESCAPED(v));
			}
		} else if (!strcmp(tok, "cdrom")) {
			d.devtype = XEN_DEVTYPE_CDROM;
			keyed = true;
		} else if (!strcmp(tok, "discard") || !strcmp(tok, "no-discard") ||
			   !strcmp(tok, "direct-io-safe") || !strcmp(tok, "trusted") ||
			   !strcmp(tok, "untrusted")) {
			r = warn_push(w, nw, "disk '%s': option %s is not migrated", STR_ESCAPED(spec), tok);
			keyed = true;
		} else {
			if (keyed) {
				r = set_err(err, errlen, "positional value '%s' after key=value options",
					    STR_ESCAPED(tok));
				break;
			}
			if (npos >= 4) {
				r = set_err(err, errlen, "too many fields in disk spec");
				break;
			}
			pos[npos++] = tok;
		}
	}
	if (r < 0)
		goto fail;
	if (npos == 3 && !is_format(pos[1])) {
		/* xm: [prefix:]target,vdev[:cdrom],mode */
		target = pos[0];
		r = disk_vdev(&d, pos[1], err, errlen);
		access = pos[2];
	} else if (npos >= 1) {
		/* xl positional: target,format,vdev,access */
		target = pos[0];
		if (npos >= 2 && *pos[1]) {
			if (!is_format(pos[1]))
				r = npos == 2 ? disk_vdev(&d, pos[1], err, errlen)
					      : set_err(err, errlen, "unknown disk format '%s'",
							STR_ESCAPED(pos[1]));
			else
				r = replace(&d.format, pos[1]);
		}
		if (r == 0 && npos >= 3 && *pos[2])
			r = disk_vdev(&d, pos[2], err, errlen);
		if (r == 0 && npos >= 4 && *pos[3])
			access = pos[3];
	}
	if (r < 0)
		goto fail;
	if (target) {
		char *t = strdup(target), *tt;

		if (!t) {
			r = -ENOMEM;
			goto fail;
		}
		tt = trim(t);
		r = disk_target(&d, tt, err, errlen);
		free(t);
		if (r < 0)
			goto fail;
	}
	if (!d.vdev) {
		r = set_err(err, errlen, "disk spec without a virtual device (vdev)");
		goto fail;
	}
	if (access) {
		r = disk_access(&d, access, w, nw, err, errlen);
		if (r < 0)
			goto fail;
	}
	if (!d.target && d.devtype != XEN_DEVTYPE_CDROM) {
		r = set_err(err, errlen, "disk %s has no target", d.vdev);
		goto fail;
	}
	if (!d.format) {
		r = replace(&d.format, "raw");
		if (r < 0)
			goto fail;
	}
	free(copy);
	*ret = d;
	return 0;
fail:
	free(copy);
	xen_disk_clear(&d);
	return r;
}

static int mac_normalise(char *mac)
{
	if (strlen(mac) != 17)
		return -EINVAL;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (mac[i] != ':' && mac[i] != '-')
				return -EINVAL;
			mac[i] = ':';
		} else {
			if (!isxdigit((unsigned char)mac[i]))
				return -EINVAL;
			mac[i] = (char)tolower((unsigned char)mac[i]);
		}
	}
	return 0;
}

int xen_vif_parse(const char *spec, struct xen_vif *ret, char ***w, size_t *nw, char *err, size_t errlen)
{
	struct xen_vif v = { 0 };
	char *copy = strdup(spec), *rest, *tok;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	rest = copy;
	while (rest && r == 0) {
		char *comma = strchr(rest, ','), *eq, *k, *val, **dst = NULL;

		tok = rest;
		if (comma) {
			*comma = '\0';
			rest = comma + 1;
		} else {
			rest = NULL;
		}
		tok = trim(tok);
		if (!*tok)
			continue;
		eq = strchr(tok, '=');
		if (!eq) {
			r = set_err(err, errlen, "vif option '%s' is not KEY=VALUE", STR_ESCAPED(tok));
			break;
		}
		*eq = '\0';
		k = trim(tok);
		val = trim(eq + 1);
		if (!strcmp(k, "mac"))
			dst = &v.mac;
		else if (!strcmp(k, "bridge"))
			dst = &v.bridge;
		else if (!strcmp(k, "model"))
			dst = &v.model;
		else if (!strcmp(k, "vifname"))
			dst = &v.vifname;
		else if (!strcmp(k, "ip"))
			dst = &v.ip;
		else if (!strcmp(k, "script"))
			dst = &v.script;
		else if (!strcmp(k, "rate"))
			dst = &v.rate;
		else if (!strcmp(k, "type"))
			dst = &v.type;
		if (!dst) {
			r = warn_push(w, nw, "vif '%s': option %s=%s is not migrated", STR_ESCAPED(spec),
				      STR_ESCAPED(k), STR_ESCAPED(val));
			continue;
		}
		r = replace(dst, val);
		if (r == 0 && dst == &v.mac && mac_normalise(v.mac) < 0)
			r = set_err(err, errlen, "bad MAC address '%s'", STR_ESCAPED(val));
	}
	free(copy);
	if (r < 0) {
		xen_vif_clear(&v);
		return r;
	}
	*ret = v;
	return 0;
}

void xen_vm_free(struct xen_vm *vm)
{
	if (!vm)
		return;
	free(vm->name);
	free(vm->uuid);
	free(vm->type);
	free(vm->kernel);
	free(vm->ramdisk);
	free(vm->root);
	free(vm->extra);
	free(vm->cmdline);
	free(vm->bootloader);
	free(vm->bootloader_args);
	free(vm->on_poweroff);
	free(vm->on_reboot);
	free(vm->on_crash);
	for (size_t i = 0; i < vm->n_disks; i++)
		xen_disk_clear(&vm->disks[i]);
	free(vm->disks);
	for (size_t i = 0; i < vm->n_vifs; i++)
		xen_vif_clear(&vm->vifs[i]);
	free(vm->vifs);
	for (size_t i = 0; i < vm->n_warnings; i++)
		free(vm->warnings[i]);
	free(vm->warnings);
	free(vm->unmapped);	/* names point into vars */
	xvars_free(&vm->vars);
	free(vm);
}

static int verr(struct xen_error *err, const struct xval *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int verr(struct xen_error *err, const struct xval *v, const char *fmt, ...)
{
	va_list ap;

	err->line = v->line;
	err->col = v->col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int get_str(const struct xvar *var, char **dst, struct xen_error *err)
{
	if (var->val->type != XVAL_STR)
		return verr(err, var->val, "'%s' must be a string", var->name);
	return replace(dst, var->val->str);
}

static int get_num(const struct xvar *var, long long *dst, struct xen_error *err)
{
	const struct xval *v = var->val;

	if (v->type == XVAL_INT) {
		*dst = v->num;
	} else if (v->type == XVAL_STR) {
		/* xm files often quote numbers: memory = '256' */
		char *end, *copy = strdup(v->str), *s;

		if (!copy)
			return -ENOMEM;
		s = trim(copy);
		errno = 0;
		*dst = strtoll(s, &end, 0);
		if (!*s || *end || errno) {
			free(copy);
			return verr(err, v, "'%s' must be a number, not '%s'", var->name,
				    STR_ESCAPED(v->str));
		}
		free(copy);
	} else {
		return verr(err, v, "'%s' must be a number", var->name);
	}
	if (*dst < 0 || *dst > (1LL << 40))
		return verr(err, v, "'%s' is out of range", var->name);
	return 0;
}

/* A list of strings, or one string (then taken as a one-item list). */
static int get_strlist(const struct xvar *var, const struct xval ***ret, size_t *n, struct xen_error *err)
{
	const struct xval *v = var->val;

	if (v->type == XVAL_STR) {
		*ret = calloc(1, sizeof(**ret));
		if (!*ret)
			return -ENOMEM;
		(*ret)[0] = v;
		*n = 1;
		return 0;
	}
	if (v->type != XVAL_LIST)
		return verr(err, v, "'%s' must be a list of strings", var->name);
	for (size_t i = 0; i < v->n_items; i++)
		if (v->items[i]->type != XVAL_STR)
			return verr(err, v->items[i], "'%s' entries must be strings", var->name);
	*ret = calloc(v->n_items ? v->n_items : 1, sizeof(**ret));
	if (!*ret)
		return -ENOMEM;
	for (size_t i = 0; i < v->n_items; i++)
		(*ret)[i] = v->items[i];
	*n = v->n_items;
	return 0;
}

static int map_disks(struct xen_vm *vm, const struct xvar *var, struct xen_error *err)
{
	const struct xval **items = NULL;
	size_t n = 0;
	char msg[256];
	int r;

	r = get_strlist(var, &items, &n, err);
	if (r < 0)
		return r;
	vm->disks = calloc(n ? n : 1, sizeof(*vm->disks));
	if (!vm->disks) {
		free(items);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct xen_disk *d = &vm->disks[vm->n_disks];

		r = xen_disk_parse(items[i]->str, d, &vm->warnings, &vm->n_warnings, msg, sizeof(msg));
		if (r == -EINVAL)
			r = verr(err, items[i], "%s", msg);
		if (r < 0)
			break;
		d->line = items[i]->line;
		d->col = items[i]->col;
		for (size_t j = 0; j < vm->n_disks; j++)
			if (!strcmp(vm->disks[j].vdev, d->vdev)) {
				r = verr(err, items[i], "virtual device %s is used twice", d->vdev);
				xen_disk_clear(d);
				break;
			}
		if (r < 0)
			break;
		vm->n_disks++;
	}
	free(items);
	return r;
}

static int map_vifs(struct xen_vm *vm, const struct xvar *var, struct xen_error *err)
{
	const struct xval **items = NULL;
	size_t n = 0;
	char msg[256];
	int r;

	r = get_strlist(var, &items, &n, err);
	if (r < 0)
		return r;
	vm->vifs = calloc(n ? n : 1, sizeof(*vm->vifs));
	if (!vm->vifs) {
		free(items);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct xen_vif *v = &vm->vifs[vm->n_vifs];

		r = xen_vif_parse(items[i]->str, v, &vm->warnings, &vm->n_warnings, msg, sizeof(msg));
		if (r == -EINVAL)
			r = verr(err, items[i], "%s", msg);
		if (r < 0)
			break;
		v->line = items[i]->line;
		v->col = items[i]->col;
		vm->n_vifs++;
		if (!v->mac) {
			r = warn_push(&vm->warnings, &vm->n_warnings,
				      "line %d: vif %zu has no mac=: Xen picks a random MAC at each boot; "
				      "pin one (read it from the running domain with 'xl network-list')",
				      v->line, vm->n_vifs - 1);
			if (r < 0)
				break;
		}
	}
	free(items);
	return r;
}

static bool uuid_valid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static int map_var(struct xen_vm *vm, const struct xvar *var, struct xen_error *err)
{
	const char *k = var->name;
	long long *num = NULL;
	char **str = NULL;

	if (!strcmp(k, "name"))
		str = &vm->name;
	else if (!strcmp(k, "uuid"))
		str = &vm->uuid;
	else if (!strcmp(k, "kernel"))
		str = &vm->kernel;
	else if (!strcmp(k, "ramdisk"))
		str = &vm->ramdisk;
	else if (!strcmp(k, "root"))
		str = &vm->root;
	else if (!strcmp(k, "extra"))
		str = &vm->extra;
	else if (!strcmp(k, "cmdline"))
		str = &vm->cmdline;
	else if (!strcmp(k, "bootloader"))
		str = &vm->bootloader;
	else if (!strcmp(k, "on_poweroff"))
		str = &vm->on_poweroff;
	else if (!strcmp(k, "on_reboot"))
		str = &vm->on_reboot;
	else if (!strcmp(k, "on_crash"))
		str = &vm->on_crash;
	else if (!strcmp(k, "memory"))
		num = &vm->memory_mib;
	else if (!strcmp(k, "maxmem"))
		num = &vm->maxmem_mib;
	else if (!strcmp(k, "vcpus"))
		num = &vm->vcpus;
	else if (!strcmp(k, "maxvcpus"))
		num = &vm->maxvcpus;
	if (str) {
		int r = get_str(var, str, err);

		if (r == 0 && str == &vm->uuid && !uuid_valid(vm->uuid))
			return verr(err, var->val, "bad uuid '%s'", STR_ESCAPED(vm->uuid));
		if (r == 0 && str == &vm->name && !*vm->name)
			return verr(err, var->val, "empty name");
		if (r == 0 && str == &vm->name && strpbrk(vm->name, "/ \t\n"))
			return verr(err, var->val, "name '%s' contains '/' or blanks",
				    STR_ESCAPED(vm->name));
		return r;
	}
	if (num)
		return get_num(var, num, err);
	if (!strcmp(k, "bootargs") || !strcmp(k, "bootloader_args")) {
		const struct xval **items = NULL;
		size_t n = 0, len = 1;
		char *s;
		int r = get_strlist(var, &items, &n, err);

		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			len += items[i]->len + 1;
		s = calloc(1, len);
		if (!s) {
			free(items);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			if (i)
				strcat(s, " ");
			strcat(s, items[i]->str);
		}
		free(items);
		free(vm->bootloader_args);
		vm->bootloader_args = s;
		return 0;
	}
	if (!strcmp(k, "builder") || !strcmp(k, "type")) {
		const char *t;

		if (var->val->type != XVAL_STR)
			return verr(err, var->val, "'%s' must be a string", k);
		t = var->val->str;
		if (!strcmp(t, "hvm"))
			return replace(&vm->type, "hvm");
		if (!strcmp(t, "pvh"))
			return replace(&vm->type, "pvh");
		if (!strcmp(t, "pv") || !strcmp(t, "linux") || !strcmp(t, "generic"))
			return replace(&vm->type, "pv");
		return verr(err, var->val, "unknown %s '%s' (pv, hvm, pvh, linux)", k, STR_ESCAPED(t));
	}
	if (!strcmp(k, "disk"))
		return map_disks(vm, var, err);
	if (!strcmp(k, "vif"))
		return map_vifs(vm, var, err);
	{
		const char **n = realloc(vm->unmapped, (vm->n_unmapped + 1) * sizeof(*n));

		if (!n)
			return -ENOMEM;
		vm->unmapped = (char **)n;
		vm->unmapped[vm->n_unmapped++] = var->name;
		return warn_push(&vm->warnings, &vm->n_warnings,
				 "line %d: setting '%s' is not migrated (kept under \"unmapped\")",
				 var->line, var->name);
	}
}

int xen_vm_parse(const char *buf, size_t len, struct xen_vm **ret, struct xen_error *err)
{
	struct xen_vm *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm)
		return -ENOMEM;
	vm->memory_mib = vm->maxmem_mib = vm->vcpus = vm->maxvcpus = -1;
	r = xen_eval(buf, len, &vm->vars, err);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < vm->vars.n && r == 0; i++)
		r = map_var(vm, &vm->vars.v[i], err);
	if (r < 0)
		goto fail;
	if (!vm->name) {
		err->line = vm->vars.eof_line;
		err->col = vm->vars.eof_col;
		snprintf(err->msg, sizeof(err->msg), "no 'name' setting");
		r = -EINVAL;
		goto fail;
	}
	if (!vm->type) {
		/* xm HVM guests name hvmloader as their kernel. */
		bool hvm = vm->kernel && strstr(vm->kernel, "hvmloader");

		r = replace(&vm->type, hvm ? "hvm" : "pv");
		if (r < 0)
			goto fail;
	}
	if (vm->memory_mib == 0) {
		const struct xvar *m = xvars_get(&vm->vars, "memory");

		r = verr(err, m->val, "memory must not be 0");
		goto fail;
	}
	if (vm->memory_mib < 0) {
		r = warn_push(&vm->warnings, &vm->n_warnings, "no 'memory' setting: Xen's default is 128 MiB");
		if (r < 0)
			goto fail;
		vm->memory_mib = 128;
	}
	if (vm->vcpus < 0)
		vm->vcpus = 1;
	if (vm->n_disks == 0) {
		r = warn_push(&vm->warnings, &vm->n_warnings, "no disks");
		if (r < 0)
			goto fail;
	}
	*ret = vm;
	return 0;
fail:
	if (r == -ENOMEM) {
		err->line = err->col = 0;
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	}
	xen_vm_free(vm);
	return r;
}

int xen_vm_load(const char *path, struct xen_vm **ret, struct xen_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	memset(err, 0, sizeof(*err));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)XEN_MAX_FILE) {
		r = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		snprintf(err->msg, sizeof(err->msg), "not a regular file of at most %u bytes", XEN_MAX_FILE);
		close(fd);
		return r;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	r = xen_vm_parse(buf, len, ret, err);
	free(buf);
	return r;
}
