// SPDX-License-Identifier: (MIT OR GPL-2.0-only)

//go:build ignore

/*
 * interlock.c holds Interlock's transparent-interception programs:
 *
 *   cgroup/connect4, cgroup/connect6   rewrite an intercepted TCP connect to
 *                                      the workload's proxy listener on
 *                                      loopback and remember the original
 *                                      destination by socket cookie;
 *   sockops                            on ACTIVE_ESTABLISHED, index that
 *                                      record by {netns cookie, client
 *                                      address, client port}; on TCP_CLOSE,
 *                                      forget both entries;
 *   cgroup/getpeername4, getpeername6  show the application the peer it
 *                                      dialed, not the proxy.
 *
 * Addresses are 16 bytes everywhere; IPv4 is stored v4-mapped
 * (::ffff:a.b.c.d) so one key shape serves AF_INET, AF_INET6 and v4-mapped
 * AF_INET6 sockets. Ports are host byte order in every map.
 *
 * The Go loader in this directory (package bpf) owns the maps' contents; the
 * layouts below are mirrored by the bpf2go-generated Go types.
 */

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char __license[] SEC("license") = "Dual MIT/GPL";

/* Constants from libc headers that the BPF target cannot include. */
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6

/* Verdicts of cgroup sock_addr programs. */
#define SOCK_ADDR_REFUSE 0 /* connect() fails with EPERM */
#define SOCK_ADDR_PASS 1

/* intercept_dsts actions. */
#define DST_INTERCEPT 1
#define DST_SKIP 2

/* workload flags. */
#define WORKLOAD_READY (1U << 0)
#define WORKLOAD_FAIL_OPEN (1U << 1)

/* orig_record flags. */
#define ORIG_V4MAPPED (1U << 0) /* AF_INET6 socket dialing ::ffff:a.b.c.d */

/* Deepest cgroup level searched for a registered workload. */
#define MAX_CGROUP_LEVELS 32

/* Default map sizes; the loader may change max_entries before loading. */
#define MAX_CONNS 65536
#define MAX_WORKLOADS 4096
#define MAX_DSTS 1024
#define MAX_PORTS 64

enum counter {
	COUNTER_REDIRECTED = 0,
	COUNTER_REFUSED_NOT_READY,
	COUNTER_FAILED_OPEN,
	COUNTER_SKIPPED,
	COUNTER_MAP_UPDATE_ERRORS,
	COUNTER_REFUSED_NO_WORKLOAD,
	COUNTER_MAX,
};

struct dst_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct workload {
	__u16 proxy_port4; /* listener on 127.0.0.1 in the workload's netns */
	__u16 proxy_port6; /* listener on ::1 in the workload's netns */
	__u32 flags;       /* WORKLOAD_* */
	__u32 id;          /* opaque to the kernel; chosen by the node agent */
};

struct orig_record {
	__u8 addr[16];     /* original destination, v4-mapped for IPv4 */
	__u16 port;        /* original destination port */
	__u16 family;      /* AF_INET or AF_INET6: the socket's family */
	__u16 flags;       /* ORIG_* */
	__u16 pad0;
	__u32 workload_id;
	__u32 pad1;
	__u64 cgroup_id;   /* cgroup of the task that called connect() */
	__u64 workload_cgroup_id; /* nearest registered ancestor (or itself) */
	__u32 pid;         /* thread id, init pid namespace */
	__u32 tgid;        /* process id, init pid namespace */
	__u32 uid;
	__u32 gid;
};

struct conn_key {
	__u64 netns_cookie;
	__u8 addr[16];     /* client (local) address, v4-mapped for IPv4 */
	__u16 port;        /* client (local) port */
	__u8 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PORTS);
	__type(key, __u16);
	__type(value, __u8);
} intercept_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MAX_DSTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct dst_key);
	__type(value, __u8);
} intercept_dsts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_WORKLOADS);
	__type(key, __u64);
	__type(value, struct workload);
} workloads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_CONNS);
	__type(key, __u64);
	__type(value, struct orig_record);
} sock_orig SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_CONNS);
	__type(key, struct conn_key);
	__type(value, struct orig_record);
} conn_orig SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, enum counter);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(enum counter c)
{
	enum counter key = c;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		*v += 1; /* per-CPU slot: no atomics needed */
}

/* v4mapped fills dst with ::ffff:a.b.c.d for a network-order IPv4 address. */
static __always_inline void v4mapped(__u8 dst[16], __u32 ip4)
{
	__u32 w[4] = {0, 0, bpf_htonl(0xffff), ip4};

	__builtin_memcpy(dst, w, 16);
}

static __always_inline int is_v4mapped(const __u32 ip6[4])
{
	return ip6[0] == 0 && ip6[1] == 0 && ip6[2] == bpf_htonl(0xffff);
}

/*
 * find_workload returns the nearest registered ancestor of the caller's
 * cgroup (or the cgroup itself). It walks from the root down and keeps the
 * deepest hit: ancestor ids are 0 past the task's own level, so the walk
 * costs one lookup per level of depth instead of MAX_CGROUP_LEVELS.
 */
static __always_inline struct workload *find_workload(__u64 *wl_cgroup)
{
	struct workload *found = 0;

	for (int level = 0; level < MAX_CGROUP_LEVELS; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		struct workload *w;

		if (id == 0)
			break;
		w = bpf_map_lookup_elem(&workloads, &id);
		if (w) {
			found = w;
			*wl_cgroup = id;
		}
	}
	return found;
}

/* dst_matches reports whether addr:port is in the interception set. */
static __always_inline int dst_matches(const __u8 addr[16], __u16 port)
{
	struct dst_key key = {.prefixlen = 128};
	__u8 *action;

	if (!bpf_map_lookup_elem(&intercept_ports, &port))
		return 0;
	__builtin_memcpy(key.addr, addr, 16);
	action = bpf_map_lookup_elem(&intercept_dsts, &key);
	return action && *action == DST_INTERCEPT;
}

/* listening4 reports whether a TCP socket listens on 127.0.0.1:port in the
 * caller's network namespace. */
static __always_inline int listening4(struct bpf_sock_addr *ctx, __u16 port)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	if (port == 0)
		return 0;
	t.ipv4.saddr = bpf_htonl(0x7f000001);
	t.ipv4.daddr = bpf_htonl(0x7f000001);
	t.ipv4.dport = bpf_htons(port);
	sk = bpf_sk_lookup_tcp(ctx, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	bpf_sk_release(sk);
	return 1;
}

/* listening6 reports whether a TCP socket listens on [::1]:port in the
 * caller's network namespace. */
static __always_inline int listening6(struct bpf_sock_addr *ctx, __u16 port)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	if (port == 0)
		return 0;
	t.ipv6.saddr[3] = bpf_htonl(1);
	t.ipv6.daddr[3] = bpf_htonl(1);
	t.ipv6.dport = bpf_htons(port);
	sk = bpf_sk_lookup_tcp(ctx, &t, sizeof(t.ipv6), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	bpf_sk_release(sk);
	return 1;
}

/*
 * remember stores the original destination under the socket's cookie.
 * It returns 0 on success; a failure makes the caller refuse the connect,
 * since a redirected connection without its record could not be resolved.
 */
static __always_inline int remember(struct bpf_sock_addr *ctx, const __u8 addr[16],
				    __u16 port, __u16 family, __u16 flags,
				    const struct workload *w, __u64 wl_cgroup)
{
	struct orig_record rec = {};
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	__builtin_memcpy(rec.addr, addr, 16);
	rec.port = port;
	rec.family = family;
	rec.flags = flags;
	rec.workload_id = w->id;
	rec.cgroup_id = bpf_get_current_cgroup_id();
	rec.workload_cgroup_id = wl_cgroup;
	rec.pid = (__u32)pid_tgid;
	rec.tgid = pid_tgid >> 32;
	rec.uid = (__u32)uid_gid;
	rec.gid = uid_gid >> 32;
	if (bpf_map_update_elem(&sock_orig, &cookie, &rec, BPF_ANY)) {
		count(COUNTER_MAP_UPDATE_ERRORS);
		return -1;
	}
	return 0;
}

/* verdict is the outcome of matching a connect against its workload. */
enum verdict {
	VERDICT_PASS,     /* leave the connect alone */
	VERDICT_REFUSE,   /* fail it with EPERM */
	VERDICT_REDIRECT, /* rewrite it to the proxy listener */
};

/* decide applies readiness and fail-open to a matching connect. */
static __always_inline enum verdict decide(const struct workload *w, int listening)
{
	if ((w->flags & WORKLOAD_READY) && listening)
		return VERDICT_REDIRECT;
	if (w->flags & WORKLOAD_FAIL_OPEN) {
		count(COUNTER_FAILED_OPEN);
		return VERDICT_PASS;
	}
	count(COUNTER_REFUSED_NOT_READY);
	return VERDICT_REFUSE;
}

/* connect_v4 handles a connect of an AF_INET socket, or of an AF_INET6
 * socket to a v4-mapped address (mapped != 0): ip4 is network order. */
static __always_inline int connect_v4(struct bpf_sock_addr *ctx, __u32 ip4, __u16 port,
				      int mapped)
{
	__u8 addr[16];
	__u64 wl_cgroup = 0;
	struct workload *w;

	v4mapped(addr, ip4);
	if (!dst_matches(addr, port)) {
		count(COUNTER_SKIPPED);
		return SOCK_ADDR_PASS;
	}
	w = find_workload(&wl_cgroup);
	if (!w) {
		count(COUNTER_REFUSED_NO_WORKLOAD);
		return SOCK_ADDR_REFUSE;
	}
	if (ip4 == bpf_htonl(0x7f000001) && port == w->proxy_port4)
		return SOCK_ADDR_PASS; /* already the proxy listener */

	switch (decide(w, listening4(ctx, w->proxy_port4))) {
	case VERDICT_PASS:
		return SOCK_ADDR_PASS;
	case VERDICT_REFUSE:
		return SOCK_ADDR_REFUSE;
	case VERDICT_REDIRECT:
		break;
	}
	if (remember(ctx, addr, port, mapped ? AF_INET6 : AF_INET,
		     mapped ? ORIG_V4MAPPED : 0, w, wl_cgroup))
		return SOCK_ADDR_REFUSE;

	if (mapped) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0xffff);
		ctx->user_ip6[3] = bpf_htonl(0x7f000001);
	} else {
		ctx->user_ip4 = bpf_htonl(0x7f000001);
	}
	ctx->user_port = bpf_htons(w->proxy_port4);
	count(COUNTER_REDIRECTED);
	return SOCK_ADDR_PASS;
}

static __always_inline int is_tcp(struct bpf_sock_addr *ctx)
{
	return ctx->type == SOCK_STREAM &&
	       (ctx->protocol == IPPROTO_TCP || ctx->protocol == 0);
}

SEC("cgroup/connect4")
int interlock_connect4(struct bpf_sock_addr *ctx)
{
	if (!is_tcp(ctx))
		return SOCK_ADDR_PASS;
	return connect_v4(ctx, ctx->user_ip4, bpf_ntohs((__u16)ctx->user_port), 0);
}

SEC("cgroup/connect6")
int interlock_connect6(struct bpf_sock_addr *ctx)
{
	__u32 ip6[4];
	__u16 port;
	__u64 wl_cgroup = 0;
	struct workload *w;

	if (!is_tcp(ctx))
		return SOCK_ADDR_PASS;
	ip6[0] = ctx->user_ip6[0];
	ip6[1] = ctx->user_ip6[1];
	ip6[2] = ctx->user_ip6[2];
	ip6[3] = ctx->user_ip6[3];
	port = bpf_ntohs((__u16)ctx->user_port);

	if (is_v4mapped(ip6))
		return connect_v4(ctx, ip6[3], port, 1);

	if (!dst_matches((__u8 *)ip6, port)) {
		count(COUNTER_SKIPPED);
		return SOCK_ADDR_PASS;
	}
	w = find_workload(&wl_cgroup);
	if (!w) {
		count(COUNTER_REFUSED_NO_WORKLOAD);
		return SOCK_ADDR_REFUSE;
	}
	if (ip6[0] == 0 && ip6[1] == 0 && ip6[2] == 0 && ip6[3] == bpf_htonl(1) &&
	    port == w->proxy_port6)
		return SOCK_ADDR_PASS; /* already the proxy listener */

	switch (decide(w, listening6(ctx, w->proxy_port6))) {
	case VERDICT_PASS:
		return SOCK_ADDR_PASS;
	case VERDICT_REFUSE:
		return SOCK_ADDR_REFUSE;
	case VERDICT_REDIRECT:
		break;
	}
	if (remember(ctx, (__u8 *)ip6, port, AF_INET6, 0, w, wl_cgroup))
		return SOCK_ADDR_REFUSE;

	ctx->user_ip6[0] = 0;
	ctx->user_ip6[1] = 0;
	ctx->user_ip6[2] = 0;
	ctx->user_ip6[3] = bpf_htonl(1);
	ctx->user_port = bpf_htons(w->proxy_port6);
	count(COUNTER_REDIRECTED);
	return SOCK_ADDR_PASS;
}

/* conn_key_of builds the conn_orig key of an established client socket. */
static __always_inline void conn_key_of(struct bpf_sock_ops *skops, struct conn_key *key)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->netns_cookie = bpf_get_netns_cookie(skops);
	key->port = (__u16)skops->local_port; /* host order in sock_ops */
	if (skops->family == AF_INET) {
		v4mapped(key->addr, skops->local_ip4);
	} else {
		__u32 ip6[4];

		ip6[0] = skops->local_ip6[0];
		ip6[1] = skops->local_ip6[1];
		ip6[2] = skops->local_ip6[2];
		ip6[3] = skops->local_ip6[3];
		__builtin_memcpy(key->addr, ip6, 16);
	}
}

SEC("sockops")
int interlock_sockops(struct bpf_sock_ops *skops)
{
	struct orig_record *rec;
	struct conn_key key;
	__u64 cookie;

	switch (skops->op) {
	case BPF_SOCK_OPS_TCP_CONNECT_CB:
		cookie = bpf_get_socket_cookie(skops);
		if (bpf_map_lookup_elem(&sock_orig, &cookie))
			bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags |
								 BPF_SOCK_OPS_STATE_CB_FLAG);
		break;
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
		cookie = bpf_get_socket_cookie(skops);
		rec = bpf_map_lookup_elem(&sock_orig, &cookie);
		if (!rec)
			break;
		conn_key_of(skops, &key);
		if (bpf_map_update_elem(&conn_orig, &key, rec, BPF_ANY))
			count(COUNTER_MAP_UPDATE_ERRORS);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] != BPF_TCP_CLOSE)
			break;
		cookie = bpf_get_socket_cookie(skops);
		if (!bpf_map_lookup_elem(&sock_orig, &cookie))
			break;
		conn_key_of(skops, &key);
		bpf_map_delete_elem(&conn_orig, &key);
		bpf_map_delete_elem(&sock_orig, &cookie);
		break;
	}
	return 1;
}

SEC("cgroup/getpeername4")
int interlock_getpeername4(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct orig_record *rec = bpf_map_lookup_elem(&sock_orig, &cookie);
	__u32 ip4;

	if (!rec)
		return SOCK_ADDR_PASS;
	__builtin_memcpy(&ip4, &rec->addr[12], 4);
	ctx->user_ip4 = ip4;
	ctx->user_port = bpf_htons(rec->port);
	return SOCK_ADDR_PASS;
}

SEC("cgroup/getpeername6")
int interlock_getpeername6(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	struct orig_record *rec = bpf_map_lookup_elem(&sock_orig, &cookie);
	__u32 ip6[4];

	if (!rec)
		return SOCK_ADDR_PASS;
	__builtin_memcpy(ip6, rec->addr, 16);
	ctx->user_ip6[0] = ip6[0];
	ctx->user_ip6[1] = ip6[1];
	ctx->user_ip6[2] = ip6[2];
	ctx->user_ip6[3] = ip6[3];
	ctx->user_port = bpf_htons(rec->port);
	return SOCK_ADDR_PASS;
}
