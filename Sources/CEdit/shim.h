/* libedit (BSD) readline-compatible line editing for the REPL. stdio first: readline.h needs FILE.
 * llms_edit_configure sets libedit's completion globals from C, because Swift 6 refuses to touch
 * imported mutable C globals (they are not concurrency-safe). */
#include <stdio.h>
#include <stdlib.h>
#include <editline/readline.h>

/* Installs `generator` as the Tab completion function (no fallback to file names), `breaks` as the
 * word-break characters and `name` as the application name for ~/.editrc; no character is appended
 * after a completed word. The strings must stay alive. */
static inline void llms_edit_configure(rl_compentry_func_t *generator, const char *breaks, const char *name) {
    rl_readline_name = name;
    rl_basic_word_break_characters = breaks;
    rl_completer_word_break_characters = (char *)breaks;
    rl_completion_append_character = 0;
    rl_completion_entry_function = generator;
}
