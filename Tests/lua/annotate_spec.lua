-- annotate_spec.lua: weak supervision (stdlib-lua/llm/annotate). Labelling functions applied inline and in
-- parallel.pool workers (same matrix), abstains (nil and ABSTAIN), bad returns and failing LFs named;
-- majority vote with each tie rule; the generative label model recovers known LF accuracies on seeded
-- synthetic data and beats majority vote when LFs differ in accuracy; the LF report against hand counts;
-- JSONL / CoNLL round trips and errors naming line numbers; the interactive session through the binary with
-- piped stdin, resumed.
-- Run: llmscript test Tests/lua/annotate_spec.lua
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local h = dofile(here .. 'helpers.lua')
-- The message of the error f(...) raises.
local function fails(f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, 'expected an error')
  return tostring(e)
end
package.path = here .. 'annotate/?.lua;' .. package.path
local A = annotate.ABSTAIN
local WORKERS = math.min(2, llm.getThreads())

local DOCS = {'a good day!', 'bad weather', 'good but bad', 'nothing here', 'good good', 'bad!'}

describe('annotate labelling functions', function()
  it('applies inline LFs into a docs x LFs matrix, nil and ABSTAIN both abstain', function()
    local L = annotate.apply(require('annotate_lfs'), DOCS)
    assert.are.equal(6, L.n); assert.are.equal(3, L.m)
    assert.are.same({'has_good', 'has_bad', 'exclaims'}, L.names)
    assert.are.same({'pos', A, 'pos'}, L.rows[1])
    assert.are.same({A, 'neg', A}, L.rows[2])
    assert.are.same({'pos', 'neg', A}, L.rows[3])
    assert.are.same({A, A, A}, L.rows[4])
    assert.are.same({A, 'neg', 'pos'}, L.rows[6])
    assert.are.same({'neg', 'pos'}, L:labels())
    assert.are.same({'pos', A, 'pos', A, 'pos', A}, L:column('has_good'))
  end)

  it('takes a table name -> function (columns sorted by name) and document tables', function()
    local L = annotate.apply({z = function(d) return #d.text end, a = function(d) return d.id end},
      {{text = 'abc', id = 7}, 'xy'})
    assert.are.same({'a', 'z'}, L.names)
    assert.are.same({{7, 3}, {2, 2}}, L.rows)   -- a string doc gets its position as id
  end)

  it('gives the same matrix from parallel.pool workers (module of LFs)', function()
    local docs = {}
    for i = 1, 60 do docs[i] = DOCS[(i - 1) % #DOCS + 1] end
    local inline = annotate.apply(require('annotate_lfs'), docs)
    local pooled = annotate.apply(nil, docs, {module = 'annotate_lfs', workers = WORKERS, chunk = 7})
    assert.are.same(inline.names, pooled.names)
    assert.are.same(inline.rows, pooled.rows)
  end)

  it('names the LF and document on errors and bad returns', function()
    local boom = annotate.lf('boom', function(d) if d.text == 'x' then error('kaput') end return 1 end)
    assert.truthy(fails(annotate.apply, {boom}, {'a', 'x'}):find("'boom' failed on document 2: .*kaput"))
    local bad = annotate.lf('tbl', function() return {} end)
    assert.truthy(fails(annotate.apply, {bad}, {'a'}):find("'tbl' returned a table on document 1"))
    assert.truthy(fails(annotate.lf, 'x', 3):find('fn must be a function'))
    assert.truthy(fails(annotate.apply, {1}, {'a'}):find('item 1 is not an annotate.lf'))
    assert.truthy(fails(annotate.apply, {boom, boom}, {'a'}):find("two labelling functions named 'boom'"))
    assert.truthy(fails(annotate.apply, nil, {'a'}, {module = 'no_such_lf_module', workers = 1}):find('no_such_lf_module'))
    local msg = fails(annotate.apply, nil, {'a', 'b', 'boom'}, {module = 'annotate_lfs_bad', workers = WORKERS, chunk = 1})
    assert.truthy(msg:find("'fragile' failed on document 3: .*cannot label this"), msg)
  end)
end)

describe('annotate.majorityVote', function()
  local L = annotate.labelMatrix({{'a', 'a', 'b'}, {'a', 'b', A}, {A, A, A}, {'b', A, A}}, {'f1', 'f2', 'f3'})
  it('takes the most frequent vote; ties and empty rows abstain by default', function()
    local labels, probs = annotate.majorityVote(L)
    assert.are.same({'a', A, A, 'b'}, labels)
    assert.are.same({2 / 3, 1 / 3}, probs[1])
    assert.are.same({0.5, 0.5}, probs[2])
  end)
  it("breaks ties by class order ('first') or a seeded choice ('random')", function()
    assert.are.same({'a', 'a', A, 'b'}, (annotate.majorityVote(L, {tieBreak = 'first'})))
    assert.are.same({'a', 'b', A, 'b'}, (annotate.majorityVote(L, {tieBreak = 'first', classes = {'b', 'a'}})))
    local r1 = annotate.majorityVote(L, {tieBreak = 'random', seed = 3})
    assert.are.same(r1, (annotate.majorityVote(L, {tieBreak = 'random', seed = 3})))
    assert.truthy(r1[2] == 'a' or r1[2] == 'b')
    assert.truthy(fails(annotate.majorityVote, L, {tieBreak = 'coin'}):find("tieBreak must be"))
    assert.truthy(fails(annotate.majorityVote, L, {classes = {'a', 'c'}}):find("LF 'f3' voted b on document 1"))
  end)
end)

-- Synthetic weak supervision: n docs, true labels with prior p1 for class 1 (classes 0/1), LF j labels a doc
-- with probability cov[j] and is right with probability acc[j].
local function synthetic(n, accs, covs, p1, seed)
  math.randomseed(seed)
  local gold, rows, names = {}, {}, {}
  for j = 1, #accs do names[j] = 'lf' .. j end
  for i = 1, n do
    local y = math.random() < p1 and 1 or 0
    gold[i] = y
    local r = {}
    for j = 1, #accs do
      if math.random() < covs[j] then r[j] = math.random() < accs[j] and y or 1 - y else r[j] = A end
    end
    rows[i] = r
  end
  return annotate.labelMatrix(rows, names), gold
end

local function accuracy(pred, gold)
  local c = 0
  for i = 1, #gold do if pred[i] == gold[i] then c = c + 1 end end
  return c / #gold
end

describe('annotate.LabelModel (one-coin Dawid-Skene EM)', function()
  it('recovers known LF accuracies and the class prior (seeded synthetic data)', function()
    local accs = {0.9, 0.8, 0.7, 0.65, 0.85}
    local L = synthetic(3000, accs, {0.9, 0.8, 0.9, 0.7, 0.6}, 0.3, 11)
    local m = annotate.LabelModel{}:fit(L)   -- measured: 0.886 0.795 0.718 0.656 0.860, prior 0.306
    for j, a in ipairs(accs) do assert.is_true(math.abs(m.accuracies['lf' .. j] - a) < 0.04, ('lf%d: %.3f vs %.2f'):format(j, m.accuracies['lf' .. j], a)) end
    assert.is_true(math.abs(m.prior[1] - 0.3) < 0.04, tostring(m.prior[1]))
    local probs = m:predictProba(L)
    assert.is_true(math.abs(probs[1][1] + probs[1][2] - 1) < 1e-9)
  end)

  it('recovers accuracies with three classes (errors spread over the other two)', function()
    math.randomseed(4)
    local cls, accs, rows = {'a', 'b', 'c'}, {0.85, 0.7, 0.6}, {}
    for i = 1, 3000 do
      local y, r = math.random(3), {}
      for j, a in ipairs(accs) do
        if math.random() < 0.8 then
          if math.random() < a then r[j] = cls[y] else local o = math.random(2); if o >= y then o = o + 1 end; r[j] = cls[o] end
        else r[j] = A end
      end
      rows[i] = r
    end
    local m = annotate.LabelModel{}:fit(annotate.labelMatrix(rows, {'x', 'y', 'z'}))   -- measured: 0.819 0.728 0.603
    assert.are.same(cls, m.classes)
    for j, nm in ipairs{'x', 'y', 'z'} do assert.is_true(math.abs(m.accuracies[nm] - accs[j]) < 0.05, nm .. ' ' .. m.accuracies[nm]) end
  end)

  it('beats majority vote when one LF is much better than the rest', function()
    -- one LF right 95% of the time, four right 65%: majority vote follows the weak four when they agree
    local L, gold = synthetic(3000, {0.95, 0.65, 0.65, 0.65, 0.65}, {1, 1, 1, 1, 1}, 0.5, 1)
    local mv = annotate.majorityVote(L, {tieBreak = 'first'})
    local model = annotate.LabelModel{}:fit(L)
    local accMV, accLM = accuracy(mv, gold), accuracy(model:predict(L), gold)   -- measured: 0.856 vs 0.954
    assert.is_true(accLM > accMV + 0.06, ('label model %.3f vs majority vote %.3f'):format(accLM, accMV))
    assert.is_true(accLM > 0.93, tostring(accLM))
    assert.is_true(math.abs(model.accuracies.lf1 - 0.95) < 0.05, tostring(model.accuracies.lf1))
  end)

  it('abstains where every LF abstains; errors name the problem', function()
    local L = annotate.labelMatrix({{'x', 'x'}, {'y', 'y'}, {'x', 'y'}, {A, A}}, {'p', 'q'})
    local labels = annotate.LabelModel{}:fit(L):predict(L)
    assert.are.equal(A, labels[4]); assert.are.equal('x', labels[1])
    assert.truthy(fails(function() return annotate.LabelModel{}:predict(L) end):find('fit the model first'))
    assert.truthy(fails(function() return annotate.LabelModel{}:fit({}) end):find('expected an annotate.LabelMatrix'))
    local one = annotate.labelMatrix({{'x'}}, {'p'})
    assert.truthy(fails(function() return annotate.LabelModel{}:fit(one) end):find('at least two classes'))
  end)
end)

describe('annotate.analysis', function()
  it("gives Snorkel's LFAnalysis columns, equal to hand counts", function()
    local L = annotate.labelMatrix({{'a', 'a', A}, {'a', 'b', A}, {A, 'b', 'b'}, {A, A, 'a'}, {'b', A, A}}, {'f', 'g', 'k'})
    local gold = {'a', 'a', 'b', 'b', nil}
    local r = annotate.analysis(L, gold)
    local f, g, k = r.byName.f, r.byName.g, r.byName.k
    -- f labels docs 1,2,5: overlaps on 1,2; conflicts on 2; correct 1,2; doc 5 has no gold
    assert.are.same({'a', 'b'}, f.polarity)
    assert.are.equal(3 / 5, f.coverage); assert.are.equal(2 / 5, f.overlaps); assert.are.equal(1 / 5, f.conflicts)
    assert.are.equal(2, f.correct); assert.are.equal(0, f.incorrect); assert.are.equal(1, f.empAcc)
    -- g labels 1,2,3: overlaps 1,2,3; conflicts 2 only; correct 1,3, incorrect 2
    assert.are.equal(3 / 5, g.coverage); assert.are.equal(3 / 5, g.overlaps); assert.are.equal(1 / 5, g.conflicts)
    assert.are.equal(2, g.correct); assert.are.equal(1, g.incorrect); assert.are.equal(2 / 3, g.empAcc)
    -- k labels 3,4: overlap 3, no conflict; correct 3, incorrect 4
    assert.are.equal(2 / 5, k.coverage); assert.are.equal(1 / 5, k.overlaps); assert.are.equal(0, k.conflicts)
    assert.are.equal(0.5, k.empAcc)
    local text = r:format()
    assert.truthy(text:find('coverage') and text:find('empAcc'))
    assert.truthy(text:find('g%s+2%s+%[a,b%]%s+0%.600%s+0%.600%s+0%.200%s+2%s+1%s+0%.667'))
    assert.is_nil(annotate.analysis(L).rows[1].empAcc)
  end)
end)

describe('annotate IO', function()
  local dir = h.tmpdir('annotate')
  local function write(name, text)
    local f = assert(io.open(dir .. '/' .. name, 'w')); f:write(text); f:close(); return dir .. '/' .. name
  end

  it('round-trips classification and entity JSONL', function()
    local recs = {{text = 'hello "world"', label = 'pos', id = 1}, {text = '你好', label = 3},
                  {tokens = {'John', 'lives', 'in', 'New', 'York'}, tags = {'B-PER', 'O', 'O', 'B-LOC', 'I-LOC'}}}
    local p = dir .. '/r.jsonl'
    annotate.writeJSONL(p, recs)
    assert.are.same(recs, annotate.readJSONL(p))
  end)

  it('names the line of malformed JSONL', function()
    local p = write('bad1.jsonl', '{"text": "a", "label": "x"}\n\n{"text": "b",\n')
    assert.truthy(fails(annotate.readJSONL, p):find('bad1.jsonl:3: invalid JSON'))
    p = write('bad2.jsonl', '{"text": "a"}\n[1, 2]\n')
    assert.truthy(fails(annotate.readJSONL, p):find('bad2.jsonl:2: expected a JSON object'))
    p = write('bad3.jsonl', '{"tokens": ["a", "b"], "tags": ["O"]}\n')
    assert.truthy(fails(annotate.readJSONL, p):find('bad3.jsonl:1: 2 tokens but 1 tags'))
    p = write('bad4.jsonl', '{"tokens": ["a"], "tags": ["X-PER"]}\n')
    assert.truthy(fails(annotate.readJSONL, p):find('bad4.jsonl:1: tag 1 %(X%-PER%) is not O, B%-TYPE or I%-TYPE'))
    p = write('bad5.jsonl', '{"text": "a"}\n{"label": "x"}\n')
    assert.truthy(fails(annotate.readJSONL, p):find("bad5.jsonl:2: no 'text' string"))
    assert.truthy(fails(annotate.readJSONL, write('bad6.jsonl', '{"text": "a"}\n'), {requireLabel = true}):find("bad6.jsonl:1: no 'label'"))
    assert.truthy(fails(annotate.readJSONL, dir .. '/missing.jsonl'):find('cannot open'))
    assert.truthy(fails(annotate.writeJSONL, dir .. '/o.jsonl', {{tokens = {'a'}, tags = {}}}):find('record 1: 1 tokens but 0 tags'))
  end)

  it('reads and writes CoNLL (BIO), sentences split by blank lines', function()
    local p = write('in.conll', '-DOCSTART- -X- O O\n\nEU NNP B-ORG\nrejects VBZ O\n\n\nPeter NNP B-PER\nBlackburn NNP I-PER\n')
    local s = annotate.readCoNLL(p)
    assert.are.same({{tokens = {'EU', 'rejects'}, tags = {'B-ORG', 'O'}}, {tokens = {'Peter', 'Blackburn'}, tags = {'B-PER', 'I-PER'}}}, s)
    local out = dir .. '/out.conll'
    annotate.writeCoNLL(out, s)
    local f = assert(io.open(out)); local text = f:read('a'); f:close()
    assert.are.equal('EU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn I-PER\n\n', text)
    assert.are.same(s, annotate.readCoNLL(out))
  end)

  it('names the line of malformed CoNLL', function()
    assert.truthy(fails(annotate.readCoNLL, write('b1.conll', 'a O\nlonely\n')):find("b1.conll:2: expected 'token TAG'"))
    assert.truthy(fails(annotate.readCoNLL, write('b2.conll', 'a O\n\nb PER\n')):find('b2.conll:3: tag "PER" is not O'))
    assert.truthy(fails(annotate.writeCoNLL, dir .. '/w.conll', {{tokens = {'a b'}, tags = {'O'}}}):find('sentence 1: token 1 .* whitespace'))
    assert.truthy(fails(annotate.writeCoNLL, dir .. '/w.conll', {{tokens = {'a'}, tags = {'O', 'O'}}}):find('sentence 1: 1 tokens but 2 tags'))
    assert.is_true(annotate.checkBIO({'O', 'B-X', 'I-X'}))
  end)
end)

describe('annotate.session', function()
  local dir = h.tmpdir('annotate-session')
  local input, output = dir .. '/in.jsonl', dir .. '/out.jsonl'
  annotate.writeJSONL(input, {{id = 1, text = 'first doc'}, {id = 2, text = 'second doc'}, {id = 3, text = 'third doc'},
                              {id = 4, text = 'fourth doc'}})
  local script = dir .. '/label.lua'
  local f = assert(io.open(script, 'w'))
  f:write(('local s = annotate.session{input = %q, output = %q, labels = {p = "pos", n = "neg"}}\n'):format(input, output))
  f:write('print(("RESULT %d %d %d"):format(s.labelled, s.skipped, s.remaining))\n')
  f:close()
  local function run(keys)
    local p = assert(io.popen("printf '" .. keys .. "' | " .. h.shq(h.binary()) .. ' ' .. h.shq(script) .. ' 2>&1'))
    local text = p:read('a'); p:close()
    return text
  end

  it('records keypress labels from piped stdin, skips, re-asks on unknown keys, quits', function()
    local text = run('p\\nx\\ns\\nn\\nq\\n')
    assert.truthy(text:find('4 of 4 documents to label'), text)
    assert.truthy(text:find('first doc') and text:find('%[n%] neg  %[p%] pos  %[s%] skip  %[q%] quit'), text)
    assert.truthy(text:find('unknown key "x"'), text)
    assert.truthy(text:find('RESULT 2 1 2'), text)
    assert.are.same({{id = 1, text = 'first doc', label = 'pos'}, {id = 3, text = 'third doc', label = 'neg'}},
      annotate.readJSONL(output))
  end)

  it('resumes: already-labelled documents are not shown again; end of input stops', function()
    local text = run('n\\n')
    assert.truthy(text:find('2 of 4 documents to label %(2 already in'), text)
    assert.falsy(text:find('first doc'), text)
    assert.truthy(text:find('second doc'), text)
    assert.truthy(text:find('RESULT 1 0 1'), text)
    text = run('p\\n')
    assert.truthy(text:find('1 of 4 documents') and text:find('fourth doc') and text:find('RESULT 1 0 0'), text)
    local labels = {}
    for _, r in ipairs(annotate.readJSONL(output)) do labels[r.id] = r.label end
    assert.are.same({'pos', 'neg', 'neg', 'pos'}, labels)
  end)

  it('works in-process with read/write functions and list labels; errors name the problem', function()
    local keys, shown = {'2', '1'}, {}
    local s = annotate.session{input = {'u', 'v'}, output = dir .. '/o2.jsonl', labels = {'spam', 'ham'},
      read = function() return table.remove(keys, 1) end, write = function(x) shown[#shown + 1] = x end}
    assert.are.equal(2, s.labelled)
    assert.are.same({{text = 'u', label = 'ham'}, {text = 'v', label = 'spam'}}, annotate.readJSONL(dir .. '/o2.jsonl'))
    assert.truthy(fails(annotate.session, {input = {}, output = 'x', labels = {q = 'a'}}):find("quit %('q'%)"))
    assert.truthy(fails(annotate.session, {input = {}, output = 'x', labels = {}}):find('labels must be'))
  end)
end)

describe('annotate.step (the data pipeline)', function()
  local docs = {}
  for i = 1, 40 do docs[i] = DOCS[(i - 1) % #DOCS + 1] end
  local expected = annotate.apply(require('annotate_lfs'), docs)

  it("labels documents in the pipeline's worker states (a module of LFs) and collects the matrix", function()
    local _, out = llm.data.pipeline{llm.data.readers.list(docs), annotate.step('annotate_lfs'), threads = WORKERS, quiet = true}:run()
    assert.are.equal(40, #out)
    assert.are.equal('["pos",-1,"pos"]', out[1].meta.labels)
    local L = annotate.fromDocs(out, 'annotate_lfs')
    assert.are.same(expected.names, L.names)
    assert.are.same(expected.rows, L.rows)
  end)

  it('runs inline LFs as an in-process step', function()
    local _, out = llm.data.pipeline{llm.data.readers.list(docs), annotate.step(require('annotate_lfs')), quiet = true}:run()
    assert.are.same(expected.rows, annotate.fromDocs(out, require('annotate_lfs')).rows)
    assert.truthy(fails(annotate.fromDocs, {{text = 'a', meta = {}}}, 'annotate_lfs'):find('document 1 has no meta.labels'))
    assert.truthy(fails(annotate.step, 'no_such_lf_module'):find('no_such_lf_module'))
    local _, msg = pcall(function()
      return llm.data.pipeline{llm.data.readers.list({{text = 'boom', id = 'x7'}}), annotate.step('annotate_lfs_bad'), quiet = true}:run()
    end)
    assert.truthy(tostring(msg):find("'fragile' failed on document 'x7'"), tostring(msg))
  end)
end)
