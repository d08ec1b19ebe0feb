/*
 * l2stats.c — drop reason names and sums (see l2stats.h).
 */
#include "dataplane/l2stats.h"

static const char *const drop_names[DP_L2STATS_DROP_MAX] = {
#define DP_L2STATS_DROP_NAME(name, str) [DP_L2STATS_##name] = str,
	DP_L2STATS_DROPS(DP_L2STATS_DROP_NAME)
#undef DP_L2STATS_DROP_NAME
};

const char *dp_l2stats_drop_name(enum dp_l2stats_drop reason)
{
	if ((unsigned)reason >= DP_L2STATS_DROP_MAX)
		return "?";
	return drop_names[reason];
}

static uint64_t sum(const uint64_t *v)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < DP_L2STATS_DROP_MAX; i++)
		n += v[i];
	return n;
}

uint64_t dp_l2stats_rx_dropped(const struct dp_l2stats *s)
{
	return sum(s->rx_dropped);
}

uint64_t dp_l2stats_tx_dropped(const struct dp_l2stats *s)
{
	return sum(s->tx_dropped);
}
