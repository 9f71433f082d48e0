/* libedit (BSD) readline-compatible line editing for the REPL. stdio first: readline.h needs FILE. */
#include <stdio.h>
#include <stdlib.h>
#include <editline/readline.h>
