/* SPDX-License-Identifier: MIT */
/*
 * test_index_tree.c - the AVL tree of index_tree.c: order, balance and links after every change
 * (index_tree_check), lookups, iteration both ways, and augmentation (a subtree maximum kept by
 * the update callback, then used for an interval query) over long pseudo-random sequences of
 * inserts and removals compared against a plain array.
 */
#include <stdlib.h>

#include "index/index_tree.h"
#include "sim_test.h"

/* An interval [start, start + length) keyed by start; @max_end summarises its subtree. */
struct item {
	struct index_node node;
	uint64_t start, length;
	uint64_t max_end;
	bool linked;
};

static int item_cmp(const struct index_node *a, const struct index_node *b)
{
	uint64_t x = index_entry(a, struct item, node)->start;
	uint64_t y = index_entry(b, struct item, node)->start;

	return (x > y) - (x < y);
}

static int key_cmp(const void *key, const struct index_node *n)
{
	uint64_t x = *(const uint64_t *)key, y = index_entry(n, struct item, node)->start;

	return (x > y) - (x < y);
}

static uint64_t max_end_of(const struct index_node *n)
{
	return n ? index_entry(n, struct item, node)->max_end : 0;
}

static void item_update(struct index_node *n)
{
	struct item *it = index_entry(n, struct item, node);
	uint64_t m = it->start + it->length;

	if (max_end_of(n->left) > m)
		m = max_end_of(n->left);
	if (max_end_of(n->right) > m)
		m = max_end_of(n->right);
	it->max_end = m;
}

/* Whether every node's max_end is its subtree's maximum end. */
static bool check_max(const struct index_node *n, uint64_t *max_out)
{
	const struct item *it;
	uint64_t l = 0, r = 0, m;

	*max_out = 0;
	if (!n)
		return true;
	it = index_entry(n, struct item, node);
	if (!check_max(n->left, &l) || !check_max(n->right, &r))
		return false;
	m = it->start + it->length;
	m = l > m ? l : m;
	m = r > m ? r : m;
	*max_out = m;
	return it->max_end == m;
}

/* Counts the items overlapping [lo, hi) the augmented way: only subtrees that can hold one. */
static size_t count_overlaps(const struct index_node *n, uint64_t lo, uint64_t hi, size_t *visits)
{
	const struct item *it;
	size_t c = 0;

	if (!n || max_end_of(n) <= lo)
		return 0;
	(*visits)++;
	it = index_entry(n, struct item, node);
	c += count_overlaps(n->left, lo, hi, visits);
	if (it->start < hi) {
		if (it->start + it->length > lo)
			c++;
		c += count_overlaps(n->right, lo, hi, visits);
	}
	return c;
}

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

#define N 2000

static void test_empty(void)
{
	struct index_tree t;
	uint64_t key = 5;

	index_tree_init(&t, item_cmp, NULL);
	CHECK(index_tree_check(&t));
	CHECK(index_tree_first(&t) == NULL);
	CHECK(index_tree_last(&t) == NULL);
	CHECK(index_tree_find(&t, key_cmp, &key) == NULL);
	CHECK(index_tree_lower_bound(&t, key_cmp, &key) == NULL);
	CHECK_EQ(t.count, 0);
}

/* Ascending, descending and zig-zag inserts all stay balanced; duplicates are refused. */
static void test_insert_orders(void)
{
	static struct item items[N], dup;
	struct index_tree t;

	for (int order = 0; order < 3; order++) {
		index_tree_init(&t, item_cmp, NULL);
		for (int i = 0; i < N; i++) {
			int k = order == 0   ? i
				: order == 1 ? N - 1 - i
					     : (i % 2 ? i / 2 : N - 1 - i / 2);

			items[k].start = (uint64_t)k * 10;
			REQUIRE(index_tree_insert(&t, &items[k].node) == NULL);
		}
		REQUIRE(index_tree_check(&t));
		CHECK_EQ(t.count, N);
		/* An AVL tree of 2000 nodes is at most 1.44 log2(2002) ~ 15.8 high. */
		CHECK(index_tree_height(t.root) <= 15);
		dup.start = 30;
		CHECK(index_tree_insert(&t, &dup.node) == &items[3].node);
		CHECK_EQ(t.count, N);
		for (int i = 0; i < N; i++)
			index_tree_remove(&t, &items[i].node);
		CHECK(index_tree_check(&t));
		CHECK(t.root == NULL);
	}
}

static void test_find_and_iterate(void)
{
	static struct item items[N];
	struct index_tree t;
	struct index_node *n;
	uint64_t key;
	int i = 0;

	index_tree_init(&t, item_cmp, NULL);
	for (int k = 0; k < N; k++) {
		items[k].start = (uint64_t)(k * 7919 % N) * 4 + 4; /* a permutation of 4, 8, ... */
		REQUIRE(index_tree_insert(&t, &items[k].node) == NULL);
	}
	for (n = index_tree_first(&t); n; n = index_tree_next(n), i++)
		CHECK_EQ(index_entry(n, struct item, node)->start, (uint64_t)(i + 1) * 4);
	CHECK_EQ(i, N);
	for (n = index_tree_last(&t); n; n = index_tree_prev(n), i--)
		CHECK_EQ(index_entry(n, struct item, node)->start, (uint64_t)i * 4);
	CHECK_EQ(i, 0);
	key = 8;
	n = index_tree_find(&t, key_cmp, &key);
	REQUIRE(n != NULL);
	CHECK_EQ(index_entry(n, struct item, node)->start, 8);
	key = 9;
	CHECK(index_tree_find(&t, key_cmp, &key) == NULL);
	n = index_tree_lower_bound(&t, key_cmp, &key);
	REQUIRE(n != NULL);
	CHECK_EQ(index_entry(n, struct item, node)->start, 12);
	key = 0;
	CHECK(index_tree_lower_bound(&t, key_cmp, &key) == index_tree_first(&t));
	key = (uint64_t)N * 4 + 1;
	CHECK(index_tree_lower_bound(&t, key_cmp, &key) == NULL);
}

/*
 * Random inserts and removals against a reference: after each step the tree is valid and its
 * summaries right; now and then every lookup and an interval query are compared.
 */
static void test_random_against_reference(void)
{
	static struct item items[N];
	struct index_tree t;
	uint32_t seed = 2024;
	size_t live = 0;

	index_tree_init(&t, item_cmp, item_update);
	for (int i = 0; i < N; i++) {
		items[i].start = (uint64_t)i * 16;
		items[i].length = 1 + rnd(&seed) % 200;
	}
	for (int step = 0; step < 20000; step++) {
		struct item *it = &items[rnd(&seed) % N];
		uint64_t max;

		if (it->linked) {
			index_tree_remove(&t, &it->node);
			live--;
		} else {
			REQUIRE(index_tree_insert(&t, &it->node) == NULL);
			live++;
		}
		it->linked = !it->linked;
		if (step % 97)
			continue;
		REQUIRE(index_tree_check(&t));
		REQUIRE_EQ(t.count, live);
		REQUIRE(check_max(t.root, &max));
		for (int i = 0; i < N; i++) {
			uint64_t key = items[i].start, between = key + 1;
			struct index_node *n = index_tree_find(&t, key_cmp, &key);
			struct index_node *lb = index_tree_lower_bound(&t, key_cmp, &between);
			const struct item *want = NULL;

			CHECK(n == (items[i].linked ? &items[i].node : NULL));
			for (int j = i + 1; j < N && !want; j++)
				want = items[j].linked ? &items[j] : NULL;
			CHECK(lb == (want ? &want->node : NULL));
		}
		for (int q = 0; q < 8; q++) {
			uint64_t lo = rnd(&seed) % (N * 16), hi = lo + 1 + rnd(&seed) % 300;
			size_t want = 0, visits = 0;

			for (int i = 0; i < N; i++)
				want += items[i].linked && items[i].start < hi &&
					items[i].start + items[i].length > lo;
			CHECK_EQ(count_overlaps(t.root, lo, hi, &visits), want);
			/* The summaries prune: far fewer visits than nodes. */
			CHECK(visits <= 4 * (want + 2 * (size_t)index_tree_height(t.root)));
		}
	}
}

/* clang-format off */
static const struct sim_test tests[] = {
	SIM_TEST(test_empty),
	SIM_TEST(test_insert_orders),
	SIM_TEST(test_find_and_iterate),
	SIM_TEST(test_random_against_reference),
};
/* clang-format on */
SIM_TEST_SUITE(tests);
