/* SPDX-License-Identifier: MIT */
/*
 * index_tree.h - an intrusive balanced (AVL) search tree, optionally augmented.
 *
 * The lookup structure the service and the driver keep their GPU mappings in: by address, to
 * find a mapping and check a new one for overlap in O(log n), and by buffer, to find a buffer's
 * mappings among many without walking the others. A node is embedded in the caller's object
 * (struct index_node, container_of to get back), so the tree never allocates and cannot fail.
 * The order is the tree's @cmp, which must be a strict total order on the nodes inserted (equal
 * nodes are refused). Lookups take a key and a function comparing it with a node, so a search
 * needs no node of its own.
 *
 * Augmentation (Linux's augmented rbtree, CLRS's interval tree): when @update is set, the tree
 * calls it on every node whose subtree changed (after an insert, a removal or a rotation), bottom
 * up, so a node can keep a summary of its subtree (the largest end address of the mappings below
 * it, for an interval query) computed from itself and its children's summaries. @update must not
 * change the order.
 *
 * Every operation is O(log n) except iteration, O(1) amortised per step; the height stays
 * within 1.44 log2(n + 2). Not thread-safe: the owner's lock guards the tree (its users say
 * which). The tree holds no memory of its own, so there is nothing to free; it only forgets.
 */
#ifndef INDEX_TREE_H
#define INDEX_TREE_H

#include <stdbool.h>
#include <stddef.h>

/* A tree node, embedded in the indexed object. Read-only for the tree's users. */
struct index_node {
	struct index_node *parent, *left, *right;
	int height; /* of the subtree rooted here: 1 for a leaf */
};

struct index_tree {
	struct index_node *root;
	size_t count;
	/* <0, 0, >0 as @a sorts before, equal to or after @b. */
	int (*cmp)(const struct index_node *a, const struct index_node *b);
	/* Recomputes @n's summary from @n and its children (which are up to date), or NULL. */
	void (*update)(struct index_node *n);
};

/* The object of type @type holding node @ptr (a struct index_node *) as member @member. */
#define index_entry(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* index_tree_init - an empty tree ordered by @cmp, augmented by @update (NULL: not). */
void index_tree_init(struct index_tree *t,
		     int (*cmp)(const struct index_node *a, const struct index_node *b),
		     void (*update)(struct index_node *n));

/*
 * index_tree_insert - links @n into @t. Returns NULL, or the node already in @t that compares
 * equal to @n, in which case @n is not linked and @t is unchanged.
 */
struct index_node *index_tree_insert(struct index_tree *t, struct index_node *n);

/* index_tree_remove - unlinks @n, which must be in @t. */
void index_tree_remove(struct index_tree *t, struct index_node *n);

/* index_tree_first / index_tree_last - the smallest / largest node, or NULL when empty. */
struct index_node *index_tree_first(const struct index_tree *t);
struct index_node *index_tree_last(const struct index_tree *t);

/* index_tree_next / index_tree_prev - the node after / before @n in order, or NULL. */
struct index_node *index_tree_next(const struct index_node *n);
struct index_node *index_tree_prev(const struct index_node *n);

/*
 * A key comparison: <0, 0, >0 as @key sorts before, equal to or after node @n. It must agree
 * with the tree's order: the nodes it places before @key come first in the tree.
 */
typedef int (*index_key_cmp)(const void *key, const struct index_node *n);

/* index_tree_find - the node equal to @key, or NULL. */
struct index_node *index_tree_find(const struct index_tree *t, index_key_cmp cmp, const void *key);

/* index_tree_lower_bound - the first node not before @key (equal or after), or NULL. */
struct index_node *index_tree_lower_bound(const struct index_tree *t, index_key_cmp cmp,
					  const void *key);

/* index_tree_height - the height of @n's subtree; 0 for NULL. */
static inline int index_tree_height(const struct index_node *n)
{
	return n ? n->height : 0;
}

/*
 * index_tree_check - whether @t is a valid tree: links consistent, heights exact, every node
 * balanced (heights of its subtrees differ by at most one), strictly ordered, @count right.
 * O(n); for tests.
 */
bool index_tree_check(const struct index_tree *t);

#endif /* INDEX_TREE_H */
