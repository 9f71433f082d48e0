-- pipeline_spec.lua: llm.data.pipeline from Lua: readers (text per file/line/separator, jsonl with
-- fill rules, list), Lua function steps that drop and modify documents, luaStep in worker states with
-- several threads (same output as one thread), the writer and rejects files, the report table, errors.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/pipeline_spec.lua

local data = llm.data
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local fixture = here .. '../Fixtures/fortunes-sample'

local fails = dofile((debug.getinfo(1, 'S').source:match('^@(.*/)') or './') .. 'helpers.lua').fails

local dir = os.tmpname(); os.remove(dir); assert(os.execute('mkdir -p ' .. dir))
local function write(name, text) local f = assert(io.open(dir .. '/' .. name, 'wb')); f:write(text); f:close(); return dir .. '/' .. name end
local function read(name) local f = io.open(dir .. '/' .. name, 'rb'); if not f then return nil end local s = f:read('a'); f:close(); return s end
local function lines(name) local t = {}; for l in (read(name) or ''):gmatch('[^\n]+') do t[#t + 1] = l end; return t end

-- a module for worker states
write('pipestep.lua', [[
local M = {}
function M.shout(doc)
  if doc.text:find('drop') then return nil, 'has drop: ' .. doc.id end
  doc.text = doc.text:upper()
  doc.meta.len = #doc.text
  return doc
end
function M.broken(doc) error('boom in worker') end
return M
]])
package.path = dir .. '/?.lua;' .. package.path

describe('llm.data.pipeline', function()
  it('runs a Lua step that drops and modifies documents, writing output and rejects', function()
    local input = write('in.jsonl', table.concat({
      '{"text":"keep me","id":"a","lang":"en"}', 'not json', '{"text":"x"}', '{"body":"no text"}', '{"text":"keep too"}'}, '\n'))
    local r = data.pipeline{
      data.readers.jsonl(input),
      function(doc)
        if #doc.text < 3 then return nil, 'too short: ' .. #doc.text end
        doc.text = doc.text .. '!'
        doc.meta.checked = true
        return doc
      end,
      data.writers.jsonl(dir .. '/out.jsonl'),
      rejects = dir .. '/rejects.jsonl', quiet = true,
    }:run()
    assert.are.same({'{"id":"a","text":"keep me!","meta":{"checked":"true","lang":"en"}}',
                     '{"id":"' .. input .. ':5","text":"keep too!","meta":{"checked":"true"}}'}, lines('out.jsonl'))
    local rej = lines('rejects.jsonl')
    assert.are.equal(3, #rej)
    assert.truthy(rej[1]:find('"stage":"read jsonl","reason":"not JSON: ', 1, true))
    assert.truthy(rej[2]:find('"reason":"missing field \'text\'"', 1, true))
    assert.truthy(rej[3]:find('"text":"x","stage":"lua step 2 (pipeline_spec.lua:', 1, true))
    assert.truthy(rej[3]:find('"reason":"too short: 1"', 1, true))
    assert.are.equal(5, r.read); assert.are.equal(2, r.kept); assert.are.equal(3, r.dropped); assert.are.equal(3, r.rejected)
    assert.are.same({'read jsonl', 'write jsonl'}, {r.stages[1].name, r.stages[3].name})
    assert.are.same({['not JSON'] = 1, ["missing field 'text'"] = 1}, r.stages[1].drops)
    assert.are.same({['too short'] = 1}, r.stages[2].drops)
    assert.are.equal(3, r.stages[2].documentsIn); assert.are.equal(2, r.stages[2].documentsOut)
    assert.truthy(r.text:find('total: 5 read, 2 kept, 3 dropped', 1, true))
  end)

  it('returns the kept documents without a writer; steps may return a string or nil', function()
    local r, docs = data.pipeline{
      data.readers.list{'one', {text = 'two', id = 'b', meta = {k = 'v'}}, 'three'},
      function(doc) if doc.text == 'three' then return nil end return doc.text .. '.' end,
      quiet = true,
    }:run()
    assert.are.equal(2, #docs)
    assert.are.same({text = 'one.', id = '1', meta = {}}, docs[1])
    assert.are.same({text = 'two.', id = 'b', meta = {k = 'v'}}, docs[2])
    local reason, n = next(r.stages[2].drops)
    assert.are.equal(1, n)
    assert.truthy(reason:find('^dropped by lua step 2 %(pipeline_spec%.lua:%d+%)$'), reason)
  end)

  it('reads text per file, line and separator', function()
    local _, quotes = data.pipeline{data.readers.text(fixture, {split = 'separator'}), quiet = true}:run()
    assert.are.equal(4, #quotes)
    assert.are.equal('Ünïcödé quote — 世界 👋', quotes[3].text)
    assert.are.equal(fixture, quotes[3].meta.source)
    write('t.txt', 'a\n\nb\n')
    local _, ls = data.pipeline{data.readers.text(dir .. '/t.txt', {split = 'line'}), quiet = true}:run()
    assert.are.same({'a', 'b'}, {ls[1].text, ls[2].text})
    assert.are.equal(dir .. '/t.txt:3', ls[2].id)
    local _, fs = data.pipeline{data.readers.text({dir .. '/t.txt'}), quiet = true}:run()
    assert.are.same({'a\n\nb\n'}, {fs[1].text})
  end)

  it('fills missing text by a rule', function()
    local input = write('fill.jsonl', '{"title":"T","body":"B"}\n{"title":"only"}\n{"other":1}\n')
    local r, docs = data.pipeline{
      data.readers.jsonl(input, {fallbackFields = {'body'}, fill = function(rec) return rec.meta.title end}),
      quiet = true,
    }:run()
    assert.are.same({'B', 'only'}, {docs[1].text, docs[2].text})
    assert.are.same({["missing field 'text'"] = 1}, r.stages[1].drops)
  end)

  it('runs module steps in worker Lua states, in input order whatever the thread count', function()
    local list = {}
    for i = 1, 300 do list[i] = (i % 7 == 0) and ('please drop ' .. i) or ('doc ' .. i) end
    local step = data.luaStep{module = 'pipestep', fn = 'shout'}
    assert.are.equal('pipestep.shout', step:name())
    local one = {data.pipeline{data.readers.list(list), step, threads = 1, quiet = true}:run()}
    local four = {data.pipeline{data.readers.list(list), step, threads = 4, chunkSize = 50, quiet = true}:run()}
    assert.are.equal(300 - 42, #one[2])
    assert.are.same(one[2], four[2])
    assert.are.same({text = 'DOC 1', id = '1', meta = {len = '5'}}, one[2][1])
    assert.are.same({['has drop'] = 42}, four[1].stages[2].drops)
    local d, why = step:process{text = 'drop it', id = 'z'}
    assert.is_nil(d); assert.are.equal('has drop: z', why)
  end)

  it('stops on a failing step, leaving the destination as it was', function()
    write('keep.jsonl', 'previous\n')
    fails(function()
      data.pipeline{data.readers.list{'a', 'b'}, function(doc) if doc.id == '2' then error('bad doc') end return doc end,
                    data.writers.jsonl(dir .. '/keep.jsonl'), quiet = true}:run()
    end, "pipeline: step 'lua step 2", "failed on document '2'", 'bad doc')
    assert.are.equal('previous\n', read('keep.jsonl'))
    fails(function()
      data.pipeline{data.readers.list{'a'}, data.luaStep{module = 'pipestep', fn = 'broken'}, threads = 2, quiet = true}:run()
    end, "step 'pipestep.broken' failed on document '1'", 'boom in worker')
    fails(function() data.pipeline{data.readers.list{'a'}, function() return 42 end, quiet = true}:run() end,
      "expected a document table {text=...}, got number")
  end)

  it('checks its arguments', function()
    local reader = data.readers.list{'a'}
    fails(function() data.pipeline{} end, 'expected a reader first')
    fails(function() data.pipeline{42} end, 'entry 1 must be a reader', 'got number')
    fails(function() data.pipeline{reader, 'nope'} end, 'entry 2 must be a step', 'got string')
    fails(function() data.pipeline{reader, data.writers.jsonl(dir .. '/w.jsonl'), function() end} end, 'entry 2', 'a writer must be last')
    fails(function() data.pipeline{reader, thread = 2} end, "unknown option 'thread'", "'threads'")
    fails(function() data.pipeline{reader, threads = 0} end, "Invalid 'threads'")
    fails(function() data.readers.jsonl(dir .. '/none.jsonl') end, 'no such file or directory')
    fails(function() data.readers.text(fixture, {split = 'para'}) end, "Invalid 'split'", "'file', 'line', 'separator'")
    fails(function() data.readers.text(fixture, {splitt = 'line'}) end, "unknown option 'splitt'")
    fails(function() data.readers.jsonl(fixture, {invalidUTF8 = 'drop'}) end, "Invalid 'invalidUTF8'", "'repair', 'reject'")
    fails(function() data.readers.jsonl(fixture, {fill = 'x'}) end, "Invalid 'fill'")
    fails(function() data.luaStep{module = 'pipestep', fn = 'nope'} end, "has no function 'nope'")
    fails(function() data.luaStep{module = 'no.such.module', fn = 'f'} end, "module 'no.such.module' not found")
    fails(function() data.writers.jsonl(dir .. '/o.jsonl', {field = 'x'}) end, "unknown option 'field'")
    fails(function() data.pipeline{reader, data.writers.jsonl('/nonexistent-dir/o.jsonl'), quiet = true}:run() end, 'cannot create')
  end)

  teardown(function() os.execute('rm -rf ' .. dir) end)
end)
