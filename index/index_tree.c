/* SPDX-License-Identifier: MIT */
/*
 * index_tree.c - see index_tree.h. An AVL tree with parent links.
 *
 * Insertion descends by @cmp and links a leaf; removal splices the node out, replacing a node
 * with two children by its in-order successor. Either way the tree is then repaired walking up
 * from the lowest node whose subtree changed to the root: each node's height is recomputed, a
 * node whose subtrees' heights differ by two is rotated (single or double), and the augmentation
 * callback runs on every node on the way (and on both nodes of each rotation, lower one first),
 * so summaries are right all the way up. Walking to the root every time, rather than stopping
 * once the height stops changing, is what keeps augmentation simple; it is O(log n) anyway.
 */
#include "index/index_tree.h"

/* index_tree_init - see index_tree.h. */
void index_tree_init(struct index_tree *t,
		     int (*cmp)(const struct index_node *a, const struct index_node *b),
		     void (*update)(struct index_node *n))
{
	t->root = NULL;
	t->count = 0;
	t->cmp = cmp;
	t->update = update;
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* Recomputes @n's height and summary from its children. */
static void fix(const struct index_tree *t, struct index_node *n)
{
	n->height = 1 + max_int(index_tree_height(n->left), index_tree_height(n->right));
	if (t->update)
		t->update(n);
}

/* Makes @new_child take @old_child's place under @parent (or at the root). */
static void replace_child(struct index_tree *t, struct index_node *parent,
			  struct index_node *old_child, struct index_node *new_child)
{
	if (!parent)
		t->root = new_child;
	else if (parent->left == old_child)
		parent->left = new_child;
	else
		parent->right = new_child;
	if (new_child)
		new_child->parent = parent;
}

/* Rotates @n's right child up into its place; returns it. */
static struct index_node *rotate_left(struct index_tree *t, struct index_node *n)
{
	struct index_node *r = n->right;

	replace_child(t, n->parent, n, r);
	n->right = r->left;
	if (r->left)
		r->left->parent = n;
	r->left = n;
	n->parent = r;
	fix(t, n);
	fix(t, r);
	return r;
}

/* Rotates @n's left child up into its place; returns it. */
static struct index_node *rotate_right(struct index_tree *t, struct index_node *n)
{
	struct index_node *l = n->left;

	replace_child(t, n->parent, n, l);
	n->left = l->right;
	if (l->right)
		l->right->parent = n;
	l->right = n;
	n->parent = l;
	fix(t, n);
	fix(t, l);
	return l;
}

/* Restores height, balance and summaries from @n up to the root. */
static void rebalance(struct index_tree *t, struct index_node *n)
{
	while (n) {
		int balance = index_tree_height(n->left) - index_tree_height(n->right);

		if (balance > 1) {
			if (index_tree_height(n->left->left) < index_tree_height(n->left->right))
				rotate_left(t, n->left);
			n = rotate_right(t, n);
		} else if (balance < -1) {
			if (index_tree_height(n->right->right) < index_tree_height(n->right->left))
				rotate_right(t, n->right);
			n = rotate_left(t, n);
		} else {
			fix(t, n);
		}
		n = n->parent;
	}
}

/* index_tree_insert - see index_tree.h. */
struct index_node *index_tree_insert(struct index_tree *t, struct index_node *n)
{
	struct index_node *parent = NULL, **link = &t->root;

	while (*link) {
		int c = t->cmp(n, *link);

		if (!c)
			return *link;
		parent = *link;
		link = c < 0 ? &parent->left : &parent->right;
	}
	n->parent = parent;
	n->left = n->right = NULL;
	n->height = 1;
	*link = n;
	t->count++;
	rebalance(t, n);
	return NULL;
}

static struct index_node *leftmost(struct index_node *n)
{
	while (n && n->left)
		n = n->left;
	return n;
}

static struct index_node *rightmost(struct index_node *n)
{
	while (n && n->right)
		n = n->right;
	return n;
}

/* index_tree_remove - see index_tree.h. */
void index_tree_remove(struct index_tree *t, struct index_node *n)
{
	struct index_node *from; /* the lowest node whose subtree changed */

	if (!n->left || !n->right) {
		struct index_node *child = n->left ? n->left : n->right;

		from = n->parent;
		replace_child(t, n->parent, n, child);
	} else {
		struct index_node *succ = leftmost(n->right);

		if (succ->parent == n) {
			from = succ;
		} else {
			/* Detach the successor (it has no left child), then put it in n's place. */
			from = succ->parent;
			replace_child(t, succ->parent, succ, succ->right);
			succ->right = n->right;
			n->right->parent = succ;
		}
		succ->left = n->left;
		n->left->parent = succ;
		replace_child(t, n->parent, n, succ);
	}
	n->parent = n->left = n->right = NULL;
	n->height = 0;
	t->count--;
	rebalance(t, from);
}

/* index_tree_first - see index_tree.h. */
struct index_node *index_tree_first(const struct index_tree *t)
{
	return leftmost(t->root);
}

/* index_tree_last - see index_tree.h. */
struct index_node *index_tree_last(const struct index_tree *t)
{
	return rightmost(t->root);
}

/* index_tree_next - see index_tree.h. */
struct index_node *index_tree_next(const struct index_node *n)
{
	if (n->right)
		return leftmost(n->right);
	while (n->parent && n->parent->right == n)
		n = n->parent;
	return n->parent;
}

/* index_tree_prev - see index_tree.h. */
struct index_node *index_tree_prev(const struct index_node *n)
{
	if (n->left)
		return rightmost(n->left);
	while (n->parent && n->parent->left == n)
		n = n->parent;
	return n->parent;
}

/* index_tree_find - see index_tree.h. */
struct index_node *index_tree_find(const struct index_tree *t, index_key_cmp cmp, const void *key)
{
	struct index_node *n = t->root;

	while (n) {
		int c = cmp(key, n);

		if (!c)
			return n;
		n = c < 0 ? n->left : n->right;
	}
	return NULL;
}

/* index_tree_lower_bound - see index_tree.h. */
struct index_node *index_tree_lower_bound(const struct index_tree *t, index_key_cmp cmp,
					  const void *key)
{
	struct index_node *n = t->root, *best = NULL;

	while (n) {
		if (cmp(key, n) <= 0) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

/* Checks @n's subtree; its node count goes to *@count_out. */
static bool check_subtree(const struct index_tree *t, const struct index_node *n, size_t *count_out)
{
	size_t left = 0, right = 0;
	int hl, hr;

	*count_out = 0;
	if (!n)
		return true;
	if ((n->left && n->left->parent != n) || (n->right && n->right->parent != n))
		return false;
	if ((n->left && t->cmp(n->left, n) >= 0) || (n->right && t->cmp(n->right, n) <= 0))
		return false;
	if (!check_subtree(t, n->left, &left) || !check_subtree(t, n->right, &right))
		return false;
	hl = index_tree_height(n->left);
	hr = index_tree_height(n->right);
	if (n->height != 1 + max_int(hl, hr) || hl - hr > 1 || hr - hl > 1)
		return false;
	*count_out = left + right + 1;
	return true;
}

/* index_tree_check - see index_tree.h. Ordering is checked between neighbours in order. */
bool index_tree_check(const struct index_tree *t)
{
	const struct index_node *prev = NULL;
	size_t count;

	if (t->root && t->root->parent)
		return false;
	if (!check_subtree(t, t->root, &count) || count != t->count)
		return false;
	for (const struct index_node *n = index_tree_first(t); n; n = index_tree_next(n)) {
		if (prev && t->cmp(prev, n) >= 0)
			return false;
		prev = n;
	}
	return true;
}
