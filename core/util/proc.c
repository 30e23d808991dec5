/*
 * Child processes: with tee'd output and forwarded signals, or fed on
 * their stdin.
 *
 * Signals: a SIGINT typed at the terminal already reaches the child (same
 * process group), so forwarding it again would interrupt the child's own
 * clean-up. The handler therefore forwards only signals sent by a process
 * (si_code SI_USER/SI_QUEUE: `kill`, a CI runner's timeout), never ones
 * the kernel sent to the whole group. The child's pid is the one piece of
 * file-level mutable state: a signal handler has no other way to reach it.
 *
 * Output: the copy ends when the child exits, not when the pipes reach
 * EOF. A background process the command left behind (`sleep 30 &`) still
 * holds the pipes open, and waiting for it would keep the run open long
 * after its command ended. What the child wrote before it exited is still
 * in the pipes and is drained first.
 */
#include "core/util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/banned.h"

extern char **environ;

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t forwarded;

static void forward_signal(int sig, siginfo_t *info, void *ctx)
{
	(void)ctx;
	if (child_pid > 0 && info &&
	    (info->si_code == SI_USER || info->si_code == SI_QUEUE)) {
		kill((pid_t)child_pid, sig);
		forwarded = 1;
	} else if (child_pid > 0) {
		forwarded = 1; /* the child got it from the terminal */
	}
}

/* Copies up to `max` readable bytes on fd to `to` and `copy`; 0 at EOF. */
static int pump(int fd, int to, int copy, size_t max)
{
	char chunk[65536];
	ssize_t n;

	do
		n = read(fd, chunk, max < sizeof(chunk) ? max : sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0;
	/* A closed terminal must not stop the copy into the run's log. */
	(void)cnai_fs_write_all(to, chunk, (size_t)n);
	cnai_error_clear();
	if (copy >= 0 && cnai_fs_write_all(copy, chunk, (size_t)n) < 0)
		return -1;
	return (int)n;
}

/*
 * Copies what the pipe holds now and no more: a background process that
 * keeps writing (`yes &`) must not keep the copy going for ever.
 */
static void drain(int fd, int to, int copy)
{
	int avail = 0, n;

	if (ioctl(fd, FIONREAD, &avail) < 0)
		return;
	while (avail > 0 && (n = pump(fd, to, copy, (size_t)avail)) > 0)
		avail -= n;
}

/* A descriptor that polls readable when the child exits, or -1 where the
 * kernel has no pidfd_open (before 5.3): the loop then polls every 100 ms. */
static int child_exit_fd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

static void child_exec(char *const argv[], char *const env[], int pout[2],
		       int perr[2], int report)
{
	int e;

	dup2(pout[1], STDOUT_FILENO);
	dup2(perr[1], STDERR_FILENO);
	close(pout[0]);
	close(pout[1]);
	close(perr[0]);
	close(perr[1]);
	signal(SIGPIPE, SIG_DFL);
	execvpe(argv[0], argv, env);
	e = errno;
	(void)!write(report, &e, sizeof(e));
	_exit(127);
}

/* The exit of a child as waitpid() reported it. */
static void set_status(struct cnai_proc_result *out, int status)
{
	if (WIFEXITED(status)) {
		out->exited = 1;
		out->exit_code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		out->term_signal = WTERMSIG(status);
		out->exit_code = 128 + out->term_signal;
	}
}

/* Reads the child's report of a failed exec: 0 when the exec worked (the
 * close-on-exec pipe closed with nothing in it), else the errno. */
static int exec_report(int fd)
{
	ssize_t n;
	int e = 0;

	do
		n = read(fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(e) ? e : 0;
}

int cnai_proc_run_tee(struct cnai_proc_result *out, char *const argv[],
		      char *const env[], int copy_out, int copy_err)
{
	struct sigaction sa, old_int, old_term, old_hup;
	int pout[2] = { -1, -1 }, perr[2] = { -1, -1 }, rep[2] = { -1, -1 };
	int status = 0, e = 0, err = 0, open_fds, exit_fd = -1, reaped = 0;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 ||
	    pipe2(rep, O_CLOEXEC) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "pipe");
		goto cleanup;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	forwarded = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	pid = fork();
	if (pid < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "fork");
		goto restore;
	}
	if (pid == 0)
		child_exec(argv, env, pout, perr, rep[1]);
	child_pid = pid;
	close(pout[1]);
	close(perr[1]);
	close(rep[1]);
	pout[1] = perr[1] = rep[1] = -1;
	if ((e = exec_report(rep[0])) != 0) {
		waitpid(pid, &status, 0);
		child_pid = 0;
		err = cnai_error_set(e == ENOENT ? CNAI_ENOTFOUND : CNAI_ERROR,
				     "cannot run '%s': %s", argv[0],
				     strerror(e));
		goto restore;
	}
	exit_fd = child_exit_fd(pid);
	for (open_fds = 2; open_fds > 0;) {
		struct pollfd fds[3] = { { pout[0], POLLIN, 0 },
					 { perr[0], POLLIN, 0 },
					 { exit_fd, POLLIN, 0 } };

		if (poll(fds, 3, exit_fd >= 0 ? -1 : 100) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[0].revents && pout[0] >= 0 &&
		    pump(pout[0], STDOUT_FILENO, copy_out, SIZE_MAX) <= 0) {
			close(pout[0]);
			pout[0] = -1;
			open_fds--;
		}
		if (fds[1].revents && perr[0] >= 0 &&
		    pump(perr[0], STDERR_FILENO, copy_err, SIZE_MAX) <= 0) {
			close(perr[0]);
			perr[0] = -1;
			open_fds--;
		}
		if (open_fds && (exit_fd < 0 || fds[2].revents) &&
		    waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			break;
		}
	}
	if (reaped) {
		if (pout[0] >= 0)
			drain(pout[0], STDOUT_FILENO, copy_out);
		if (perr[0] >= 0)
			drain(perr[0], STDERR_FILENO, copy_err);
	} else {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	child_pid = 0;
	out->forwarded = forwarded;
	set_status(out, status);
restore:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
cleanup:
	if (exit_fd >= 0)
		close(exit_fd);
	for (int i = 0; i < 2; i++) {
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	return err;
}

int cnai_proc_run_input(struct cnai_proc_result *out, char *const argv[],
			const void *input, size_t len)
{
	int in[2] = { -1, -1 }, rep[2] = { -1, -1 }, status = 0, e, err = 0;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "pipe");
		goto cleanup;
	}
	if ((pid = fork()) < 0) {
		err = cnai_error_set_errno(CNAI_ERROR, "fork");
		goto cleanup;
	}
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		execvp(argv[0], argv);
		e = errno;
		(void)!write(rep[1], &e, sizeof(e));
		_exit(127);
	}
	close(in[0]);
	close(rep[1]);
	in[0] = rep[1] = -1;
	if ((e = exec_report(rep[0])) == 0) {
		(void)cnai_fs_write_all(in[1], input, len);
		cnai_error_clear();
	}
	close(in[1]);
	in[1] = -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			err = cnai_error_set_errno(CNAI_ERROR, "%s", argv[0]);
			goto cleanup;
		}
	if (e) {
		err = cnai_error_set(e == ENOENT ? CNAI_ENOTFOUND : CNAI_ERROR,
				     "cannot run '%s': %s", argv[0],
				     strerror(e));
		goto cleanup;
	}
	set_status(out, status);
cleanup:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (rep[i] >= 0)
			close(rep[i]);
	}
	return err;
}

char *cnai_proc_command_line(int argc, char *const argv[])
{
	struct cnai_buf b = CNAI_BUF_INIT;
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		int plain = *a && !a[strcspn(a, " \t\n'\"\\$`;&|<>()*?!#~")];

		if (i)
			cnai_buf_addch(&b, ' ');
		if (plain) {
			cnai_buf_adds(&b, a);
			continue;
		}
		/* Shell-quoted so the command line can be pasted back. */
		cnai_buf_addch(&b, '\'');
		for (; *a; a++) {
			if (*a == '\'')
				cnai_buf_adds(&b, "'\\''");
			else
				cnai_buf_addch(&b, *a);
		}
		cnai_buf_addch(&b, '\'');
	}
	return cnai_buf_oom(&b) ? NULL : cnai_buf_detach(&b);
}

/* 1 when `var` ("NAME=VALUE") sets a name that one of `set` sets. */
static int env_overridden(const char *var, const char *const set[])
{
	size_t i, n;

	for (i = 0; set[i]; i++) {
		n = strcspn(set[i], "=") + 1;
		if (!strncmp(var, set[i], n))
			return 1;
	}
	return 0;
}

int cnai_proc_env_new(char ***out, const char *const set[])
{
	size_t n = 0, nset = 0, i, k = 0;
	char **env;

	while (environ[n])
		n++;
	while (set[nset])
		nset++;
	if (!(env = calloc(n + nset + 1, sizeof(*env))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < n + nset; i++) {
		const char *var = i < n ? environ[i] : set[i - n];

		if (i < n && env_overridden(var, set))
			continue;
		if (!(env[k++] = strdup(var))) {
			cnai_proc_env_free(env);
			return cnai_error_set(CNAI_ERROR, "out of memory");
		}
	}
	*out = env;
	return 0;
}

void cnai_proc_env_free(char **env)
{
	size_t i;

	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}
