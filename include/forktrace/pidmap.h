/*
 * A hash map from pid or tid to a pointer, with open addressing and linear
 * probing.  Lookups on the event path cost one hash and usually one probe.
 */
#ifndef FORKTRACE_PIDMAP_H
#define FORKTRACE_PIDMAP_H

#include <stddef.h>
#include <sys/types.h>

struct pidmap_slot {
	pid_t key; /* 0: empty, -1: deleted */
	void *value;
};

struct pidmap {
	struct pidmap_slot *slots;
	size_t capacity; /* a power of two, or 0 */
	size_t count; /* live entries */
	size_t used; /* live and deleted entries */
};

#define PIDMAP_INIT           \
	{                     \
		NULL, 0, 0, 0 \
	}

/* Returns the value stored for key (> 0), or NULL. */
void *pidmap_get(const struct pidmap *map, pid_t key);
/* Stores value for key (> 0), replacing any earlier value. */
void pidmap_put(struct pidmap *map, pid_t key, void *value);
/* Removes key; returns its value, or NULL when it was absent. */
void *pidmap_remove(struct pidmap *map, pid_t key);
void pidmap_free(struct pidmap *map);

/*
 * Calls fn for every entry.  fn may remove the entry it is given, but no
 * other one, and may not add entries.
 */
void pidmap_each(struct pidmap *map, void (*fn)(pid_t, void *, void *),
		 void *data);

#endif
