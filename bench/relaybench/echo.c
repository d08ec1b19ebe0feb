/*
 * echo.c — the emulated gateway: accepts every CHANNEL_OPEN the relay
 * forwards and sends every CHANNEL_DATA back on its channel unchanged
 * (docs/protocol.md §7), as an MCP server answering with a result of the
 * request's size would.
 *
 * It keeps no per-channel table: the relay forwards CHANNEL_DATA only for
 * channels it has spliced, and a CHANNEL_CLOSE needs no answer (the relay
 * forgot the channel when it forwarded the close), so a gateway with
 * thousands of channels costs nothing per channel here.
 */
#include "bench/relaybench/fleet.h"

void echo_on_frame(struct emu *e, const struct frame *f, uint64_t now)
{
	struct worker *w = e->w;
	struct frame_open o;
	struct frame_data d;

	switch (f->type) {
	case FRAME_CHANNEL_OPEN:
		frame_open_decode(f->body, f->len, &o);
		w->c.gw_channels++;
		hop_client_accept_channel(e->hc, o.channel_id, now);
		break;
	case FRAME_CHANNEL_DATA:
		frame_data_decode(f->body, f->len, &d);
		if (hop_client_send_data(e->hc, d.channel_id, d.e2e, d.e2e_len, now))
			w->c.echo_errors++;
		else
			w->c.echoed_by_gw++;
		break;
	default:
		break;		/* CLOSE: nothing to forget; ACCEPT is not for a gateway */
	}
}
