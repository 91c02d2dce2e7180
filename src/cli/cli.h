/* cli.h: shared pieces of the command-line front end (the only layer that prints or exits). */
#ifndef SV_CLI_H
#define SV_CLI_H

#include "../base/base.h"
#include "../io/io.h"
#include "../part/part.h"
#include "../ext/ext.h"
#include <stdio.h>

/* Exit statuses (README): 0 done, 1 done but something damaged or skipped, 2 usage, 3 unreadable. */
enum { EXIT_DONE = 0, EXIT_DAMAGED = 1, EXIT_USAGE = 2, EXIT_UNREADABLE = 3 };

/* Options every command that opens a source understands. */
struct cli_src_opts {
	int partition;           /* -p N / --partition N; 0 = automatic */
	int64_t offset;          /* --offset BYTES; -1 = none */
	const char *journal;     /* --journal FILE (external journal); NULL = none */
	bool no_replay;          /* --no-replay */
	int64_t sb_block;        /* --superblock N (in blocks of --block-size), -1 = auto */
	uint32_t sb_bsize;
	bool json;               /* --json */
	bool quiet;              /* -q */
	size_t cache_bytes;      /* block cache size (0: the reader's default) */
	bool no_problem_print;   /* the command reports problems itself: count them only */
	const char *map;         /* --map FILE: a GNU ddrescue mapfile; areas not '+' are unreadable */
	unsigned max_retries;    /* --max-retries N: extra tries of a failing sector */
	unsigned skip_after;     /* failed reads in a row before the rest of a request is skipped (0: never) */
	const char *inject;      /* --inject-faults SPEC[/DELAY_MS] (testing: a failing drive) */
};

/* An opened source: the device stack, the filesystem, and the path inside it. */
struct cli_src {
	char *source;            /* the SOURCE part of SOURCE:PATH (owned) */
	char *path;              /* the PATH part, "/" when absent (owned) */
	struct sv_dev *base;     /* file/device, under the rescue reader (owns the whole raw stack) */
	struct sv_dev *rescue;   /* the rescue reader (== base): its areas are SOURCE byte offsets */
	uint64_t vol_off;        /* byte offset of the filesystem inside SOURCE */
	struct sv_dev *dev;      /* what the fs reads through (slice/overlay above base) */
	struct sv_fs *fs;
	struct sv_report report; /* problems go to stderr via cli_problem_print, counted here */
	int part_index;          /* partition picked (0 when whole device) */
	bool replayed;           /* journal replayed in memory */
	uint32_t replay_tx;      /* transactions replayed */
	uint64_t replay_blocks;  /* blocks replayed */
};

/* Split "SOURCE:PATH": at the first ':' followed by '/', unless the whole argument exists as a file. */
void cli_split_source(const char *arg, char **source, char **path);
/* Parse a common option at argv[*i] (advancing *i past its value). Returns 1 if consumed,
 * 0 if not a common option, -1 on a usage error (message printed). */
int cli_parse_src_opt(int argc, char **argv, int *i, struct cli_src_opts *o);
void cli_src_opts_init(struct cli_src_opts *o);
/* Command-specific flags for cli_parse_args: return 1 if argv[*i] (and any value, advancing *i)
 * was taken, 0 if not this command's, -1 on a usage error (message printed). */
typedef int (*cli_flag_fn)(void *ctx, int argc, char **argv, int *i);
/* Parse a command line of common options, the command's own flags and one SOURCE[:PATH].
 * Returns EXIT_DONE with *arg set; -1 when --help was printed (exit 0); EXIT_USAGE after
 * printing what was wrong. flag may be NULL. */
int cli_parse_args(int argc, char **argv, struct cli_src_opts *o, void (*help)(void), cli_flag_fn flag, void *ctx,
		   const char **arg);
/* Open a source file or device as salvage reads every source: file/device, the fault injector
 * (--inject-faults), the rescue reader (retries down to the sector, --max-retries), the ddrescue
 * map (--map). Prints what went wrong (after "what: " when what is not NULL, e.g. "--journal")
 * and returns an EXIT_* status. */
int cli_open_dev(const char *path, const char *what, const struct cli_src_opts *o, struct sv_dev **out);
/* After a command: one line on stderr saying how much of the source could not be read, if any. */
void cli_read_summary(const struct cli_src *s);
/* Open arg as a source with a filesystem. Prints a message and returns EXIT_UNREADABLE or
 * EXIT_USAGE on failure, EXIT_DONE on success. */
int cli_open(const char *arg, const struct cli_src_opts *o, struct cli_src *s);
void cli_close(struct cli_src *s);
/* Resolve s->path to an inode, printing an error (what, where, what next) on failure. */
int cli_resolve(struct cli_src *s, uint32_t *ino, struct sv_inode *in);
/* Default problem printer: "salvage: <path>: inode N, block B: message" on stderr. */
void cli_problem_print(void *ctx, const struct sv_problem *pb);
/* Exit status from the problems counted in s->report and an own status. */
int cli_exit_status(const struct cli_src *s, int status);

/* Parse sizes like "100M", "1.5G", "4096". Returns false on junk. */
bool cli_parse_size(const char *s, uint64_t *out);
/* JSON string output (bytes escaped; non-UTF-8 bytes as \u00XX of the byte value). */
void cli_json_str(FILE *f, const char *s, size_t len);
/* Name for a person: non-printable bytes shown as \xHH. */
void cli_print_name(FILE *f, const char *s, size_t len);
/* Format a time as "2024-01-02 03:04:05.123456789 +0000" (UTC). */
const char *cli_fmt_time(int64_t sec, uint32_t nsec, char *buf, size_t cap);
/* ls -l style mode string, e.g. "drwxr-xr-x". */
const char *cli_mode_string(uint16_t mode, char *buf);

/* Journal replay hook (cmd_journal.c): called by cli_open after the fs is open. When the journal
 * needs recovery and --no-replay is not given, replaces s->dev/s->fs with a replayed view.
 * Returns EXIT_DONE or an exit status after printing why. */
int cli_replay(struct cli_src *s, const struct cli_src_opts *o);

/* Notes from cp and tar (what was left out or not kept; not damage): printed on stderr, each
 * kind capped at 50 lines so a huge tree does not flood it, all counted. quiet drops the ones the
 * user asked for (excluded, too big, sockets, devices, ownership). Pass as the note callback with
 * a struct cli_notes as its context. */
struct cli_notes {
	bool quiet;
	bool progress_shown;     /* a progress line is on screen: clear it before printing */
	unsigned long count[16], shown[16];
};
void cli_note_print(void *ctx, int kind, const char *path, const char *msg);

/* Per-file truth for cp and tar (truth.c): --report FILE (the whole damage report, text or with
 * --json JSON), --manifest FILE (a line per regular file written), and the list of damaged files
 * on stderr at the end (the first 50 names, then how many more and where they all are). */
struct sv_damage;
struct sv_file_done;
struct cli_truth {
	const char *cmd;         /* "cp", "tar": for messages */
	const char *report;      /* --report FILE, or NULL */
	const char *manifest;    /* --manifest FILE, or NULL */
	FILE *rf, *mf;
	bool mf_failed;
	struct sv_damage *dmg;
};
/* Take --report FILE / --manifest FILE at argv[*i]: 1 taken, 0 not these, -1 usage error (printed). */
int cli_truth_flag(struct cli_truth *t, int argc, char **argv, int *i);
/* After cli_open: make the registry, open the files (never the source itself). EXIT_* (printed). */
int cli_truth_open(struct cli_truth *t, const struct cli_src *s, const char *journal);
/* The sv_file_done_fn for --manifest (ctx: the struct cli_truth). */
void cli_truth_file_done(void *ctx, const struct sv_file_done *f);
/* At the end: damaged names on stderr, the report written (JSON to stdout when json and no
 * --report and json_stdout). Returns status, or EXIT_DAMAGED when a file could not be written. */
int cli_truth_finish(struct cli_truth *t, const struct cli_src *s, bool json, bool json_stdout, int status);
void cli_truth_free(struct cli_truth *t);

/* Commands: each takes argc/argv after the command name (argv[0] is the command). */
int cmd_probe(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_du(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_tar(int argc, char **argv);
int cmd_journal(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_blame(int argc, char **argv);
int cmd_image(int argc, char **argv);

#endif
