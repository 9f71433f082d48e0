/* libmicrohttpd (Debian libmicrohttpd-dev): the HTTP/1.1 server under `llmscript serve` (LLMServe).
 * MHD_start_daemon and MHD_get_*_info are variadic or return unions, which Swift cannot call or read:
 * the small inline helpers below wrap them with fixed signatures. */
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <microhttpd.h>

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000 /* Linux: the peer closed its end (a GNU name) */
#endif

/* The family of a numeric address: 4 (a dotted quad), 6 (an IPv6 address such as ::1 or ::), or 0 (neither). */
static inline int llms_mhd_family(const char *host) {
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1) return 4;
    if (inet_pton(AF_INET6, host, &a6) == 1) return 6;
    return 0;
}

/* Starts a thread-per-connection daemon (without MHD_USE_ERROR_LOG: a client that leaves mid-answer would log
 * two lines each time; start failures are reported by the caller) bound to the numeric address `host` and `port`
 * (0: any free port): IPv4 (a dotted quad), or IPv6 (MHD_USE_IPv6; the unspecified address :: also takes IPv4
 * connections, MHD_USE_DUAL_STACK). Returns NULL when the address is invalid or the bind fails. */
static inline struct MHD_Daemon *llms_mhd_start(const char *host, uint16_t port, MHD_AccessHandlerCallback handler, void *cls,
                                                MHD_RequestCompletedCallback completed, unsigned int idleTimeout,
                                                unsigned int connectionLimit) {
    struct sockaddr_in addr; /* bound during MHD_start_daemon */
    struct sockaddr_in6 addr6;
    struct sockaddr *sa;
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    memset(&addr, 0, sizeof addr);
    memset(&addr6, 0, sizeof addr6);
    if (inet_pton(AF_INET, host, &addr.sin_addr) == 1) {
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        sa = (struct sockaddr *)&addr;
    } else if (inet_pton(AF_INET6, host, &addr6.sin6_addr) == 1) {
        addr6.sin6_family = AF_INET6;
        addr6.sin6_port = htons(port);
        sa = (struct sockaddr *)&addr6;
        flags |= IN6_IS_ADDR_UNSPECIFIED(&addr6.sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    } else {
        return NULL;
    }
    return MHD_start_daemon(flags, port, NULL, NULL, handler, cls, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_NOTIFY_COMPLETED, completed, cls,
                            MHD_OPTION_CONNECTION_TIMEOUT, idleTimeout, MHD_OPTION_CONNECTION_LIMIT, connectionLimit,
                            MHD_OPTION_END);
}

/* The port the daemon listens on (the chosen one when started with port 0), or 0. */
static inline uint16_t llms_mhd_port(struct MHD_Daemon *d) {
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

/* True when the client of `c` has closed or reset its connection (checked without blocking). */
static inline int llms_mhd_client_gone(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info) return 1;
    struct pollfd p = {.fd = info->connect_fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) < 0) return 0;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* The enum constants Swift needs, under names that do not depend on how it imports MHD's closed enums. */
static const enum MHD_Result LLMS_MHD_YES = MHD_YES;
static const enum MHD_Result LLMS_MHD_NO = MHD_NO;
static const enum MHD_ValueKind LLMS_MHD_HEADER_KIND = MHD_HEADER_KIND;
static const enum MHD_ResponseMemoryMode LLMS_MHD_RESPMEM_MUST_COPY = MHD_RESPMEM_MUST_COPY;
