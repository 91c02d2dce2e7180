/* cmd_journal.c: `salvage journal` and the journal replay hook used when opening a source. */
#include "cli.h"

int cli_replay(struct cli_src *s, const struct cli_src_opts *o)
{
	(void)s; (void)o;
	return EXIT_DONE;
}

int cmd_journal(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "salvage journal: not implemented yet\n");
	return EXIT_USAGE;
}
