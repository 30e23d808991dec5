/*
 * libmicrohttpd, loaded when `cnai serve` starts (core/util/lazy.h), so
 * other commands do not link it. The variadic start function goes through
 * MHD_start_daemon_va; the info getters take no extra argument for the
 * info types cnai asks.
 */
#include <microhttpd.h>
#include <stdarg.h>

#include "core/util/lazy.h"
#include "core/util/banned.h"

#define MHD_SO "libmicrohttpd.so.12"

typedef struct MHD_Response *resp_p;
typedef const char *cstr;
typedef const union MHD_ConnectionInfo *cinfo_p;
typedef const union MHD_DaemonInfo *dinfo_p;

CNAI_LAZY(MHD_SO, enum MHD_Result, MHD_add_response_header,
	  (resp_p r, cstr h, cstr c), (r, h, c))
CNAI_LAZY(MHD_SO, resp_p, MHD_create_response_from_buffer,
	  (size_t n, void *b, enum MHD_ResponseMemoryMode m), (n, b, m))
CNAI_LAZY(MHD_SO, void, MHD_destroy_response, (resp_p r), (r))
CNAI_LAZY(MHD_SO, cstr, MHD_lookup_connection_value,
	  (struct MHD_Connection *c, enum MHD_ValueKind k, cstr key),
	  (c, k, key))
CNAI_LAZY(MHD_SO, enum MHD_Result, MHD_queue_response,
	  (struct MHD_Connection *c, unsigned int s, resp_p r), (c, s, r))
CNAI_LAZY(MHD_SO, enum MHD_Result, MHD_add_connection,
	  (struct MHD_Daemon *d, MHD_socket fd, const struct sockaddr *a,
	   socklen_t n), (d, fd, a, n))
CNAI_LAZY(MHD_SO, MHD_socket, MHD_quiesce_daemon, (struct MHD_Daemon *d), (d))
CNAI_LAZY(MHD_SO, void, MHD_stop_daemon, (struct MHD_Daemon *d), (d))

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
				    MHD_AcceptPolicyCallback apc,
				    void *apc_cls,
				    MHD_AccessHandlerCallback dh, void *dh_cls,
				    ...)
{
	static struct MHD_Daemon *(*fn)(unsigned int, uint16_t,
					MHD_AcceptPolicyCallback, void *,
					MHD_AccessHandlerCallback, void *,
					va_list);
	struct MHD_Daemon *d;
	va_list ap;

	if (!fn)
		*(void **)&fn = cnai_lazy_sym(MHD_SO, "MHD_start_daemon_va");
	va_start(ap, dh_cls);
	d = fn(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

cinfo_p MHD_get_connection_info(struct MHD_Connection *c,
				enum MHD_ConnectionInfoType t, ...)
{
	static cinfo_p (*fn)(struct MHD_Connection *,
			     enum MHD_ConnectionInfoType, ...);

	if (!fn)
		*(void **)&fn = cnai_lazy_sym(MHD_SO,
					      "MHD_get_connection_info");
	return fn(c, t);
}

dinfo_p MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType t,
			    ...)
{
	static dinfo_p (*fn)(struct MHD_Daemon *, enum MHD_DaemonInfoType,
			     ...);

	if (!fn)
		*(void **)&fn = cnai_lazy_sym(MHD_SO, "MHD_get_daemon_info");
	return fn(d, t);
}
