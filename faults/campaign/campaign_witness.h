/* SPDX-License-Identifier: MIT */
/*
 * campaign_witness.h - what magma-witness printed (faults/campaign/magma_witness.c), read
 * back: its rounds, their digests, and how they compare with the baseline's digest.
 *
 * Pure; any thread.
 */
#ifndef CAMPAIGN_WITNESS_H
#define CAMPAIGN_WITNESS_H

#include <stdbool.h>
#include <stdint.h>

#define CAMPAIGN_DIGEST_LEN 16

struct campaign_witness_log {
	uint32_t rounds;   /* "round K ..." lines */
	uint32_t ok;	   /* rounds with a digest */
	uint32_t lost;	   /* rounds whose connection died */
	uint32_t mismatch; /* rounds the witness itself found wrong */
	uint32_t foreign;  /* ok rounds whose digest differs from the expected one */
	char digest[CAMPAIGN_DIGEST_LEN + 1]; /* the first ok round's digest ("" if none) */
	char lost_status[32];		      /* the status of the first lost round */
	bool last_ok; /* the last round has a digest, equal to the expected one */
	bool summary; /* the final "rounds N ok M ..." line was read */
};

/*
 * campaign_witness_parse - read magma-witness's stdout @text into @out; ok digests are compared
 * with @expected (NULL or "": with the first ok round's, as in a baseline run).
 */
void campaign_witness_parse(const char *text, const char *expected,
			    struct campaign_witness_log *out);

/* campaign_witness_has_round - whether @text holds at least one complete round line. */
bool campaign_witness_has_round(const char *text);

#endif /* CAMPAIGN_WITNESS_H */
