/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the journals bridgectl and bridged read back after
 * a crash: the cutover's (migrate/cutover/journal.c, cutover_journal_parse,
 * what `bridgectl cutover VM` resumes from) and MigrateListen's autostart
 * journal (migrate/source/autostart.c, autostart_journal_load). A file
 * damaged in any way is refused with a reason, never crashes; a cutover
 * journal that parses can be walked (next step, summary, statuses),
 * advanced, and written back to text that parses again.
 *
 * The first byte chooses the reader (even: cutover, odd: autostart).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate/cutover/journal.h"
#include "migrate/source/autostart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cutover(const char *text, size_t len)
{
	char err[256] = "", sum[128];
	json_object *j = cutover_journal_parse(text, len, "web1", err, sizeof(err)), *j2;
	enum cutover_step next;
	const char *out;

	if (!j) {
		if (!err[0])
			abort();        /* a refusal names what is wrong */
		return;
	}
	for (int s = 0; s < CUT_STEP_MAX; s++)
		if ((unsigned)cutover_step_status(j, s) >= CUT_STATUS_MAX)
			abort();
	(void)cutover_state(j);
	cutover_summary(j, sum, sizeof(sum));
	next = cutover_next_step(j);
	if (next < CUT_STEP_MAX) {
		cutover_step_set(j, next, CUT_RUNNING, 1.7e9);
		cutover_step_set(j, next, CUT_DONE, 1.7e9 + 1);
	}
	/* written back (as the journal is saved), it reads again */
	out = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	j2 = cutover_journal_parse(out, strlen(out), "web1", err, sizeof(err));
	if (!j2) {
		fprintf(stderr, "journal written back does not parse: %s\n%s\n", err, out);
		abort();
	}
	if (next < CUT_STEP_MAX && cutover_step_status(j2, next) != CUT_DONE)
		abort();
	json_object_put(j2);
	json_object_put(j);
}

static void autostart(const uint8_t *data, size_t size)
{
	static char path[64];
	struct autostart_journal j;
	char err[256] = "";
	json_object *o;
	int fd, r;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/fuzz_journal.%d.json", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	r = autostart_journal_load(path, &j, err, sizeof(err));
	unlink(path);
	if (r < 0) {
		if (!err[0])
			abort();
		return;
	}
	o = autostart_journal_to_json(&j);
	json_object_put(o);
	autostart_journal_clear(&j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		autostart(data + 1, size - 1);
		return 0;
	}
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	cutover(text, size - 1);
	free(text);
	return 0;
}
