-- eval_spec.lua: llm.eval (bits per byte, perplexity, sliding windows, lm-eval-style multiple choice, ECE, unk
-- ids) and the `llmscript eval` command line. Known answers: a model whose logits are all zero predicts
-- uniformly, so it scores log2(V) bits per token; ECE on hand-computed bins; multiple-choice numbers against
-- Tests/Fixtures/eval/expected.json, lm-evaluation-harness's loglikelihoods for the same checkpoint and task
-- (scripts/reference/make_eval_fixtures.py).
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local h = dofile(here .. 'helpers.lua')
local cli = dofile(here .. 'cli.lua')
local eval = require 'llm.eval'
local fixtures = here .. '../Fixtures/eval/'

teardown(h.removeTmpdirs)

local function near(a, b, tol) assert(math.abs(a - b) <= (tol or 1e-6), string.format('%.9g vs %.9g', a, b)) end

-- A callable "model" with fixed logits per token id: logitsFor(prevId) -> {V numbers} (nil: all zero).
local function fakeModel(V, blockSize, logitsFor)
  local calls = {}
  local m = {_config = {blockSize = blockSize}, calls = calls}
  return setmetatable(m, {__call = function(_, idx)
    local ids = idx:totable()
    calls[#calls + 1] = #ids[1]
    local out = {}
    for b, row in ipairs(ids) do
      out[b] = {}
      for t, id in ipairs(row) do
        local l = logitsFor and logitsFor(id) or nil
        local r = {}
        for v = 1, V do r[v] = l and l[v] or 0 end
        out[b][t] = r
      end
    end
    return llm.tensor(out)
  end})
end

local function charCheckpoint(text, opts)
  opts = opts or {}
  llm.manualSeed(1)
  local tok = llm.data.CharTokenizer(text, opts.unk and {unk = opts.unk} or nil)
  local model = nn.GPT({vocab = tok:vocabSize(), blockSize = 8, layers = 1, heads = 1, dim = 8})
  local dir = h.tmpdir('evalck')
  local sd = {}
  for k, v in pairs(model:stateDict()) do if k ~= 'head.weight' then sd[k] = v end end
  llm.checkpoint.write(dir .. '/step-000003', {['model.safetensors'] = sd,
    ['trainer.json'] = {step = 3, extra = {model = model:config(), modelClass = 'nn.GPT', tokenizer = tok:toTable()}}})
  return dir, tok
end

describe('bits per byte and perplexity', function()
  it('a uniform model gives log2(V) bits per token, and per byte for one-byte characters', function()
    local tok = llm.data.CharTokenizer('abcdefgh')
    local r = eval.text(fakeModel(8, 4), tok, 'abcabcabchgfedcba')
    near(r.bitsPerToken, 3)
    near(r.bitsPerByte, 3)
    near(r.ppl, 8)
    assert.are.equal(17, r.tokens)
    assert.are.equal(16, r.bytes)   -- the first character is context only
  end)

  it('bits per byte counts the UTF-8 bytes of the original text (multi-byte characters)', function()
    local tok = llm.data.CharTokenizer('aé世')   -- 1, 2 and 3 bytes
    local r = eval.text(fakeModel(3, 16), tok, 'a世é世a')
    near(r.bitsPerToken, math.log(3, 2))
    assert.are.equal(2 + 3 + 3 + 1 + 1 - 1, r.bytes)
    near(r.bitsPerByte, 4 * math.log(3, 2) / r.bytes)
    -- ppl and bits per byte agree: nll = ln(ppl) * predicted tokens = bpb * ln 2 * bytes
    near(math.log(r.ppl) * r.predicted, r.bitsPerByte * math.log(2) * r.bytes, 1e-9)
  end)

  it('sliding windows score every token once, with the context of the window', function()
    -- logits favour id (prev + 1) % V: a deterministic chain, so the logprob depends on the previous token only
    local V = 5
    local function chain(prev) local l = {} for v = 1, V do l[v] = (v - 1 == (prev + 1) % V) and 4 or 0 end return l end
    local ids = {}
    for i = 1, 23 do ids[i] = (i * 3) % V end
    for _, stride in ipairs({1, 3, 8}) do
      local m = fakeModel(V, 8, chain)
      local lps = eval.tokenLogprobs(m, ids, {stride = stride, batch = 4})
      assert.are.equal(#ids - 1, #lps)
      for i = 1, #ids - 1 do
        local expect = chain(ids[i])[ids[i + 1] + 1] - math.log(math.exp(4) + V - 1)
        near(lps[i], expect, 1e-5)
      end
      for _, len in ipairs(m.calls) do assert.is_true(len <= 8) end
    end
    assert.has_error(function() eval.tokenLogprobs(fakeModel(V, 8), ids, {stride = 9}) end)
  end)

  it('a real model gives the same bits per byte in one window and in sliding ones when the text fits', function()
    local dir = charCheckpoint('hello world, hello there')
    local model, tok = require('llm.checkpointmodel')(dir)
    local a = eval.text(model, tok, 'hello wor', {stride = 8})
    local b = eval.text(model, tok, 'hello wor', {stride = 2})
    near(a.bitsPerByte, b.bitsPerByte, 1e-5)
    assert.has_error(function() eval.text(model, tok, 'h') end, 'eval.text: the text is shorter than two tokens')
  end)
end)

describe('expected calibration error', function()
  it('matches hand-computed bins', function()
    -- 10 bins: 0.95, 0.92 -> (0.9, 1]: acc 1/2, conf 0.935; 0.55 -> (0.5, 0.6]: acc 1, conf 0.55;
    -- 0.3 -> (0.2, 0.3]: acc 0, conf 0.3 (a value on a bin edge belongs to the lower bin)
    local ece, rows = eval.ece({0.95, 0.92, 0.55, 0.3}, {true, false, true, false}, 10)
    near(ece, 2 / 4 * 0.435 + 1 / 4 * 0.45 + 1 / 4 * 0.3, 1e-12)
    assert.are.equal(3, #rows)
    near(rows[1].hi, 0.3, 1e-12)
    near(rows[3].conf, 0.935, 1e-12)
    near(eval.ece({1, 1}, {true, true}, 5), 0)
    near(eval.ece({0.5, 0.5}, {true, false}, 1), 0)
    assert.has_error(function() eval.ece({1.5}, {true}) end, 'eval.ece: a confidence outside [0, 1]: 1.5')
  end)
end)

describe('multiple choice', function()
  it('acc takes the summed logprob, acc_norm divides by the choice length in characters', function()
    -- a uniform char model: every continuation token costs ln V, so a choice's loglikelihood is
    -- -(1 + #choice) ln V (the delimiter ' ' is scored too): acc picks the shortest, acc_norm the longest
    local tok = llm.data.CharTokenizer('abcdefgh xyz')
    local V = tok:vocabSize()
    local docs = {{context = 'abc', choices = {'xyz', 'x', 'ab'}, gold = 0}, {context = 'a', choices = {'bb', 'ccc'}, gold = 0}}
    local r, per = eval.multipleChoice(fakeModel(V, 16), tok, docs)
    near(per[1].loglikelihoods[1], -4 * math.log(V), 1e-5)
    assert.are.equal(1, per[1].pred)
    assert.are.equal(0, per[1].predNorm)    -- -4 lnV / 3 > -2 lnV / 1
    near(r.acc, 0.5)
    near(r.acc_norm, 0.5)
    -- the chosen answer's probability: softmax over the summed logprobs
    near(per[2].confidence, 1 / (1 + 1 / V), 1e-6)
    near(r.ece, eval.ece({per[1].confidence, per[2].confidence}, {false, true}, 10), 1e-12)
    -- a document's own delimiter (lm-eval's target_delimiter): '' scores the choice alone
    local _, per2 = eval.multipleChoice(fakeModel(V, 16), tok, {{context = 'ab', choices = {'xyz', 'x'}, gold = 0, delimiter = ''}})
    near(per2[1].loglikelihoods[1], -3 * math.log(V), 1e-5)
  end)

  it('moves trailing spaces of the context to the continuation, as lm-eval does', function()
    local tok = llm.data.CharTokenizer('ab ')
    local m = fakeModel(3, 16)
    local s, per = eval.continuationLogprob(m, tok, 'ab  ', 'a')
    assert.are.equal(3, #per)   -- '  a'
    near(s, -3 * math.log(3), 1e-5)
    assert.has_error(function() eval.continuationLogprob(m, tok, '', 'a') end)
  end)

  it("gives lm-evaluation-harness's loglikelihoods, acc and acc_norm on the fixture task", function()
    local expected = llm.json.decode(cli.readAll(fixtures .. 'expected.json'))
    local model, tok = require('llm.checkpointmodel')(fixtures .. 'ck')
    local docs = require('llm.eval.cli').readChoices(fixtures .. 'mc.jsonl')
    local r, per = eval.multipleChoice(model, tok, docs)
    assert.are.equal(#expected.loglikelihoods, #per)
    for d, e in ipairs(expected.loglikelihoods) do
      for c, v in ipairs(e) do near(per[d].loglikelihoods[c], v, 1e-4) end
    end
    near(r.acc, expected.acc, 1e-9)
    near(r.acc_norm, expected.acc_norm, 1e-9)
  end)
end)

describe('unknown characters', function()
  it('a char tokenizer without an unk id gets one: U+FFFD when in the vocabulary, else the space, else 0', function()
    local t1, id1 = eval.withUnk(llm.data.CharTokenizer('ab \u{FFFD}'))
    assert.are.equal(3, id1)
    assert.are.same({1, 3, 2}, t1:encode('a世b'):totable())   -- ' ' < 'a' < 'b' < U+FFFD
    local _, id2 = eval.withUnk(llm.data.CharTokenizer('ba '))
    assert.are.equal(0, id2)   -- ' ' sorts first
    local _, id3 = eval.withUnk(llm.data.CharTokenizer('ba'))
    assert.are.equal(0, id3)
    local _, id4 = eval.withUnk(llm.data.CharTokenizer('abc'), 'c')
    assert.are.equal(2, id4)
    local _, id5 = eval.withUnk(llm.data.CharTokenizer('abc', {unk = 'b'}))
    assert.are.equal(1, id5)   -- its own unk is kept
    assert.has_error(function() eval.withUnk(llm.data.CharTokenizer('abc'), 'z') end,
      "eval: unk 'z' is neither a character of the vocabulary nor an id in 0..2")
    assert.are.equal(2, eval.unknownCount(llm.data.CharTokenizer('abc'):toTable(), 'a世b界'))
  end)

  it('scores an out-of-distribution text whose characters the model never saw (bytes of the original text)', function()
    local dir = charCheckpoint('the cat sat on the mat')
    local model, tok = require('llm.checkpointmodel')(dir)
    local t = eval.withUnk(tok)
    local r = eval.text(model, t, '天下大事必作于细')
    assert.are.equal(8, r.tokens)
    assert.are.equal(7 * 3, r.bytes)
  end)
end)

describe('llmscript eval', function()
  it('prints a table and writes JSON for text, multiple-choice and corpus tasks', function()
    local dir = charCheckpoint('the cat sat on the mat. a dog')
    local work = h.tmpdir('evalcli')
    local f = io.open(work .. '/t.txt', 'w'); f:write('the cat sat on the mat'); f:close()
    f = io.open(work .. '/ood.txt', 'w'); f:write('猫坐在垫子上'); f:close()
    f = io.open(work .. '/mc.jsonl', 'w')
    f:write('{"context": "the cat", "choices": ["sat", "dog"], "gold": 0}\n\n{"context": "a", "choices": ["dog", "mat"], "gold": 1}\n')
    f:close()
    local code, out, err = cli.run({'eval', dir, work .. '/t.txt', work .. '/ood.txt', work .. '/mc.jsonl', '--json', work .. '/r.json', '--stride=4'})
    assert(code == 0, err)
    assert.truthy(out:find('step 3', 1, true))
    assert.truthy(out:find('bits/byte', 1, true))
    assert.truthy(out:find('choice(2)', 1, true))
    local r = llm.json.decode(cli.readAll(work .. '/r.json'))
    assert.are.equal(3, #r.tasks)
    assert.are.equal('text', r.tasks[1].kind)
    assert.are.equal(21, r.tasks[1].bytes)
    assert.are.equal(6, r.tasks[2].unknown)
    assert.are.equal(15, r.tasks[2].bytes)
    assert.are.equal('multiple_choice', r.tasks[3].kind)
    assert.are.equal(2, #r.tasks[3].perDoc)
    assert.are.equal(10, r.tasks[3].bins)
    assert.is_number(r.tasks[3].ece)
    assert.are.equal(0, r.unkId)   -- the space
  end)

  it('reports missing files, bad task lines and usage errors', function()
    local dir = charCheckpoint('abc abc')
    local work = h.tmpdir('evalbad')
    local code, _, err = cli.run({'eval', dir, work .. '/none.txt'})
    assert.are.equal(1, code)
    assert.truthy(err:find("cannot read the task '" .. work .. "/none.txt'", 1, true), err)
    code, _, err = cli.run({'eval', work .. '/nock', work .. '/none.txt'})
    assert.are.equal(1, code)
    assert.truthy(err:find('cannot read the checkpoint', 1, true), err)
    local bad = {
      {'{"context": "a", "choices": ["b"], "gold": 0}', "'choices' must be a list of at least two strings"},
      {'{"context": "a", "choices": ["b", "c"], "gold": 2}', "'gold' must be the 0-based index of a choice (0..1)"},
      {'{"choices": ["b", "c"], "gold": 0}', "'context' must be a string"},
      {'not json', 'not a JSON object'},
    }
    for i, case in ipairs(bad) do
      local path = work .. '/bad' .. i .. '.jsonl'
      local f = io.open(path, 'w'); f:write('{"context": "a", "choices": ["b", "c"], "gold": 0}\n', case[1], '\n'); f:close()
      code, _, err = cli.run({'eval', dir, path})
      assert.are.equal(1, code)
      assert.truthy(err:find(path .. ':2: ' .. case[2], 1, true), err)
    end
    code, _, err = cli.run({'eval', dir})
    assert.are.equal(2, code)
    assert.truthy(err:find('need a CHECKPOINT and at least one TASK', 1, true))
    code, _, err = cli.run({'eval', dir, 'x.txt', '--batch=0'})
    assert.are.equal(2, code)
    assert.truthy(err:find("'--batch' needs a positive integer", 1, true))
    code, _, err = cli.run({'eval', dir, 'x.txt', '--nope=1'})
    assert.are.equal(2, code)
    assert.truthy(err:find("unrecognized option '--nope=1'", 1, true))
  end)
end)
