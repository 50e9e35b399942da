/* SPDX-License-Identifier: MIT */
/*
 * fuzz_main.c - a plain main() for the harnesses, so any compiler's build can replay inputs.
 *
 * fuzz_<target>_replay PATH... feeds each file, and each regular file of each directory (sorted
 * by name, dot files skipped), to the harness's LLVMFuzzerTestOneInput, one at a time, and prints
 * how many it ran. An input that breaks a guarantee aborts the process (FUZZ_CHECK, or a
 * sanitizer in a sanitizer build), which is how ctest sees a regression. A missing path is an
 * error (exit 2); an empty directory is not. Single-threaded (the harness may start threads).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Runs the harness on file @path; 0, or -errno when it cannot be read. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t size = 0, cap = 0, n;
	int ret = 0;

	if (!f)
		return -errno;
	do {
		if (size == cap) {
			uint8_t *more = realloc(data, cap ? cap * 2 : 4096);

			if (!more) {
				ret = -ENOMEM;
				goto out_close;
			}
			data = more;
			cap = cap ? cap * 2 : 4096;
		}
		n = fread(data + size, 1, cap - size, f);
		size += n;
	} while (n);
	if (ferror(f)) {
		ret = -EIO;
		goto out_close;
	}
	LLVMFuzzerTestOneInput(data, size);
out_close:
	fclose(f);
	free(data);
	return ret;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Runs every regular file of directory @dir; the count, or -errno. */
static long run_dir(const char *dir)
{
	struct dirent **names;
	long count = 0;
	int n = scandir(dir, &names, NULL, by_name);

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode)) {
			int ret = run_file(path);

			if (ret) {
				fprintf(stderr, "%s: %s\n", path, strerror(-ret));
				count = ret;
			} else if (count >= 0) {
				count++;
			}
		}
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : (run_file(argv[i]) ? -EIO : 1);
		if (n < 0) {
			fprintf(stderr, "%s: cannot read every input\n", argv[i]);
			return 2;
		}
		total += n;
	}
	printf("%s: %ld inputs replayed, no failure\n", argv[0], total);
	return 0;
}
