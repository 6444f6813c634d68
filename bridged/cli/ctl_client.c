/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The client side of the daemon's control socket (bridged/ctl.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bridged/cli/ctl_client.h"

/* Sends one command line, returns the daemon's JSON answer (malloc'd). */
char *ctl_request(const char *sock, const char *cmd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 65536;
	char *buf;
	int fd;

	if (strlen(sock) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "bridgectl: %s: socket path too long\n", sock);
		return NULL;
	}
	strcpy(sun.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "bridgectl: cannot reach bridged at %s: %s%s\n", sock, strerror(errno),
			errno == ENOENT || errno == ECONNREFUSED ? " (is the daemon running?)" :
			errno == EACCES ? " (root only)" : "");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	/* one write: a daemon that answered before reading a second one would
	 * close with unread data, and the kernel would reset the connection */
	char line[512];		/* the daemon reads at most 512 bytes */
	int ll = snprintf(line, sizeof(line), "%s\n", cmd);

	if (ll < 0 || (size_t)ll >= sizeof(line) || write(fd, line, ll) != ll) {
		fprintf(stderr, "bridgectl: %s: %s\n", sock, strerror(errno));
		close(fd);
		return NULL;
	}
	buf = malloc(cap);
	while (buf) {
		ssize_t r;

		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += r;
	}
	close(fd);
	if (buf)
		buf[len] = '\0';
	if (buf && ctl_refused(sock, buf)) {
		free(buf);
		return NULL;
	}
	return buf;
}

bool ctl_refused(const char *sock, const char *answer)
{
	json_object *o, *e;
	bool refused = false;
	static const char prefix[] = "{\"error\":\"permission denied";

	if (strncmp(answer, prefix, sizeof(prefix) - 1))
		return false;
	o = json_tokener_parse(answer);
	if (o && json_object_object_get_ex(o, "error", &e) && json_object_is_type(e, json_type_string)) {
		fprintf(stderr, "bridgectl: bridged at %s refused this user: %s\n", sock, json_object_get_string(e));
		refused = true;
	}
	json_object_put(o);
	return refused;
}

json_object *ctl_request_json(const char *sock, const char *cmd)
{
	char *text = ctl_request(sock, cmd);
	json_object *j;

	if (!text)
		return NULL;
	j = json_tokener_parse(text);
	if (!j)
		fprintf(stderr, "bridgectl: %s: the daemon's answer to '%s' is not JSON\n", sock, cmd);
	free(text);
	return j;
}
