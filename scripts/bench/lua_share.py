# scripts/bench/lua_share.py: from `perf report --no-children --sort dso,sym --stdio` output, the share
# of self samples in the Lua layer: the Lua VM and its GC (liblua5.4, or lua* symbols when linked in) and the
# Swift bridge module LLMLua ($s6LLMLua...), i.e. what a Swift-driven loop would not execute.
import re, sys

total = lua = 0.0
for line in open(sys.argv[1], errors="replace"):
    m = re.match(r"\s+([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(\S+)", line)
    if not m:
        continue
    pct, dso, sym = float(m.group(1)), m.group(2), m.group(3)
    total += pct
    if "liblua" in dso or re.match(r"(lua[A-Z_]|luaL_|lua_|\$s6LLMLua|llms_)", sym):
        lua += pct
print(f"{lua:.2f}% (of {total:.0f}% attributed)")
