/* SPDX-License-Identifier: MIT */
/*
 * viewer_query.h - questions the views ask of a viewer_model: which mappings a connection had
 * at an event, which one covered an address, and the cause -> effect chain of a fault. Pure
 * functions of the model (no SDL), so the model test checks them without drawing anything.
 */
#ifndef VIEWER_QUERY_H
#define VIEWER_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "viewer_model.h"

/*
 * viewer_query_mappings - indices of the mappings of connection @conn live after event @seq,
 * sorted by VA, into @out (at most @max). Returns how many there are (may exceed @max).
 */
size_t viewer_query_mappings(const struct viewer_model *m, int conn, uint64_t seq, int *out,
			     size_t max);

/* viewer_query_mapping_at - the mapping of @conn covering @va after event @seq, or -1. */
int viewer_query_mapping_at(const struct viewer_model *m, int conn, uint64_t va, uint64_t seq);

/* viewer_query_unmapped_at - the last mapping of @conn that covered @va and was gone by @seq, -1.
 */
int viewer_query_unmapped_at(const struct viewer_model *m, int conn, uint64_t va, uint64_t seq);

/* viewer_flags_text - "R W X" style text of MAGMA_MAP_FLAG_* @flags into @out ("---" if none). */
void viewer_flags_text(uint64_t flags, char out[8]);

/* viewer_buffer_label - "'name' (id N)" or "buffer id N" or "unknown buffer" into @out. */
void viewer_buffer_label(const struct viewer_model *m, int buffer, char *out, size_t size);

enum viewer_link_kind {
	VIEWER_LINK_SUBMIT,   /* the execute_command that carried the job */
	VIEWER_LINK_JOB,      /* the job on its queue: command VA, AS slot */
	VIEWER_LINK_FAULT,    /* the fault: code and address (or the hang) */
	VIEWER_LINK_MAPPING,  /* the mapping that was, or was not, at that address */
	VIEWER_LINK_KILLED,   /* the first call that reported CONTEXT_KILLED */
	VIEWER_LINK_NOTIFY,   /* the notification the client read, or the hang-up it saw */
	VIEWER_LINK_RESET,    /* the GPU reset that followed, if any */
	VIEWER_LINK_INNOCENT, /* other connections' work: resubmitted or run after the fault */
	VIEWER_LINK_KIND_COUNT
};

struct viewer_link {
	enum viewer_link_kind kind;
	uint64_t seq; /* the event to jump to, VIEWER_NONE when the trace holds none */
	char title[32];
	char text[224];
};

#define VIEWER_CHAIN_MAX 12

/*
 * viewer_chain_build - the cause -> effect chain of fault @fault (an index into m->faults): one
 * link per kind in enum order, the innocent-work kind possibly several times. Links whose event
 * the trace lacks say so in their text and have seq VIEWER_NONE. Returns the number of links
 * written to @links (at most VIEWER_CHAIN_MAX), 0 for a bad index.
 */
size_t viewer_chain_build(const struct viewer_model *m, int fault,
			  struct viewer_link links[VIEWER_CHAIN_MAX]);

#endif /* VIEWER_QUERY_H */
