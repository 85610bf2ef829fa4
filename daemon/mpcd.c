/* SPDX-License-Identifier: MIT */
/* Copyright (C) 2026 The mpcd authors. */
/*
 * mpcd: one daemon per institution. `mpcd -c FILE` runs in the foreground,
 * logs to stderr, and stops cleanly on SIGTERM or SIGINT: running jobs
 * abort with a reason on every party, every handle is closed, and the loop
 * must close with nothing left. SIGHUP re-reads the configuration
 * (reload.c).
 *
 * The cron (every second) checks: link handshake and idle timeouts,
 * heartbeats, redials with back-off (link.c); approval expiry (job.c).
 * The control socket and the metrics endpoint (metrics.c) time out their
 * connections on timers of their own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "files_check.h"
#include "job.h"
#include "keys.h"
#include "log.h"
#include "metrics.h"
#include "mpc.h"
#include "node_check.h"
#include "pool.h"
#include "preauth.h"
#include "reload.h"
#include "server.h"
#include "state.h"

static void on_wake(uv_async_t *a)
{
	struct server *s = a->data;

	/* uv_async_send coalesces: drain everything that is pending. */
	link_drain_all(s);
	job_drain_events(s);
	link_drain_all(s);
}

static void on_cron(uv_timer_t *t)
{
	struct server *s = t->data;

	link_cron(s);
	job_cron(s);
	reload_cron(s);
}

static void on_sighup(uv_signal_t *sig, int signum)
{
	struct server *s = sig->data;

	(void)signum;
	if (!s->stopping)
		reload_request(s);
}

static void on_close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void on_stop_timer(uv_timer_t *t)
{
	struct server *s = t->data;

	/* Links, control and scrape connections free themselves in their close callbacks. */
	metrics_close(s);
	link_close_all(s, "daemon stopping");
	ctl_close_all(s);
	uv_walk(s->loop, on_close_walk, NULL);
}

static void on_signal(uv_signal_t *sig, int signum)
{
	struct server *s = sig->data;
	static uv_timer_t stop;

	if (s->stopping)
		return;
	s->stopping = 1;
	log_info("signal %d: stopping", signum);
	job_abort_all(s, "a daemon stopped");
	/* Let the abort frames reach the peers before the links close. */
	link_drain_all(s);
	uv_timer_init(s->loop, &stop);
	stop.data = s;
	uv_timer_start(&stop, on_stop_timer, 200, 0);
}

/*
 * A result is written to results/ID.npy.part as its chunks finish and
 * renamed at the end; a daemon killed mid-job (or a machine that lost
 * power) leaves the .part behind, a recipient's plaintext that no job
 * will finish: removed at start-up, before any job can write one.
 */
static int clean_partial(const char *dir)
{
	static const char suffix[] = ".npy.part";
	size_t sl = sizeof(suffix) - 1;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (!(d = opendir(dir)))
		return mpc_fail(MPC_E_IO, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len <= sl || strcmp(e->d_name + len - sl, suffix) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0)
			log_warn("%s/%s: cannot remove the partial result: %s", dir, e->d_name,
				 strerror(errno));
		else
			log_info("removed %s/%s: the partial result of a job this node did not "
				 "finish", dir, e->d_name);
	}
	closedir(d);
	return 0;
}

/*
 * DataDir holds results, graphs and handshake timestamps: only the daemon
 * may read it. One made by hand (mode 0755, say) is tightened, and said so.
 */
static int make_dirs(struct server *s)
{
	const char *dd = s->cfg->node.data_dir;
	struct stat st;
	char p[4096];
	int ret;

	/* Missing parents too (/var/lib/mpcd/NAME on a fresh machine). */
	if ((ret = node_make_dir("DataDir", dd, 0700)) != 0)
		return ret;
	if (lstat(dd, &st) < 0 || !S_ISDIR(st.st_mode))
		return mpc_fail(MPC_E_IO, "DataDir %s: not a directory", dd);
	if (st.st_mode & 077) {
		if (chmod(dd, 0700) < 0)
			return mpc_fail(MPC_E_IO, "DataDir %s: mode %03o, cannot tighten: %s", dd,
					(unsigned)(st.st_mode & 0777), strerror(errno));
		log_warn("DataDir %s had mode %03o: tightened to 700", dd,
			 (unsigned)(st.st_mode & 0777));
	}
	/* AuditLog elsewhere than in DataDir: its directory too. */
	node_dir_of(s->cfg->node.audit_log, p, sizeof(p));
	if ((ret = node_make_dir("AuditLog's directory", p, 0700)) != 0)
		return ret;
	snprintf(p, sizeof(p), "%s/results", s->cfg->node.data_dir);
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return mpc_fail(MPC_E_IO, "%s: %s", p, strerror(errno));
	return clean_partial(p);
}

/*
 * A core of this process holds inputs, shares and results in the clear:
 * none is ever written (RLIMIT_CORE 0), and not dumpable also keeps other
 * processes of the same user from ptrace or /proc/PID/mem.
 */
static int no_core_dumps(void)
{
	const struct rlimit zero = { 0, 0 };
	struct rlimit now;

	/* Already 0 (LimitCORE=0 in the unit, whose filter may refuse setrlimit). */
	if ((getrlimit(RLIMIT_CORE, &now) != 0 || now.rlim_cur || now.rlim_max) &&
	    setrlimit(RLIMIT_CORE, &zero) != 0)
		return mpc_fail(MPC_E_IO, "cannot set RLIMIT_CORE to 0: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return mpc_fail(MPC_E_IO, "cannot clear PR_SET_DUMPABLE: %s", strerror(errno));
	return 0;
}

static void report_file(void *arg, const char *line)
{
	if (*(const int *)arg)
		fprintf(stderr, "mpcd: %s\n", line);
	else
		log_err("%s", line);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: mpcd -c CONFIG [--check]\n"
		   "  -c, --config FILE  the node's configuration (docs/config.md)\n"
		   "      --check        check the configuration, the key, the directories\n"
		   "                     (DataDir, the control socket's) and every model and\n"
		   "                     dataset file, print the configuration, exit\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	struct server s;
	uint8_t priv[CHAN_KEYBYTES];
	int c, check = 0, ret, status = 1;
	size_t bad_files;

	memset(&s, 0, sizeof(s));
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind < argc) {
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "mpcd: libsodium cannot start\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((ret = no_core_dumps()) != 0) {
		fprintf(stderr, "mpcd: %s\n", mpc_errmsg(ret));
		return 1;
	}
	mpc_tune_malloc();
	/*
	 * One malloc arena for the whole daemon, set before any thread starts.
	 * glibc gives each thread that meets a locked arena one of its own (up
	 * to 8 per core), and a thread arena's top goes back to the system
	 * only from free() beyond M_TRIM_THRESHOLD (1 GiB, above), never from
	 * malloc_trim(), which trims the main arena's top alone: every arena
	 * kept the most any job ever had in it, and job threads coming and
	 * going kept making new ones, so the RSS of a daemon running jobs 4
	 * at a time grew 10-50 % over 100 jobs (tests/daemon/test_soak.sh).
	 * In one arena, the malloc_trim() after the last job (job_end.c)
	 * returns it all. Job threads malloc little (large buffers are ring.c
	 * mappings, frames one per MaxFrame bytes), so the shared lock costs
	 * nothing measurable (docs/hardening.md, "Soak").
	 */
	mallopt(M_ARENA_MAX, 1);
	if ((ret = cfg_load(path, &s.cfg)) != 0) {
		fprintf(stderr, "mpcd: %s\n", mpc_errmsg(ret));
		return 1;
	}
	log_set_name(s.cfg->node.name);
	if (s.cfg->node.cipher == CFG_CIPHER_AESGCM && !chan_aesgcm_available()) {
		fprintf(stderr, "mpcd: %s: [Node] Cipher = aesgcm, but this CPU has no AES-NI "
				"(use auto or chachapoly)\n", path);
		goto out;
	}
	if ((ret = keys_load_private(s.cfg->node.private_key_file, priv, s.pub)) != 0) {
		fprintf(stderr, "mpcd: %s\n", mpc_errmsg(ret));
		goto out;
	}
	/* The long-term key lives in guarded, read-only memory. */
	if (!(s.priv = sodium_malloc(CHAN_KEYBYTES))) {
		fprintf(stderr, "mpcd: cannot protect the private key\n");
		goto out;
	}
	memcpy(s.priv, priv, CHAN_KEYBYTES);
	ret = node_check_keys(s.cfg, priv, s.pub);
	sodium_memzero(priv, sizeof(priv));
	sodium_mprotect_readonly(s.priv);
	if (ret != 0) {
		fprintf(stderr, "mpcd: %s\n", mpc_errmsg(ret));
		goto out;
	}
	/*
	 * Every [Model] and [Dataset] as a job would read it (--check reads
	 * datasets whole and fails on any problem; a daemon logs each and
	 * starts: its jobs refuse what they cannot read before any approval).
	 */
	bad_files = files_check(s.cfg, check, report_file, &check);
	if (check) {
		/* What start-up would make: --check passing means it can. */
		char dir[4096];

		node_dir_of(s.cfg->node.audit_log, dir, sizeof(dir));
		if ((ret = node_check_dir("DataDir", s.cfg->node.data_dir)) != 0 ||
		    (ret = node_check_dir("AuditLog's directory", dir)) != 0 ||
		    (ret = ctl_check_dir(&s)) != 0) {
			fprintf(stderr, "mpcd: %s\n", mpc_errmsg(ret));
			goto out;
		}
		cfg_dump(s.cfg, stdout);
		status = bad_files ? 1 : 0;
		goto out;
	}
	/* Every job's local arithmetic shares one pool of [Node] Threads. */
	if ((ret = make_dirs(&s)) != 0 || (ret = audit_open(&s.audit, s.cfg->node.audit_log)) != 0 ||
	    (ret = pool_set_threads((int)s.cfg->node.threads)) != 0) {
		fprintf(stderr, "mpcd: %s\n", mpc_errmsg(ret));
		goto out;
	}
	s.n_peers = s.cfg->n_peers;
	s.peers_cap = s.n_peers + SRV_RELOAD_PEERS;
	s.peers = calloc(s.peers_cap, sizeof(*s.peers));
	if (!s.peers)
		goto out;
	for (size_t i = 0; i < s.n_peers; i++) {
		s.peers[i].srv = &s;
		s.peers[i].cfgv = s.cfg->peers[i];
		s.peers[i].cfg = &s.peers[i].cfgv;
		s.peers[i].since = time(NULL);
		pthread_mutex_init(&s.peers[i].mu, NULL);
	}
	if ((ret = state_load(&s)) != 0) {
		fprintf(stderr, "mpcd: %s\n", mpc_errmsg(ret));
		goto out;
	}
	pthread_mutex_init(&s.mu, NULL);
	/* Records last: a start refused above logs its one line only. */
	if ((ret = preauth_init(&s)) != 0 || (ret = job_records_load(&s)) != 0) {
		fprintf(stderr, "mpcd: %s\n", mpc_errmsg(ret));
		goto out;
	}
	s.loop = uv_default_loop();
	s.on_link = &job_link_handlers;
	uv_async_init(s.loop, &s.wake, on_wake);
	s.wake.data = &s;
	if ((ret = link_listen(&s)) != 0 || (ret = ctl_listen(&s)) != 0 ||
	    (ret = metrics_listen(&s)) != 0) {
		fprintf(stderr, "mpcd: %s\n", mpc_errmsg(ret));
		uv_walk(s.loop, on_close_walk, NULL);
		uv_run(s.loop, UV_RUN_DEFAULT);
		goto out_loop;
	}
	uv_signal_init(s.loop, &s.sigterm);
	uv_signal_init(s.loop, &s.sigint);
	s.sigterm.data = s.sigint.data = &s;
	uv_signal_start(&s.sigterm, on_signal, SIGTERM);
	uv_signal_start(&s.sigint, on_signal, SIGINT);
	uv_signal_init(s.loop, &s.sighup);
	s.sighup.data = &s;
	uv_signal_start(&s.sighup, on_sighup, SIGHUP);
	uv_timer_init(s.loop, &s.cron);
	s.cron.data = &s;
	uv_timer_start(&s.cron, on_cron, 1000, 1000);
	log_info("listening on %s:%u (%s), control socket %s", s.cfg->node.listen.host,
		 s.cfg->node.listen.port, cfg_role_name(s.cfg->node.role),
		 s.cfg->node.control_socket);
	link_start_dials(&s);
	uv_run(s.loop, UV_RUN_DEFAULT);
	status = 0;
out_loop:
	job_free_all(&s);
	if (uv_loop_close(s.loop) != 0) {
		log_err("handles left open at exit");
		status = 1;
	}
	if (s.ctl_bound)
		unlink(s.cfg->node.control_socket);
	log_info("stopped");
out:
	for (size_t i = 0; s.peers && i < s.n_peers; i++)
		pthread_mutex_destroy(&s.peers[i].mu);
	free(s.peers);
	preauth_free(&s);
	audit_close(s.audit);
	if (s.priv)
		sodium_free(s.priv);
	cfg_free(s.cfg);
	return status;
}
