/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The system call allow-list of the processes that parse network input
 * (the daemon after the drop, and the MigrateListen workers it forks),
 * with libseccomp (docs/SECURITY.md, "System calls"). The list was built
 * from observation: `strace -f` attached to the daemons after start-up
 * over the namespace and disk-stream scenarios (BRIDGED_STRACE=DIR in
 * tests/lib/netns.sh), then sorted and commented here by purpose.
 *
 * Anything else: the process is killed. A SIGSYS handler first writes one
 * line naming the call (write(2), async-signal-safe), then the signal is
 * raised again with its default action, so the exit is "killed by signal
 * 31". BRIDGED_SECCOMP=log in the environment logs instead (the kernel's
 * audit log: SCMP_ACT_LOG) and lets the call through, to find what a new
 * code path needs; BRIDGED_SECCOMP=off installs no filter.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "bridged/sandbox.h"
#include "common/log.h"

static const char *const allowed[] = {
	/* seen (strace -f after the drop, over the scenarios) */
	"accept4", "brk", "capget", "capset", "clone", "clone3", "close", "close_range", "dup2",
	"epoll_create1", "epoll_ctl", "epoll_wait", "eventfd2", "exit", "exit_group", "fcntl", "futex", "getpid", "getppid",
	"getrandom", "gettid", "ioctl", "lseek", "madvise", "memfd_create", "mlock", "mmap",
	"mprotect", "munlock", "munmap", "newfstatat", "openat", "poll", "prctl", "pread64", "read",
	"recvmmsg", "recvmsg", "rseq", "rt_sigaction", "rt_sigprocmask", "sendmmsg", "sendmsg",
	"sendto", "set_robust_list", "setsockopt", "shutdown", "wait4", "write", "writev",
	/* the workers keep to their CPUs (Steering = cpu, after the filter) */
	"sched_setaffinity",
	/* not seen in the scenarios, needed on paths they do not take: sd_notify
	 * and syslog (socket, connect), stopping the MigrateListen workers (kill,
	 * nanosleep), the SIGSYS handler and abort() (tgkill), glibc's fallbacks
	 * (the vDSO's clocks, epoll_pwait, fstat, statx, realloc's mremap),
	 * signal delivery (rt_sigreturn, restart_syscall), the stream's readers
	 * (readv, fadvise64, sched_yield, sched_getaffinity), recvfrom,
	 * getsockopt and waitid beside their siblings */
	"socket", "connect", "kill", "nanosleep", "clock_nanosleep", "tgkill", "clock_gettime",
	"gettimeofday", "epoll_pwait", "fstat", "statx", "mremap", "rt_sigreturn",
	"restart_syscall", "readv", "fadvise64", "sched_yield", "sched_getaffinity", "recvfrom",
	"getsockopt", "waitid",
	/* poll() where the architecture has no poll syscall (arm64: glibc's ppoll) */
	"ppoll",
	/* sd_notify's credentials (seen by t-notify: started outside start_bridged) */
	"getuid", "geteuid", "getgid", "getegid",
	/* glibc's qsort asks sysconf(_SC_PHYS_PAGES) (seen by t-cutover: a MAC move) */
	"sysinfo",
	/* the data path's batched TAP reads (tunnel/datapath.c: set up by each
	 * reading thread on its first read, after the drop; only reads of its
	 * own TAP go on the ring) */
	"io_uring_setup", "io_uring_enter",
};

#if defined(__SANITIZE_ADDRESS__) || defined(BRIDGED_SANITIZED)
#define SANITIZED 1
#endif

#ifdef SANITIZED
/* A sanitizer build does not enforce the list: LeakSanitizer's check at
 * exit runs a tracer task with calls of its own, so there anything outside
 * the list is logged by the kernel (SCMP_ACT_LOG) and let through, but for
 * these, which still kill (the test build's mount among them). The plain
 * build enforces the whole list. */
static const char *const denied_sanitizer[] = {
	"mount", "umount2", "execve", "execveat", "setuid", "setgid", "setresuid", "setresgid",
	"setgroups", "init_module", "finit_module", "bpf", "kexec_load", "reboot", "swapon",
	"chroot", "pivot_root", "unshare", "setns",
};
#endif

static const char *syscall_name(long nr, char buf[32])
{
	char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)nr);

	if (!n) {
		snprintf(buf, 32, "%ld", nr);
		return buf;
	}
	snprintf(buf, 32, "%s", n);
	free(n);
	return buf;
}

/* Only async-signal-safe calls (write, sigaction, sigprocmask, raise). The
 * name is resolved without allocating: a small table cannot be kept in
 * step with the kernel, so the number is written and the name, when
 * known at install time, is looked up from a copy made then. */
static char names_by_nr[512][32];

static void sigsys_handler(int sig, siginfo_t *si, void *uc)
{
	char line[128];
	int nr = si->si_syscall, n;
	const char *name = nr >= 0 && nr < 512 && names_by_nr[nr][0] ? names_by_nr[nr] : "?";
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t set;

	(void)uc;
	n = snprintf(line, sizeof(line), "bridged[%d]: seccomp: system call %d (%s) is not allowed: "
		     "killed (docs/SECURITY.md)\n", (int)getpid(), nr, name);
	if (n > 0)
		(void)!write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	sigaction(sig, &dfl, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

static int add_list(scmp_filter_ctx ctx, const char *const *names, size_t n, uint32_t action)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]), r;

		if (nr == __NR_SCMP_ERROR)
			continue;       /* not on this architecture (open, stat on arm64) */
		r = seccomp_rule_add(ctx, action, nr, 0);
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

void sandbox_install(void)
{
	const char *mode = getenv("BRIDGED_SECCOMP");
	bool log_only = mode && !strcmp(mode, "log");
	struct sigaction sa = { .sa_sigaction = sigsys_handler, .sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int r;

	if (mode && !strcmp(mode, "off")) {
		log_warnx("BRIDGED_SECCOMP=off: no system call filter");
		return;
	}
	if (mode && !log_only && strcmp(mode, "kill"))
		fatalx("BRIDGED_SECCOMP=%s: not kill, log or off", mode);
	for (int nr = 0; nr < 512; nr++) {
		char buf[32];

		syscall_name(nr, buf);
		if (buf[0] < '0' || buf[0] > '9')
			snprintf(names_by_nr[nr], sizeof(names_by_nr[nr]), "%s", buf);
	}
#ifdef SANITIZED
	ctx = seccomp_init(SCMP_ACT_LOG);
#else
	ctx = seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
#endif
	if (!ctx)
		fatalx("seccomp: cannot initialise the filter");
	r = add_list(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]), SCMP_ACT_ALLOW);
#ifdef SANITIZED
	if (r == 0 && !log_only)
		r = add_list(ctx, denied_sanitizer, sizeof(denied_sanitizer) / sizeof(denied_sanitizer[0]),
			     SCMP_ACT_TRAP);
#endif
	if (r == 0)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0 && !log_only && sigaction(SIGSYS, &sa, NULL) < 0)
		r = -errno;
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		fatalx("seccomp: cannot install the filter: %s", strerror(-r));
#ifdef SANITIZED
	log_info("seccomp: %zu system calls allowed, anything else logged (sanitizer build: "
		 "%zu calls kill)", sizeof(allowed) / sizeof(allowed[0]),
		 sizeof(denied_sanitizer) / sizeof(denied_sanitizer[0]));
#else
	log_info("seccomp: %zu system calls allowed, anything else %s", sizeof(allowed) / sizeof(allowed[0]),
		 log_only ? "logged (BRIDGED_SECCOMP=log)" : "kills the process");
#endif
}

/* The test build's forbidden call (tests/netns/t-privdrop.sh: make
 * tests/netns/bridged-test, this file with BRIDGED_TEST_HOOKS): with
 * BRIDGED_TEST_FORBIDDEN_SYSCALL=1 in the environment, each SIGHUP makes a
 * mount(2). The daemon that is installed has no such path. */
#ifdef BRIDGED_TEST_HOOKS
#include <sys/mount.h>
void sandbox_test_hook(void)
{
	if (getenv("BRIDGED_TEST_FORBIDDEN_SYSCALL")) {
		log_warnx("test build: BRIDGED_TEST_FORBIDDEN_SYSCALL: calling mount(2)");
		mount("none", "/", "tmpfs", 0, NULL);
		log_warnx("test build: mount(2) returned: %s", strerror(errno));
	}
}
#else
void sandbox_test_hook(void)
{
}
#endif
