/*
 * stats.c — names of drop reasons and sums over the per-reason counters.
 */
#include "relay/stats.h"

static const char *const drop_names[RELAY_DROP_MAX] = {
#define RELAY_DROP_NAME(name, str) [RELAY_DROP_##name] = str,
	RELAY_DROP_REASONS(RELAY_DROP_NAME)
#undef RELAY_DROP_NAME
};

const char *relay_drop_name(enum relay_drop reason)
{
	return (unsigned)reason < RELAY_DROP_MAX ? drop_names[reason] : "?";
}

uint64_t relay_stats_dropped(const struct relay_stats *s)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < RELAY_DROP_MAX; i++)
		sum += s->dropped[i];
	return sum;
}

uint64_t relay_stats_lost(const struct relay_stats *s)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < RELAY_DROP_MAX; i++)
		sum += s->lost[i];
	return sum;
}
