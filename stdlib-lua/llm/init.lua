-- llm: the root namespace. The native functions are installed by the host before this file runs;
-- this module adds the Lua-side helpers and returns the namespace table.
local llm = llm
return llm
