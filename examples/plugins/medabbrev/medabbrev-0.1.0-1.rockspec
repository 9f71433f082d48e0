rockspec_format = "3.0"
package = "medabbrev"
version = "0.1.0-1"
source = { url = "git+https://example.com/medabbrev.git", tag = "v0.1.0" }
description = {
   summary = "An llmscript plugin: clinical abbreviation augmenter",
   detailed = [[Rewrites clinical phrases as their abbreviations ("blood pressure" -> "BP") or back,
each occurrence with probability rate, deterministic under a seed; plus a linear rate schedule.]],
   license = "MIT",
}
dependencies = { "lua >= 5.4" }
-- a builtin build of Lua modules only: what `llmscript plugin install` accepts without --allow-native
build = {
   type = "builtin",
   modules = {
      ["medabbrev.llmscript"] = "src/medabbrev/llmscript.lua",
      ["medabbrev.augment"] = "src/medabbrev/augment.lua",
      ["medabbrev.ramp"] = "src/medabbrev/ramp.lua",
   },
}
test_dependencies = { "busted" }
test = { type = "busted" }
