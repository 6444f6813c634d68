/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest's mount tree and its path resolver; see tree.h. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate/guest/tree.h"

struct mount {
	char *dir;
	void *fs;
};

struct guest_tree {
	const struct guest_tree_ops *ops;
	struct mount *mounts;
	size_t n;
};

struct guest_tree *guest_tree_new(const struct guest_tree_ops *ops)
{
	struct guest_tree *t = calloc(1, sizeof(*t));

	if (t)
		t->ops = ops;
	return t;
}

void guest_tree_free(struct guest_tree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->mounts[i].dir);
	free(t->mounts);
	free(t);
}

int guest_tree_mount(struct guest_tree *t, const char *dir, void *fs)
{
	struct mount *m;

	if (dir[0] != '/')
		return -EINVAL;
	m = realloc(t->mounts, (t->n + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	t->mounts = m;
	m[t->n].dir = strdup(dir);
	if (!m[t->n].dir)
		return -ENOMEM;
	/* "/boot/" is "/boot" */
	for (size_t l = strlen(m[t->n].dir); l > 1 && m[t->n].dir[l - 1] == '/'; l--)
		m[t->n].dir[l - 1] = '\0';
	m[t->n].fs = fs;
	t->n++;
	return 0;
}

/* The file system holding canonical path, and the path inside it. */
static void *which(struct guest_tree *t, const char *path, const char **inner)
{
	size_t best = 0;
	void *fs = NULL;

	*inner = path;
	for (size_t i = 0; i < t->n; i++) {
		const char *d = t->mounts[i].dir;
		size_t l = strlen(d);

		if (!strcmp(d, "/")) {
			if (!fs || best <= 1) {
				fs = t->mounts[i].fs;
				best = 1;
				*inner = path;
			}
			continue;
		}
		if (!strncmp(path, d, l) && (path[l] == '/' || !path[l]) && l >= best) {
			best = l;
			fs = t->mounts[i].fs;
			*inner = path[l] ? path + l : "/";
		}
	}
	return fs;
}

static int t_lstat(struct guest_tree *t, const char *canon, enum guest_ftype *type, uint64_t *size)
{
	const char *inner;
	void *fs = which(t, canon, &inner);

	if (!fs)
		return -ENXIO;
	return t->ops->lstat(fs, inner, type, size);
}

int guest_tree_resolve(struct guest_tree *t, const char *path, bool follow_last, char *buf, size_t buflen)
{
	char canon[GUEST_PATH_MAX], rest[GUEST_PATH_MAX], target[GUEST_PATH_MAX];
	size_t cl = 1;
	int links = 0;
	char *p;

	if (path[0] != '/')
		return -EINVAL;
	if (strlen(path) >= sizeof(rest))
		return -ENAMETOOLONG;
	strcpy(canon, "/");
	strcpy(rest, path);
	p = rest;
	for (;;) {
		enum guest_ftype type;
		size_t l, save = cl;
		bool last;
		int r;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		l = strcspn(p, "/");
		last = !p[l + strspn(p + l, "/")];
		if (l == 1 && p[0] == '.') {
			p += l;
			continue;
		}
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			/* up, but never above the guest's "/" */
			while (cl > 1 && canon[cl - 1] != '/')
				cl--;
			if (cl > 1)
				cl--;
			canon[cl] = '\0';
			p += l;
			continue;
		}
		if (cl + 1 + l >= sizeof(canon))
			return -ENAMETOOLONG;
		if (cl > 1)
			canon[cl++] = '/';
		memcpy(canon + cl, p, l);
		cl += l;
		canon[cl] = '\0';
		p += l;
		r = t_lstat(t, canon, &type, NULL);
		if (r < 0)
			return r;
		if (type == GUEST_FT_LNK && (!last || follow_last)) {
			const char *inner;
			void *fs = which(t, canon, &inner);
			size_t tl;

			if (++links > GUEST_TREE_MAX_LINKS)
				return -ELOOP;
			r = t->ops->readlink(fs, inner, target, sizeof(target));
			if (r < 0)
				return r;
			tl = strlen(target);
			if (!tl)
				return -ENOENT;
			if (tl + 1 + strlen(p) >= sizeof(rest))
				return -ENAMETOOLONG;
			/* rest = target + the components not yet read */
			memmove(rest + tl + 1, p, strlen(p) + 1);
			memcpy(rest, target, tl);
			rest[tl] = '/';
			p = rest;
			/* a relative target is read from the link's directory */
			cl = save;
			canon[cl] = '\0';
			if (target[0] == '/') {
				cl = 1;
				strcpy(canon, "/");
			}
			continue;
		}
		if (!last && type != GUEST_FT_DIR)
			return -ENOTDIR;
	}
	if (cl + 1 > buflen)
		return -ENAMETOOLONG;
	memcpy(buf, canon, cl + 1);
	return 0;
}

int guest_tree_stat(struct guest_tree *t, const char *path, enum guest_ftype *ret_type, uint64_t *ret_size)
{
	char c[GUEST_PATH_MAX];
	int r = guest_tree_resolve(t, path, true, c, sizeof(c));

	if (r < 0)
		return r;
	return t_lstat(t, c, ret_type, ret_size);
}

int guest_tree_lstat(struct guest_tree *t, const char *path, enum guest_ftype *ret_type)
{
	char c[GUEST_PATH_MAX];
	int r = guest_tree_resolve(t, path, false, c, sizeof(c));

	if (r < 0)
		return r;
	return t_lstat(t, c, ret_type, NULL);
}

int guest_tree_readlink(struct guest_tree *t, const char *path, char *buf, size_t buflen)
{
	char c[GUEST_PATH_MAX];
	const char *inner;
	void *fs;
	int r = guest_tree_resolve(t, path, false, c, sizeof(c));

	if (r < 0)
		return r;
	fs = which(t, c, &inner);
	if (!fs)
		return -ENXIO;
	return t->ops->readlink(fs, inner, buf, buflen);
}

int guest_tree_read(struct guest_tree *t, const char *path, size_t cap, char **ret, size_t *ret_len)
{
	char c[GUEST_PATH_MAX];
	const char *inner;
	void *fs;
	int r = guest_tree_resolve(t, path, true, c, sizeof(c));

	if (r < 0)
		return r;
	fs = which(t, c, &inner);
	if (!fs)
		return -ENXIO;
	return t->ops->read(fs, inner, cap, ret, ret_len);
}

int guest_tree_stream(struct guest_tree *t, const char *path, uint64_t cap, guest_sink_fn sink, void *data)
{
	char c[GUEST_PATH_MAX], *buf = NULL;
	const char *inner;
	size_t len = 0;
	void *fs;
	int r = guest_tree_resolve(t, path, true, c, sizeof(c));

	if (r < 0)
		return r;
	fs = which(t, c, &inner);
	if (!fs)
		return -ENXIO;
	if (t->ops->stream)
		return t->ops->stream(fs, inner, cap, sink, data);
	if (cap > SIZE_MAX - 1)
		cap = SIZE_MAX - 1;
	r = t->ops->read(fs, inner, (size_t)cap, &buf, &len);
	if (r < 0)
		return r;
	r = sink(data, buf, len);
	free(buf);
	return r;
}

int guest_tree_list(struct guest_tree *t, const char *path, size_t max, char ***ret, size_t *ret_n)
{
	char c[GUEST_PATH_MAX];
	const char *inner;
	void *fs;
	int r = guest_tree_resolve(t, path, true, c, sizeof(c));

	if (r < 0)
		return r;
	fs = which(t, c, &inner);
	if (!fs)
		return -ENXIO;
	return t->ops->list(fs, inner, max, ret, ret_n);
}

void guest_tree_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

bool guest_tree_exists(struct guest_tree *t, const char *path)
{
	enum guest_ftype type;

	return guest_tree_stat(t, path, &type, NULL) == 0;
}
