/*
 * fleet.h — the emulated endpoints' state, shared by the fleet's own files
 * only (worker.c runs the loop, agent.c drives channels, echo.c is the
 * gateway). Not a public interface: run.c sees worker.h.
 *
 * Per agent channel, messages in flight live in a ring of slot_cap slots
 * indexed by message number: message m may start only when slot m % cap is
 * free, i.e. when message m - cap has completed or been declared lost.
 *
 * Threads: everything here belongs to its worker's thread.
 */
#ifndef POSTERN_BENCH_RELAYBENCH_FLEET_H
#define POSTERN_BENCH_RELAYBENCH_FLEET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "bench/relaybench/counters.h"
#include "bench/relaybench/hdr.h"
#include "bench/relaybench/rng.h"
#include "bench/relaybench/seqwin.h"
#include "bench/relaybench/worker.h"
#include "endpoint/hop_client.h"

#define NS_PER_S UINT64_C(1000000000)
#define NS_PER_MS UINT64_C(1000000)

enum {
	FLEET_TICK_NS = 10 * 1000 * 1000,	/* hop timers and loss scan */
	FLEET_PUBLISH_NS = 100 * 1000 * 1000,
	FLEET_ARRIVALS_PER_TURN = 256,		/* open loop: then receive again */
	FLEET_SOCKET_BUFFER = 1 << 20,
};

struct msg_slot {
	uint64_t first_ns;		/* when its first chunk was sent */
	uint32_t msg;
	uint16_t chunks, got;
	bool used;
	bool counted;			/* sent inside the measured window */
};

enum chan_state {
	CHAN_IDLE,
	CHAN_OPENING,
	CHAN_OPEN,
	CHAN_CLOSED,
};

struct emu;

struct chan {
	struct emu *owner;
	uint32_t id;			/* 1..channels, on the agent's session */
	uint32_t tunnel;		/* the gateway index whose tunnel it opens */
	enum chan_state state;
	uint32_t inflight;		/* messages */
	uint32_t next_msg;
	uint32_t oldest;		/* no message before it is in flight */
	uint64_t next_seq;		/* packets */
	uint64_t open_sent_ns;
	struct seqwin win;
	struct msg_slot *slots;		/* worker's slot_cap of them */
};

/* One emulated endpoint. */
struct emu {
	struct worker *w;
	struct hop_client *hc;
	uint32_t flow;
	uint32_t index;			/* within its role, across all threads */
	bool agent;
	bool up_once;			/* a handshake has completed */
	uint64_t connect_ns;
	struct chan *ch;		/* agents: opts.channels of them */
};

struct worker {
	struct worker_config cfg;
	const struct opts *o;
	struct worker_shared *sh;
	pthread_t thread;
	bool started;
	int err;
	char errmsg[256];

	struct transport *tp;
	struct emu *eps;		/* gateways [0, n_gw), then agents */
	uint32_t n_eps, n_gw;
	struct chan *chans;		/* every agent's channels, agent by agent */
	uint32_t n_chans;
	struct msg_slot *slots;
	uint32_t slot_cap;		/* a power of two */
	struct rng rng;
	uint64_t now;			/* the clock as of the packet or timer being handled */

	/* Handshake ramp. */
	uint32_t next_connect;
	double connect_at, hs_gap;

	/* Traffic. */
	bool traffic;			/* phase TRAFFIC seen */
	bool sending;			/* new messages allowed (before measure_end) */
	uint64_t measure_start, measure_end;
	double next_arrival, arrival_rate;
	uint32_t cursor;		/* open loop: next channel to try */
	uint64_t inflight;
	bool window_open, window_closed;
	struct rusage ru_start, ru_end;
	uint64_t wall_start, wall_end;

	uint64_t next_tick, next_publish, next_interval;
	uint64_t hs_first, hs_last;

	struct counters c;		/* the thread's own */
	struct counters pub;		/* published copy */
	uint64_t refused_by[WORKER_CLOSE_REASONS];
	struct hdr *hs_lat, *open_lat, *rtt, *msg_lat, *lag, *interval;
};

/* @return true if a message or packet sent at @t counts (the measured window). */
static inline bool fleet_in_window(const struct worker *w, uint64_t t)
{
	return t >= w->measure_start && t < w->measure_end;
}

/* agent.c */
void agent_on_connected(struct emu *e, uint64_t now);
void agent_on_frame(struct emu *e, const struct frame *f, uint64_t now);
void agent_refill(struct worker *w, struct chan *ch, uint64_t now);
bool agent_send_message(struct worker *w, struct chan *ch, uint64_t now);
void agent_scan(struct worker *w, uint64_t now);
void agent_close_all(struct worker *w, uint64_t now);

/* echo.c */
void echo_on_frame(struct emu *e, const struct frame *f, uint64_t now);

#endif /* POSTERN_BENCH_RELAYBENCH_FLEET_H */
