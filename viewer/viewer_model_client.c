/* SPDX-License-Identifier: MIT */
/*
 * viewer_model_client.c - the client's side of a trace in magma-view's model: connections,
 * contexts, buffers and their names, mappings over time, submissions, calls with their status,
 * and the notifications the client read (their payloads come from blob events).
 * Single-threaded.
 */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "sim/sim_regs.h"
#include "traces/trace.h"
#include "viewer_model_internal.h"

void vm_on_blob(struct model_reader *rd, const cJSON *ev)
{
	struct model_blob *b;
	uint8_t *data = NULL;
	size_t where;
	uint64_t digest;

	if (vm_u64(ev, "size") != sizeof(b->bytes) || rd->blob_count >= MODEL_BLOBS_MAX ||
	    trace_digest_parse(vm_str(ev, "digest"), &digest))
		return;
	if (trace_blob_decode(vm_str(ev, "data"), sizeof(b->bytes), &data, &where))
		return;
	b = vm_grow(rd, (void **)&rd->blobs, &rd->blob_count, CAP_BLOB, sizeof(*b));
	if (b) {
		b->digest = digest;
		memcpy(b->bytes, data, sizeof(b->bytes));
	}
	free(data);
}

static void on_execute(struct model_reader *rd, const cJSON *args, int conn, bool is_inline)
{
	struct viewer_model *m = rd->m;
	struct viewer_submission *s =
		GROW(rd, rd->m->submissions, rd->m->submission_count, CAP_SUB);
	const cJSON *cmd = cJSON_GetArrayItem(vm_member(args, "command_buffers"), 0);
	int *p;

	if (!s)
		return;
	s->seq = rd->seq;
	s->connection = conn;
	s->context = (uint32_t)vm_u64(args, "context");
	s->is_inline = is_inline;
	s->job = -1;
	if (cmd) {
		const cJSON *res = cJSON_GetArrayItem(vm_member(args, "resources"),
						      (int)vm_u64(cmd, "resource_index"));
		int buf = res ? vm_buffer_by_id(m, conn, vm_u64(res, "buffer_id")) : -1;

		s->start_offset = vm_u64(cmd, "start_offset");
		s->cmd_buffer_id = res ? vm_u64(res, "buffer_id") : 0;
		for (size_t i = m->mapping_count; buf >= 0 && i-- > 0;) {
			const struct viewer_mapping *mp = &m->mappings[i];

			if (mp->buffer == buf && mp->unmap_seq == VIEWER_NONE &&
			    s->start_offset >= mp->offset &&
			    s->start_offset - mp->offset < mp->length) {
				s->cmd_va = mp->va + (s->start_offset - mp->offset);
				break;
			}
		}
	}
	p = vm_grow(rd, (void **)&rd->pending, &rd->pending_count, CAP_PENDING, sizeof(*p));
	if (p)
		*p = (int)(m->submission_count - 1);
}

/* Ends every live mapping of @conn (or, with @buf >= 0, of that buffer only). */
static void unmap_all(struct model_reader *rd, int conn, int buf)
{
	for (size_t i = 0; i < rd->m->mapping_count; i++) {
		struct viewer_mapping *mp = &rd->m->mappings[i];

		if (mp->unmap_seq == VIEWER_NONE && mp->connection == conn &&
		    (buf < 0 || mp->buffer == buf))
			mp->unmap_seq = rd->seq;
	}
}

static void on_notification(struct model_reader *rd, const cJSON *out, int conn)
{
	struct viewer_notification *n;
	uint64_t digest;

	if (!vm_u64(out, "size") || trace_digest_parse(vm_str(out, "data"), &digest))
		return;
	n = GROW(rd, rd->m->notifications, rd->m->notification_count, CAP_NOTE);
	if (!n)
		return;
	n->seq = rd->seq;
	n->connection = conn;
	for (size_t i = 0; i < rd->blob_count; i++) {
		struct magma_sim_notification note;

		if (rd->blobs[i].digest != digest)
			continue;
		memcpy(&note, rd->blobs[i].bytes, sizeof(note));
		n->decoded = true;
		n->type = note.type;
		n->context_id = note.context_id;
		n->sequence = note.sequence;
		n->fault_code = note.fault_code;
		n->fault_address = note.fault_address;
		break;
	}
}

void vm_on_call(struct model_reader *rd, const cJSON *ev)
{
	struct viewer_model *m = rd->m;
	const char *name = vm_str(ev, "call");
	const cJSON *args = vm_member(ev, "args"), *out = vm_member(ev, "out");
	int32_t status = vm_status_of(ev);
	int conn = vm_conn_arg(m, args);
	bool ok = status == 0;

	if (vm_has(ev, "result")) {
		struct viewer_call *c = GROW(rd, rd->m->calls, rd->m->call_count, CAP_CALL);

		if (c) {
			c->seq = rd->seq;
			c->connection = conn;
			c->status = status;
			snprintf(c->name, sizeof(c->name), "%s", name);
		}
	}
	if (!strcmp(name, "create_connection") && ok) {
		struct viewer_connection *c =
			GROW(rd, rd->m->connections, rd->m->connection_count, CAP_CONN);

		if (c) {
			c->handle = vm_u64(out, "connection");
			c->create_seq = rd->seq;
			c->release_seq = VIEWER_NONE;
			c->number = (uint32_t)m->connection_count;
		}
	} else if (!strcmp(name, "connection_release") && conn >= 0) {
		m->connections[conn].release_seq = rd->seq;
		unmap_all(rd, conn, -1);
		for (size_t i = 0; i < m->buffer_count; i++)
			if (m->buffers[i].connection == conn &&
			    m->buffers[i].release_seq == VIEWER_NONE)
				m->buffers[i].release_seq = rd->seq;
		for (size_t i = 0; i < m->context_count; i++)
			if (m->contexts[i].connection == conn &&
			    m->contexts[i].release_seq == VIEWER_NONE)
				m->contexts[i].release_seq = rd->seq;
	} else if (!strcmp(name, "create_context") && ok && conn >= 0) {
		struct viewer_context *c = GROW(rd, rd->m->contexts, rd->m->context_count, CAP_CTX);

		if (c) {
			c->connection = conn;
			c->id = (uint32_t)vm_u64(out, "context");
			c->create_seq = rd->seq;
			c->release_seq = VIEWER_NONE;
		}
	} else if (!strcmp(name, "release_context") && conn >= 0) {
		for (size_t i = m->context_count; i-- > 0;)
			if (m->contexts[i].connection == conn &&
			    m->contexts[i].id == vm_u64(args, "context") &&
			    m->contexts[i].release_seq == VIEWER_NONE) {
				m->contexts[i].release_seq = rd->seq;
				break;
			}
	} else if ((!strcmp(name, "create_buffer") || !strcmp(name, "import_buffer")) && ok &&
		   conn >= 0) {
		struct viewer_buffer *b = GROW(rd, rd->m->buffers, rd->m->buffer_count, CAP_BUF);

		if (b) {
			b->connection = conn;
			b->handle = vm_u64(out, "buffer");
			b->id = vm_u64(out, "id");
			b->size = vm_u64(out, "size");
			b->create_seq = rd->seq;
			b->release_seq = VIEWER_NONE;
		}
	} else if (!strcmp(name, "release_buffer") && conn >= 0) {
		int b = vm_buffer_by_handle(m, conn, vm_u64(args, "buffer"));

		if (b >= 0) {
			m->buffers[b].release_seq = rd->seq;
			unmap_all(rd, conn, b);
		}
	} else if (!strcmp(name, "buffer_set_name")) {
		int b = vm_buffer_by_handle(m, -1, vm_u64(args, "buffer"));

		if (b >= 0)
			snprintf(m->buffers[b].name, sizeof(m->buffers[b].name), "%s",
				 vm_str(args, "name"));
	} else if (!strcmp(name, "map_buffer") && ok && conn >= 0) {
		struct viewer_mapping *mp =
			GROW(rd, rd->m->mappings, rd->m->mapping_count, CAP_MAP);

		if (mp) {
			mp->connection = conn;
			mp->buffer = vm_buffer_by_handle(m, conn, vm_u64(args, "buffer"));
			mp->va = vm_u64(args, "hw_va");
			mp->offset = vm_u64(args, "offset");
			mp->length = vm_u64(args, "length");
			mp->flags = vm_u64(args, "flags");
			mp->map_seq = rd->seq;
			mp->unmap_seq = VIEWER_NONE;
		}
	} else if (!strcmp(name, "unmap_buffer") && conn >= 0) {
		uint64_t va = vm_u64(args, "hw_va");

		for (size_t i = m->mapping_count; i-- > 0;) {
			struct viewer_mapping *mp = &m->mappings[i];

			if (mp->connection == conn && mp->va == va &&
			    mp->unmap_seq == VIEWER_NONE) {
				mp->unmap_seq = rd->seq;
				break;
			}
		}
	} else if (!strcmp(name, "execute_command") && ok && !vm_has(args, "invalid")) {
		on_execute(rd, args, conn, false);
	} else if (!strcmp(name, "execute_inline") && ok && !vm_has(args, "invalid")) {
		on_execute(rd, args, conn, true);
	} else if (!strcmp(name, "read_notification") && ok) {
		on_notification(rd, out, conn);
	}
}
