// PluginSkeleton: `llmscript plugin new NAME` writes a plugin folder NAME/ that installs, packs and
// tests as it is: a rockspec (format 3.0, lua >= 5.4, builtin build of Lua modules only, which is what
// `plugin install` accepts without --allow-native), the manifest module
// NAME.llmscript, one augmenter (NAME.shout, plain Lua, deterministic under a seed) and its busted spec.
// Refuses a name that is not a Lua identifier or a folder that already exists.

enum PluginSkeleton {
    static func create(_ name: String) throws(PluginError) {
        let ok =
            name.first.map { $0.isASCII && $0.isLetter } == true
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        guard ok else {
            throw PluginError(message: "Invalid 'NAME': expected a Lua identifier (letters, digits, _), got '\(name)'", status: 2)
        }
        guard !PluginSystem.exists(name) else { throw PluginError(message: "'\(name)' already exists") }
        let files: [(String, String)] = [
            ("\(name)-0.1.0-1.rockspec", rockspec(name)),
            ("src/\(name)/llmscript.lua", manifest(name)),
            ("src/\(name)/shout.lua", augmenter(name)),
            ("spec/shout_spec.lua", spec(name))
        ]
        for (path, text) in files {
            let full = "\(name)/\(path)"
            guard PluginSystem.makeDirs(PluginSystem.dirname(full)), PluginSystem.write(full, text) else {
                throw PluginError(message: "cannot write '\(full)'")
            }
        }
        Output.out(
            "created \(name)/ (\(files.map(\.0).joined(separator: ", ")))\n"
                + "next: llmscript test \(name) && llmscript plugin install \(name)\n")
    }

    static func rockspec(_ n: String) -> String {
        """
        rockspec_format = "3.0"
        package = "\(n)"
        version = "0.1.0-1"
        source = { url = "git+https://example.com/\(n).git", tag = "v0.1.0" }
        description = {
           summary = "An llmscript plugin: \(n)",
           detailed = "Provides the augmenter \(n).shout to llmscript (see src/\(n)/llmscript.lua).",
           license = "MIT",
        }
        dependencies = { "lua >= 5.4" }
        -- llmscript reads this file as data (no function calls) and installs only "builtin" and "none"
        -- builds, which copy files: no build commands, no hooks. List every module here; a C module
        -- (a .c file or a {sources = ...} table) is refused unless `plugin install --allow-native`.
        build = {
           type = "builtin",
           modules = {
              ["\(n).llmscript"] = "src/\(n)/llmscript.lua",
              ["\(n).shout"] = "src/\(n)/shout.lua",
           },
        }
        test_dependencies = { "busted" }
        test = { type = "busted" }

        """
    }

    static func manifest(_ n: String) -> String {
        """
        -- \(n).llmscript: the plugin manifest llmscript reads as data (a bare Lua state with an instruction and
        -- memory budget): return one literal table; no function calls, no loops, no globals.
        return {
          llmscript = '>=0.1',
          provides = {
            augmenters = { shout = '\(n).shout' },
          },
        }

        """
    }

    static func augmenter(_ n: String) -> String {
        """
        -- \(n).shout: an example augmenter. shout.new{rate = 0.5, seed = 0} returns aug(text) -> text, which
        -- upper-cases each word with probability rate; the same seed gives the same outputs in order.
        local M = {}

        function M.new(opts)
          opts = opts or {}
          local rate, state = opts.rate or 0.5, opts.seed or 0
          assert(type(rate) == 'number' and rate >= 0 and rate <= 1, "Invalid 'rate': expected a number in [0, 1]")
          local function uniform()   -- 64-bit LCG (Knuth MMIX), top 53 bits
            state = state * 6364136223846793005 + 1442695040888963407
            return (state >> 11) / 9007199254740992.0
          end
          return function(text)
            return (text:gsub('%S+', function(w) if uniform() < rate then return w:upper() end end))
          end
        end

        return M

        """
    }

    static func spec(_ n: String) -> String {
        """
        -- Specs of \(n): run with `llmscript test` in this folder (llmscript as the interpreter).
        local shout = require '\(n).shout'

        describe('\(n).shout', function()
          it('is deterministic under a seed', function()
            local a, b = shout.new{ rate = 0.5, seed = 7 }, shout.new{ rate = 0.5, seed = 7 }
            assert.are.equal(a('one two three four'), b('one two three four'))
          end)

          it('keeps the text at rate 0 and shouts every word at rate 1', function()
            assert.are.equal('one two', shout.new{ rate = 0 }('one two'))
            assert.are.equal('ONE TWO', shout.new{ rate = 1 }('one two'))
          end)

          it('has a manifest llmscript accepts', function()
            local m = require '\(n).llmscript'
            assert.are.equal('\(n).shout', m.provides.augmenters.shout)
          end)
        end)

        """
    }
}
