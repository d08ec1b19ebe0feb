/*
 * identity.c — static key → session handle (see identity.h).
 */
#include "relay/identity.h"

#include <errno.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

#include "relay/handle.h"
#include "relay/hashfn.h"

enum { KEY_LEN = 32 };

/* Handles travel as rte_hash data, a pointer. */
_Static_assert(sizeof(void *) >= sizeof(uint64_t), "handles need 64-bit pointers");

struct identity {
	struct rte_hash *h;
	rte_spinlock_t lock;	/* serialises claim/release, see identity.h */
};

int identity_create(struct identity **out, const char *name, uint32_t capacity,
		    struct rte_rcu_qsbr *qsbr)
{
	struct identity *id;
	int ret;

	id = calloc(1, sizeof(*id));
	if (!id)
		return -ENOMEM;
	rte_spinlock_init(&id->lock);
	ret = hashfn_table_create(&id->h, name, capacity, KEY_LEN, qsbr);
	if (ret)
		goto err_id;
	*out = id;
	return 0;

err_id:
	free(id);
	return ret;
}

void identity_destroy(struct identity *id)
{
	if (!id)
		return;
	rte_hash_free(id->h);
	free(id);
}

uint64_t identity_lookup(const struct identity *id, const uint8_t pub[KEY_LEN])
{
	void *data;

	if (rte_hash_lookup_data(id->h, pub, &data) < 0)
		return HANDLE_NONE;
	return (uint64_t)(uintptr_t)data;
}

int identity_claim(struct identity *id, const uint8_t pub[KEY_LEN], uint64_t handle,
		   uint64_t *owner)
{
	void *data;
	int ret;

	rte_spinlock_lock(&id->lock);
	if (rte_hash_lookup_data(id->h, pub, &data) >= 0) {
		*owner = (uint64_t)(uintptr_t)data;
		ret = -EEXIST;
	} else {
		ret = rte_hash_add_key_data(id->h, pub, (void *)(uintptr_t)handle);
		ret = ret < 0 ? -ENOSPC : 0;
	}
	rte_spinlock_unlock(&id->lock);
	return ret;
}

void identity_release(struct identity *id, const uint8_t pub[KEY_LEN], uint64_t handle)
{
	void *data;

	rte_spinlock_lock(&id->lock);
	if (rte_hash_lookup_data(id->h, pub, &data) >= 0 && (uint64_t)(uintptr_t)data == handle)
		rte_hash_del_key(id->h, pub);
	rte_spinlock_unlock(&id->lock);
}
