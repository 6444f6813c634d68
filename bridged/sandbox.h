/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The seccomp allow-list of the unprivileged network process (sandbox.c,
 * docs/SECURITY.md).
 */
#ifndef BRIDGED_SANDBOX_H
#define BRIDGED_SANDBOX_H

/* Installs the filter for this process and the children it forks from now
 * on (BRIDGED_SECCOMP=kill, the default, log or off). Fatal on failure. */
void sandbox_install(void);
/* Nothing, but in the test build (BRIDGED_TEST_HOOKS): the forbidden call
 * of tests/netns/t-privdrop.sh, made at SIGHUP when asked by the
 * environment. */
void sandbox_test_hook(void);

#endif
