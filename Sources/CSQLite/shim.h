/* SQLite 3 (Debian libsqlite3-dev): the study storage of the `tune` namespace (LLMLua/Bindings/tune). */
#include <sqlite3.h>
