/* SPDX-License-Identifier: MIT */
/*
 * campaign_witness.c - reading magma-witness's stdout: one "round K DIGEST", "round K lost
 * STATUS" or "round K mismatch" line per round, then "rounds N ok M lost L mismatch X".
 *
 * Lines it does not know are ignored (a witness may say more in a later version); a round line
 * cut short by a witness that died is not counted. Pure; any thread.
 */
#include <stdio.h>
#include <string.h>

#include "campaign_witness.h"

static bool is_digest(const char *s, size_t len)
{
	if (len != CAMPAIGN_DIGEST_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!strchr("0123456789abcdefABCDEF", s[i]))
			return false;
	}
	return true;
}

/* One complete line (@len bytes, no newline) into @out. */
static void parse_line(const char *line, size_t len, const char *expected,
		       struct campaign_witness_log *out)
{
	char word[3][40] = {{0}};
	char buf[160];
	unsigned round;

	if (len >= sizeof(buf))
		return;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (strncmp(buf, "rounds ", 7) == 0) {
		out->summary = true;
		return;
	}
	if (sscanf(buf, "round %u %39s %39s", &round, word[0], word[1]) < 2)
		return;
	out->rounds++;
	out->last_ok = false;
	if (strcmp(word[0], "lost") == 0) {
		if (!out->lost++)
			snprintf(out->lost_status, sizeof(out->lost_status), "%.31s",
				 word[1][0] ? word[1] : "?");
	} else if (strcmp(word[0], "mismatch") == 0) {
		out->mismatch++;
	} else if (is_digest(word[0], strlen(word[0]))) {
		out->ok++;
		if (!out->digest[0])
			snprintf(out->digest, sizeof(out->digest), "%.16s", word[0]);
		if (strcmp(word[0], expected && expected[0] ? expected : out->digest) == 0)
			out->last_ok = true;
		else
			out->foreign++;
	} else {
		out->mismatch++; /* a round line it cannot read is not a good round */
	}
}

void campaign_witness_parse(const char *text, const char *expected,
			    struct campaign_witness_log *out)
{
	memset(out, 0, sizeof(*out));
	while (text && *text) {
		const char *nl = strchr(text, '\n');

		if (!nl)
			break; /* cut short */
		parse_line(text, (size_t)(nl - text), expected, out);
		text = nl + 1;
	}
}

bool campaign_witness_has_round(const char *text)
{
	struct campaign_witness_log log;

	campaign_witness_parse(text, NULL, &log);
	return log.rounds > 0;
}
