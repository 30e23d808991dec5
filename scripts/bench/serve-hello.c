/*
 * The ceiling for scripts/bench/serve-infer.sh: a bare libmicrohttpd
 * server configured as cnai serve's (epoll thread pool, same limits) that
 * reads each request's body and answers a fixed small JSON document. What
 * cnai serve does beyond this is its cost: routing, JSON, inference, logs
 * and metrics.
 *
 *   cc -O2 -o serve-hello serve-hello.c -lmicrohttpd
 *   ./serve-hello PORT [THREADS]      (runs until SIGTERM or SIGINT)
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char answer[] = "{\"model_name\":\"hello\",\"outputs\":[]}";

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	static int started;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (!*con_cls) {
		*con_cls = &started; /* first call: headers only */
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* the body, read and dropped */
		return MHD_YES;
	}
	resp = MHD_create_response_from_buffer(sizeof(answer) - 1,
					       (void *)answer,
					       MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	struct sockaddr_in addr;
	sigset_t sigs;
	int sig;

	if (argc < 2) {
		fprintf(stderr, "usage: serve-hello PORT [THREADS]\n");
		return 2;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC,
			     0, NULL, NULL, handler, NULL,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
			     MHD_OPTION_THREAD_POOL_SIZE,
			     (unsigned)(argc > 2 ? atoi(argv[2]) : 2),
			     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
			     MHD_OPTION_CONNECTION_LIMIT, 4000u,
			     MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "serve-hello: cannot listen on port %s\n",
			argv[1]);
		return 3;
	}
	sigwait(&sigs, &sig);
	MHD_stop_daemon(d);
	return 0;
}
