/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared options of `migrate plan` and `migrate create`; see args.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>

#include "bridged/cli/migrate_args.h"
#include "bridged/cli/migrate_cli.h"
#include "common/escape.h"
#include "migrate/migrate.h"

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int push_pv(struct path_value **arr, size_t *n, const char *arg, bool need_value)
{
	const char *eq = strrchr(arg, '=');
	struct path_value *na;

	if (need_value && (!eq || eq == arg))
		return -EINVAL;
	na = realloc(*arr, (*n + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	*arr = na;
	if (eq) {
		na[*n].path = strndup(arg, (size_t)(eq - arg));
		na[*n].value = strdup(eq + 1);
	} else {
		na[*n].path = NULL;
		na[*n].value = strdup(arg);
	}
	(*n)++;
	return 0;
}

int migrate_args_option(struct migrate_args *a, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case OPT_SIZE:
		if (push_pv(&a->sizes, &a->n_sizes, arg, true) < 0 ||
		    parse_u64(a->sizes[a->n_sizes - 1].value, &v) < 0) {
			fprintf(stderr, "bridgectl migrate: --size %s: PATH=BYTES expected\n", arg);
			return -1;
		}
		return 1;
	case OPT_SWAP: {
		char **n = realloc(a->swaps, (a->n_swaps + 1) * sizeof(*n));

		if (!n)
			return -1;
		a->swaps = n;
		n[a->n_swaps++] = strdup(arg);
		return 1;
	}
	case OPT_SECTOR:
		if (parse_u64(arg, &v) < 0 || (v != 512 && v != 4096)) {
			fprintf(stderr, "bridgectl migrate: --sector-size %s: 512 or 4096 expected\n", arg);
			return -1;
		}
		a->sector_size = (unsigned)v;
		return 1;
	case OPT_ALLOC:
		if (parse_u64(arg, &v) < 0 || v == 0 || v % 512) {
			fprintf(stderr, "bridgectl migrate: --alloc-unit %s: a positive multiple of 512 expected\n", arg);
			return -1;
		}
		a->alloc_unit = v;
		return 1;
	case OPT_POOL:
		a->pool = arg;
		return 1;
	case OPT_CONNECT:
		a->uri = arg;
		return 1;
	case OPT_XENDIR:
		a->xen_dir = arg;
		return 1;
	case OPT_TARGET:
		if (push_pv(&a->targets, &a->n_targets, arg, false) < 0)
			return -1;
		return 1;
	case OPT_DRYRUN:
		a->dry_run = true;
		return 1;
	case OPT_SOURCES:
		a->sources = arg;
		return 1;
	case OPT_JSON:
		a->json = true;
		return 1;
	case OPT_COMMANDS:
		a->commands = true;
		return 1;
	default:
		return 0;
	}
}

void migrate_args_free(struct migrate_args *a)
{
	for (size_t i = 0; i < a->n_sizes; i++) {
		free(a->sizes[i].path);
		free(a->sizes[i].value);
	}
	free(a->sizes);
	for (size_t i = 0; i < a->n_swaps; i++)
		free(a->swaps[i]);
	free(a->swaps);
	for (size_t i = 0; i < a->n_targets; i++) {
		free(a->targets[i].path);
		free(a->targets[i].value);
	}
	free(a->targets);
}

void migrate_src_free(struct plan_src *src, size_t n)
{
	(void)n;
	free(src);
}

/* XENCFG as given, or DIR/VM.cfg, or DIR/VM. */
char *migrate_args_config(const struct migrate_args *a)
{
	const char *dir = a->xen_dir ? a->xen_dir : "/etc/xen";
	struct stat st;
	char *p;

	if (strchr(a->vm, '/') || stat(a->vm, &st) == 0)
		return strdup(a->vm);
	if (asprintf(&p, "%s/%s.cfg", dir, a->vm) < 0)
		return NULL;
	if (stat(p, &st) == 0)
		return p;
	free(p);
	if (asprintf(&p, "%s/%s", dir, a->vm) < 0)
		return NULL;
	return p;
}

/* The vdev of the root file system from "root=/dev/sda1 ro" or cmdline. */
static void root_vdev(const struct xen_vm *vm, char *buf, size_t len)
{
	const char *r = NULL;

	buf[0] = '\0';
	if (vm->root)
		r = vm->root;
	else if (vm->cmdline && strstr(vm->cmdline, "root="))
		r = strstr(vm->cmdline, "root=") + 5;
	else if (vm->extra && strstr(vm->extra, "root="))
		r = strstr(vm->extra, "root=") + 5;
	if (!r)
		return;
	while (*r == ' ')
		r++;
	if (!strncmp(r, "/dev/", 5))
		r += 5;
	else
		return;	/* UUID=, LABEL=: unknown here */
	snprintf(buf, len, "%.*s", (int)strcspn(r, " \t"), r);
}

/* Reads fd to the end into buf (NUL-terminated, truncated to len - 1). */
static void read_all(int fd, char *buf, size_t len)
{
	size_t l = 0;
	ssize_t k;

	for (;;) {
		char tmp[512];

		k = read(fd, tmp, sizeof(tmp));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		for (ssize_t i = 0; i < k && l + 1 < len; i++)
			buf[l++] = tmp[i];
	}
	buf[l] = '\0';
}

/*
 * The extent size of VG vg from `lvm vgs --noheadings --units b --nosuffix
 * -o vg_extent_size VG` (DM_DISABLE_UDEV=1 without udevd).
 */
static int vg_extent_size(const char *vg, uint64_t *ret, char *err, size_t errlen)
{
	char out[256], msg[512];
	int po[2], pe[2], status;
	pid_t pid;

	if (!*vg || *vg == '-' || strspn(vg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789+_.-") != strlen(vg)) {
		snprintf(err, errlen, "'%s' is not an LVM volume group name", vg);
		return -EINVAL;
	}
	if (pipe2(po, O_CLOEXEC) < 0)
		goto sys;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		goto sys;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		if (access("/run/udev/control", F_OK) < 0)
			setenv("DM_DISABLE_UDEV", "1", 1);
		setenv("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
		execlp("lvm", "lvm", "vgs", "--noheadings", "--units", "b", "--nosuffix", "-o", "vg_extent_size",
		       vg, (char *)NULL);
		fprintf(stderr, "cannot run lvm: %s\n", strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	if (pid < 0) {
		close(po[0]);
		close(pe[0]);
		goto sys;
	}
	read_all(po[0], out, sizeof(out));
	read_all(pe[0], msg, sizeof(msg));
	close(po[0]);
	close(pe[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	msg[strcspn(msg, "\n")] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		const char *m = msg + strspn(msg, " \t");

		snprintf(err, errlen, "lvm vgs %s failed: %s", vg, *m ? m : "(no message)");
		return -ENOENT;
	}
	if (plan_parse_extent_size(out, ret) < 0) {
		out[strcspn(out, "\n")] = '\0';
		snprintf(err, errlen, "lvm vgs %s: cannot read an extent size in '%s'", vg,
			 STR_ESCAPED(out));
		return -EINVAL;
	}
	return 0;
sys:
	snprintf(err, errlen, "cannot run lvm: %s", strerror(errno));
	return -errno;
}

/*
 * The allocation unit: a logical pool's VG extent size (the pool's source
 * name, read with vgs), or with --commands the VG named by --pool when
 * libvirt does not know it as a pool; --alloc-unit must agree with it. Else
 * --alloc-unit, else 4 MiB. warn: a message for the plan, or "".
 */
static int resolve_alloc_unit(const struct migrate_args *a, uint64_t *ret, char *warn, size_t warnlen)
{
	const char *uri = a->uri ? a->uri : "qemu:///system";
	char err[768], *vg = NULL;
	bool from_pool = false;
	uint64_t ext;
	int r;

	*warn = '\0';
	*ret = a->alloc_unit ? a->alloc_unit : PLAN_DEFAULT_ALLOC;
	if (a->n_targets || !a->pool)
		return 0;	/* the destinations are given: no pool volume is made */
	r = volume_pool_vg(uri, a->pool, &vg, err, sizeof(err));
	if (r == 0)
		return 0;	/* not a logical pool */
	if (r > 0) {
		from_pool = true;
	} else if (a->commands) {
		vg = strdup(a->pool);	/* --commands: --pool is the VG */
		if (!vg)
			return -ENOMEM;
	} else {
		return 0;	/* no libvirt here: create reports it; plan uses the default */
	}
	r = vg_extent_size(vg, &ext, err, sizeof(err));
	if (r < 0) {
		if (from_pool && !a->alloc_unit) {
			fprintf(stderr, "bridgectl migrate: pool %s is the LVM volume group %s, but its extent size "
				"cannot be read here (%s): give --alloc-unit BYTES (vgs -o vg_extent_size --units b %s)\n",
				a->pool, vg, err, vg);
			free(vg);
			return -EINVAL;
		}
		snprintf(warn, warnlen, "volume group %s: extent size unknown here (%s): volume sizes are "
			 "multiples of %llu bytes%s", vg, err, (unsigned long long)*ret,
			 a->alloc_unit ? " (--alloc-unit)" : " (LVM's default; give --alloc-unit if the VG differs)");
		free(vg);
		return 0;
	}
	if (a->alloc_unit && a->alloc_unit != ext) {
		fprintf(stderr, "bridgectl migrate: --alloc-unit %llu differs from the extent size of volume group "
			"%s (pool %s): %llu bytes\n", (unsigned long long)a->alloc_unit, vg, a->pool,
			(unsigned long long)ext);
		free(vg);
		return -EINVAL;
	}
	*ret = ext;
	free(vg);
	return 0;
}

/* --sources FILE: the JSON `migrate receive --from ... --list` prints. */
static int sources_load(const char *path, json_object **ret)
{
	json_object *j = json_object_from_file(path), *disks;

	if (!j) {
		fprintf(stderr, "bridgectl migrate: --sources %s: %s\n", path, json_util_get_last_err());
		return -EINVAL;
	}
	if (!json_object_object_get_ex(j, "disks", &disks) || !json_object_is_type(disks, json_type_array)) {
		fprintf(stderr, "bridgectl migrate: --sources %s: no \"disks\" array (the output of "
			"migrate receive --from ... --list expected)\n", path);
		json_object_put(j);
		return -EINVAL;
	}
	*ret = disks;
	json_object_get(disks);
	json_object_put(j);
	return 0;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string) ?
		json_object_get_string(v) : NULL;
}

/*
 * A source as the old host listed it: its size, and its swap signature's
 * UUID and label. -errno with the reason printed when the list does not
 * hold the disk as the config names it.
 */
static int source_from_list(const char *file, json_object *disks, const struct xen_disk *d, struct plan_src *s,
			    char **warn)
{
	json_object *e = NULL, *v, *sw;
	const char *t, *u, *l;

	for (size_t i = 0; i < json_object_array_length(disks); i++) {
		json_object *x = json_object_array_get_idx(disks, i);

		if (jstr(x, "vdev") && !strcmp(jstr(x, "vdev"), d->vdev))
			e = x;
	}
	if (!e) {
		fprintf(stderr, "bridgectl migrate: --sources %s: disk %s is not listed\n", file, d->vdev);
		return -ENOENT;
	}
	t = jstr(e, "target");
	if (!t || strcmp(t, d->target)) {
		fprintf(stderr, "bridgectl migrate: --sources %s: disk %s is %s there, %s in the config\n", file,
			d->vdev, t ? STR_ESCAPED(t) : "(none)", STR_ESCAPED(d->target));
		return -EINVAL;
	}
	if (!json_object_object_get_ex(e, "size", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) <= 0) {
		fprintf(stderr, "bridgectl migrate: --sources %s: disk %s has no size there%s%s\n", file, d->vdev,
			jstr(e, "error") ? ": " : "", jstr(e, "error") ? STR_ESCAPED(jstr(e, "error")) : "");
		return -EINVAL;
	}
	s->size = (uint64_t)json_object_get_int64(v);
	if (json_object_object_get_ex(e, "swap", &sw) && json_object_is_type(sw, json_type_object)) {
		u = jstr(sw, "uuid");
		l = jstr(sw, "label");
		s->swap = true;
		if (u && strlen(u) < sizeof(s->uuid))
			strcpy(s->uuid, u);
		if (l && strlen(l) < sizeof(s->label))
			strcpy(s->label, l);
		if (json_object_object_get_ex(sw, "hibernated", &v) && json_object_get_boolean(v)) {
			if (asprintf(warn, "%s holds a suspended (hibernated) image: it is recreated as empty swap",
				     d->target) < 0)
				*warn = NULL;
		} else if (!*s->uuid && asprintf(warn, "%s is swap without a UUID: a new one is made", d->target) < 0) {
			*warn = NULL;
		}
	}
	return 0;
}

int migrate_args_plan(const struct migrate_args *a, struct xen_vm **ret_vm, struct plan_src **ret_src,
		      size_t *ret_n, struct plan **ret_plan)
{
	struct plan_opts o = {
		.sector_size = a->sector_size ? a->sector_size : 512,
		.alloc_unit = a->alloc_unit ? a->alloc_unit : PLAN_DEFAULT_ALLOC,
	};
	struct plan_src *src = NULL;
	struct plan *plan = NULL;
	struct xen_vm *vm = NULL;
	char *cfg, err[512], root[32], **warns = NULL, alloc_warn[1024];
	json_object *listed = NULL;
	size_t n = 0, n_warns = 0;
	int r;

	r = resolve_alloc_unit(a, &o.alloc_unit, alloc_warn, sizeof(alloc_warn));
	if (r < 0)
		return r;
	cfg = migrate_args_config(a);
	if (!cfg)
		return -ENOMEM;
	r = migrate_load(cfg, &vm);
	free(cfg);
	if (r < 0)
		return r;
	if (a->sources && (r = sources_load(a->sources, &listed)) < 0) {
		xen_vm_free(vm);
		return r;
	}
	src = calloc(vm->n_disks ? vm->n_disks : 1, sizeof(*src));
	warns = calloc(vm->n_disks * 2 + 1, sizeof(*warns));
	if (!src || !warns) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < vm->n_disks; i++) {
		const struct xen_disk *d = &vm->disks[i];
		struct plan_src *s = &src[n];
		struct probe_info pi;
		bool sized = false, probed;

		if (d->devtype == XEN_DEVTYPE_CDROM || !d->target) {
			if (asprintf(&warns[n_warns], "%s is a cdrom: not planned", d->vdev) >= 0)
				n_warns++;
			continue;
		}
		if (strcmp(d->format, "raw")) {
			fprintf(stderr, "bridgectl migrate: disk %s (%s) is in %s format: only raw sources "
				"can be planned\n", d->vdev, d->target, d->format);
			r = -EINVAL;
			goto out;
		}
		s->path = d->target;
		s->vdev = d->vdev;
		if (listed) {
			r = source_from_list(a->sources, listed, d, s, &warns[n_warns]);
			if (r < 0)
				goto out;
			if (warns[n_warns])
				n_warns++;
			n++;
			continue;
		}
		for (size_t j = 0; j < a->n_sizes; j++)
			if (!strcmp(a->sizes[j].path, d->target)) {
				s->size = strtoull(a->sizes[j].value, NULL, 10);
				sized = true;
			}
		probed = probe_path(d->target, &pi, err, sizeof(err)) == 0;
		if (!probed && !sized && a->sizes_optional) {
			s->size = PLAN_MIB;	/* the layout does not depend on it */
			sized = true;
		}
		if (!probed && !sized) {
			fprintf(stderr, "bridgectl migrate: cannot size disk %s: %s (give --size %s=BYTES)\n",
				d->vdev, err, d->target);
			r = -ENOENT;
			goto out;
		}
		if (!sized)
			s->size = pi.size;
		if (probed && !strcmp(pi.type, "swap")) {
			s->swap = true;
			memcpy(s->uuid, pi.uuid, sizeof(s->uuid));
			memcpy(s->label, pi.label, sizeof(s->label));
		} else if (probed && !strcmp(pi.type, "swsuspend")) {
			s->swap = true;
			memcpy(s->uuid, pi.uuid, sizeof(s->uuid));
			if (asprintf(&warns[n_warns], "%s holds a suspended (hibernated) image: it is "
				     "recreated as empty swap", d->target) >= 0)
				n_warns++;
		}
		for (size_t j = 0; j < a->n_swaps; j++)
			if (!strcmp(a->swaps[j], d->target) && !s->swap) {
				s->swap = true;
				if (asprintf(&warns[n_warns], "%s is marked as swap but its UUID is unknown: "
					     "a new one is made", d->target) >= 0)
					n_warns++;
			}
		n++;
	}
	root_vdev(vm, root, sizeof(root));
	o.root_vdev = *root ? root : NULL;
	r = plan_build(vm->name, src, n, &o, &plan, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bridgectl migrate: cannot plan %s: %s\n", vm->name, err);
		goto out;
	}
	for (size_t i = 0; i < n_warns; i++)
		plan_warn(plan, "%s", warns[i]);
	if (*alloc_warn)
		plan_warn(plan, "%s", alloc_warn);
	*ret_vm = vm;
	*ret_src = src;
	*ret_n = n;
	*ret_plan = plan;
	vm = NULL;
	src = NULL;
out:
	for (size_t i = 0; i < n_warns; i++)
		free(warns[i]);
	free(warns);
	free(src);
	xen_vm_free(vm);
	json_object_put(listed);
	return r;
}
