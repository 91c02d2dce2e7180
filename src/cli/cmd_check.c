/* cmd_check.c: `salvage check`. */
#include "cli.h"

int cmd_check(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "salvage check: not implemented yet\n");
	return EXIT_USAGE;
}
