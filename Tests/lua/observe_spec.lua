-- observe_spec.lua: seeing a run (stdlib-lua/llm/observe): CRC-32C vectors and TFRecord framing of TensorBoard
-- event files (round trip, corrupt and truncated records, histogram buckets, text), the committed fixture that
-- tensorboard's own reader loaded (scripts/reference/make_tfevents_fixture.lua), energy from a FAKE RAPL sysfs
-- folder (counter wrap-around, subzones not double-counted) and the labelled CPU-time estimate, CO2 arithmetic,
-- FLOPs of a known GPT against a hand count, MFU, the Trainer extension (metrics fields, progress line, result,
-- primary-only writing, resume keeps the energy count), `llmscript plot` SVGs for one and two runs, and the PII
-- scrubber's SSNs, IBANs, international e-mails and version numbers.
-- Run: llmscript test Tests/lua/observe_spec.lua

local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
local cli = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'cli.lua')
local fails = helpers.fails
teardown(helpers.removeTmpdirs)

local crc = require 'llm.observe.crc32c'
local pb = require 'llm.observe.protobuf'
local tf = require 'llm.observe.tfevents'
local energy = require 'llm.observe.energy'
local flops = require 'llm.observe.flops'
local runplot = require 'llm.observe.runplot'

local function readAll(path)
  local f = assert(io.open(path, 'rb')); local s = f:read('a'); f:close(); return s
end
local function writeFile(path, s)
  local f = assert(io.open(path, 'wb')); f:write(s); f:close()
end
local function listDir(dir)
  local p = io.popen('ls ' .. helpers.shq(dir) .. ' 2>/dev/null'); local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close(); return out
end

describe('CRC-32C and protobuf', function()
  it('matches the RFC 3720 (iSCSI) check values', function()
    assert.are.equal(0xE3069283, crc.sum('123456789'))
    assert.are.equal(0x8A9136AA, crc.sum(string.rep('\0', 32)))
    assert.are.equal(0x62A8AB43, crc.sum(string.rep('\255', 32)))
    local asc = {}
    for i = 0, 31 do asc[#asc + 1] = string.char(i) end
    assert.are.equal(0x46DD794E, crc.sum(table.concat(asc)))
    assert.are.equal(0, crc.sum(''))
    -- masking: rotate right by 15, add 0xa282ead8 (mod 2^32)
    assert.are.equal(0xa282ead8, crc.mask(0))
    assert.are.equal((((0xE3069283 >> 15) | (0xE3069283 << 17)) + 0xa282ead8) & 0xFFFFFFFF, crc.masked('123456789'))
  end)
  it('encodes varints and fields and decodes them back', function()
    assert.are.equal('\1', pb.varint(1)); assert.are.equal('\172\2', pb.varint(300)); assert.are.equal('\0', pb.varint(0))
    assert.are.equal(10, #pb.varint(-1))
    local msg = pb.uint(2, 300) .. pb.double(1, 1.5) .. pb.bytes(3, 'abc') .. pb.float(5, 0.25)
    local d = pb.decode(msg)
    assert.are.same({2, 0, 300}, {d[1].field, d[1].wire, d[1].value})
    assert.are.equal(1.5, string.unpack('<d', d[2].value)); assert.are.equal('abc', d[3].value)
    assert.are.equal(0.25, string.unpack('<f', d[4].value))
    fails(function() pb.decode(pb.bytes(3, 'abc'):sub(1, 3)) end, 'truncated')
  end)
end)

describe('TensorBoard event files', function()
  it('frames records with masked CRCs and reads back scalars, histograms and text', function()
    local dir = helpers.tmpdir('tb')
    local w = tf.open(dir)
    assert.is_truthy(w.path:find('/events%.out%.tfevents%.%d+%.'))
    w:scalar('train/loss', 2.5, 1)
    w:scalar('train/loss', 0.5, 2)
    local h = w:histogram('weights/w', llm.tensor({{1, 2}, {3, 4}}), 2, {bins = 2})
    w:text('samples/text', 'ab', 2)
    w:close()
    -- the first record: length 8 bytes LE, masked CRC of those, data, masked CRC of the data
    local s = readAll(w.path)
    local len = string.unpack('<I8', s)
    assert.are.equal(crc.masked(s:sub(1, 8)), string.unpack('<I4', s, 9))
    assert.are.equal(crc.masked(s:sub(13, 12 + len)), string.unpack('<I4', s, 13 + len))
    local ev = tf.read(w.path)
    assert.are.equal(5, #ev)
    assert.are.equal('brain.Event:2', ev[1].fileVersion)
    assert.are.same({'train/loss', 2.5, 1}, {ev[2].values[1].tag, ev[2].values[1].simpleValue, ev[2].step})
    assert.are.equal(0.5, ev[3].values[1].simpleValue)
    assert.are.same({1, 4, 4, 10, 30}, {ev[4].values[1].histo.min, ev[4].values[1].histo.max, ev[4].values[1].histo.num,
                                        ev[4].values[1].histo.sum, ev[4].values[1].histo.sumSquares})
    assert.are.same(h.counts, ev[4].values[1].histo.counts)
    assert.are.same({'ab', 'text'}, {ev[5].values[1].text, ev[5].values[1].plugin})
    assert.is_true(ev[2].wallTime > 1.6e9)
    -- a flipped data byte, a flipped length byte, a cut file
    local bad = s:sub(1, 20) .. string.char((s:byte(21) + 1) % 256) .. s:sub(22)
    writeFile(dir .. '/bad', bad)
    fails(function() tf.read(dir .. '/bad') end, 'record 1: data CRC mismatch')
    writeFile(dir .. '/badlen', string.char((s:byte(1) + 1) % 256) .. s:sub(2))
    fails(function() tf.read(dir .. '/badlen') end, 'record 1: length CRC mismatch')
    writeFile(dir .. '/cut', s:sub(1, #s - 3))
    fails(function() tf.read(dir .. '/cut') end, 'record 5 is truncated')
    fails(function() w:scalar('x', 1, 1) end, 'closed')
    fails(function() tf.open(dir):scalar('', 1, 1) end, 'tag must be a non-empty string')
    fails(function() tf.open(dir):scalar('x', 'one', 1) end, "scalar 'x' must be a number")
  end)

  it('buckets histograms: equal widths between min and max, right-closed, non-finite values left out', function()
    local h = tf.histogram({-1, -0.5, 0, 0, 0.25, 0.5, 1, 2, 0 / 0, math.huge}, 4)
    assert.are.same({-0.25, 0.5, 1.25, 2}, h.limits)
    assert.are.same({2, 4, 1, 1}, h.counts)
    assert.are.same({-1, 2, 8, 2.25}, {h.min, h.max, h.num, h.sum})
    local one = tf.histogram({3, 3, 3}, 10)
    assert.are.same({{3}, {3}}, {one.limits, one.counts})
    assert.are.same({{0}, {0}, 0}, {tf.histogram({}, 5).limits, tf.histogram({}, 5).counts, tf.histogram({}, 5).num})
    fails(function() tf.histogram({1}, 0) end, 'bins must be a positive integer')
    -- a tensor is bucketed by tensor reductions; the same buckets as its values' list
    local t = llm.randn(40, 25)
    local a, b = tf.histogram(t, 7), tf.histogram(t:reshape(1000):totable(), 7)
    assert.are.same({b.counts, b.num, b.min, b.max}, {a.counts, a.num, a.min, a.max})
    assert.is_true(math.abs(a.sum - b.sum) < 1e-3 and math.abs(a.sumSquares - b.sumSquares) < 1e-2)
    local withNaN = tf.histogram(llm.tensor({1, 0 / 0, 2, math.huge}), 2)
    assert.are.same({{1, 1}, 2}, {withNaN.counts, withNaN.num})
  end)

  it('the committed fixture is framed correctly and holds what tensorboard read from it', function()
    local root = debug.getinfo(1, 'S').source:match('^@(.*/)') .. '../Fixtures/observe/'
    local ev = tf.read(root .. 'events.out.tfevents.fixture')
    local want = llm.json.decode(readAll(root .. 'tensorboard_read.json'))
    local scalars, histos, texts = {}, {}, {}
    for _, e in ipairs(ev) do
      for _, v in ipairs(e.values or {}) do
        if v.simpleValue then scalars[#scalars + 1] = {e.step, v.simpleValue} end
        if v.histo then histos[#histos + 1] = v.histo end
        if v.text then texts[#texts + 1] = {e.step, v.text} end
      end
    end
    assert.are.same(want.scalars['train/loss'], scalars)
    local th = want.histograms['weights/w'][1]
    assert.are.same({th.limits, th.counts, th.num, th.min, th.max}, {histos[1].limits, histos[1].counts, histos[1].num, histos[1].min, histos[1].max})
    assert.are.same(want.text['samples/text'], texts)
    assert.are.same({'samples/text'}, want.plugins.text)
  end)
end)

-- a fake powercap folder: package zones intel-rapl:0 and :1 (with a subzone, not counted)
local function fakeRapl(dir, uj0, uj1)
  for _, z in ipairs{{'intel-rapl:0', uj0}, {'intel-rapl:1', uj1}, {'intel-rapl:0:0', 777}} do
    llm.makeDirs(dir .. '/' .. z[1])
    writeFile(dir .. '/' .. z[1] .. '/energy_uj', tostring(z[2]) .. '\n')
    writeFile(dir .. '/' .. z[1] .. '/max_energy_range_uj', '2000000\n')
  end
end

describe('energy and CO2', function()
  it('reads RAPL package zones and handles the counter wrapping at max_energy_range_uj', function()
    local dir = helpers.tmpdir('rapl')
    fakeRapl(dir, 1500000, 100)
    local m = assert(energy.rapl{root = dir})
    assert.are.equal('rapl', m.kind); assert.is_truthy(m.label:find('2 package zones'))
    assert.are.equal(0, m:read())
    fakeRapl(dir, 1900000, 2100)           -- +0.4 J and +0.002 J
    assert.is_true(math.abs(m:read() - 0.402) < 1e-12)
    fakeRapl(dir, 300000, 2100)            -- zone 0 wrapped: 2000000 - 1900000 + 300000 = 0.4 J
    assert.is_true(math.abs(m:read() - 0.802) < 1e-12)
    local none, why = energy.rapl{root = dir .. '/missing'}
    assert.is_nil(none); assert.is_truthy(why:find('no readable RAPL zone'))
    assert.are.equal('rapl', energy.meter{rapl = dir}.kind)
    -- the environment variable points the default reader at the folder (and the grid intensity)
    local code, stdout = cli.run({'-e', "local e = require('llm.observe.energy'); print(e.meter().kind, e.gridIntensity())"},
                                 {env = {LLMSCRIPT_RAPL_ROOT = dir, LLMSCRIPT_GRID_INTENSITY = '123'}})
    assert.are.equal(0, code); cli.has(stdout, 'rapl\t123')
  end)
  it('otherwise estimates from CPU time, labelled as an estimate', function()
    local cpu = 5
    local m = energy.meter{rapl = '/nonexistent-powercap', cpuTime = function() return cpu end}
    assert.are.equal('estimate', m.kind)
    assert.are.equal('estimate (CPU time x 10 W/core)', m.label)
    cpu = 7.5
    assert.are.equal(25, m:read())          -- 2.5 CPU-seconds x 10 W
    local m2 = energy.estimate{wattsPerCore = 4, cpuTime = function() return cpu end}
    cpu = 8.5
    assert.are.equal(4, m2:read())
    assert.are.equal('estimate', energy.meter{estimate = true}.kind)
    fails(function() energy.estimate{wattsPerCore = 0} end, 'wattsPerCore must be a positive number')
  end)
  it('converts joules to grams CO2e at a grid intensity', function()
    assert.are.equal(475, energy.co2(3.6e6, 475))            -- 1 kWh
    assert.are.equal(50, energy.co2(1.8e6, 100))             -- 0.5 kWh at 100 g/kWh
    assert.are.equal(0, energy.co2(1e6, 0))
    assert.are.equal(energy.defaultGridIntensity / 2, energy.co2(1.8e6))
    fails(function() energy.co2(1, -1) end, 'gridIntensity must be a non-negative number')
  end)
end)

describe('FLOPs and MFU', function()
  it('counts a GPT as 6·N + 12·L·T·d per token (by hand)', function()
    local m = nn.GPT{vocab = 65, blockSize = 32, layers = 2, heads = 4, dim = 64}
    -- per block: qkv 64x192, proj 64x64, fc 64x256, proj 256x64; the LM head 64x65 (tied to the embedding)
    local N = 2 * (64 * 192 + 64 * 64 + 64 * 256 + 256 * 64) + 64 * 65
    local total, parts = flops.perToken(m, 32)
    assert.are.equal(6 * N + 12 * 2 * 32 * 64, total)
    assert.are.same({6 * N, 12 * 2 * 32 * 64}, {parts.matmul, parts.attention})
    assert.are.equal(6 * N + 12 * 2 * 8 * 64, flops.perToken(m, 8))      -- shorter sequences: less attention
    local win = nn.GPT{vocab = 65, blockSize = 32, layers = 2, heads = 4, dim = 64, window = 4}
    assert.are.equal(6 * N + 12 * 2 * 4 * 64, flops.perToken(win, 32))   -- sliding window: T' = 4
    fails(function() flops.perToken(m, 0) end, 'T must be a positive integer')
    fails(function() flops.perToken({}, 4) end, 'expected an nn.Module')
  end)
  it('measures a matmul peak once and computes MFU', function()
    local p = flops.peak{n = 64, reps = 2}
    assert.is_true(p > 0)
    assert.are.equal(p, flops.peak{n = 64, reps = 2})                   -- cached
    assert.are.equal(0.1, flops.mfu(1e9, 1, 1e10))
    assert.is_nil(flops.mfu(1e9, 0, 1e10))
  end)
end)

-- a tiny model and data for Trainer runs
local function trainer(opts)
  llm.manualSeed(3)
  local m = nn.GPT{vocab = 16, blockSize = 8, layers = 1, heads = 2, dim = 16}
  local data = llm.randint(0, 16, {8, 9})
  local src = {i = 0}
  function src:next() self.i = self.i % 8 + 1; local r = data[self.i]:reshape(1, 9); return r:narrow(2, 1, 8), r:narrow(2, 2, 8) end
  function src:state() return {i = self.i} end
  function src:setState(s) self.i = s.i end
  local val = {numBatches = function() return 1 end, batch = function() local r = data[1]:reshape(1, 9); return r:narrow(2, 1, 8), r:narrow(2, 2, 8) end}
  local o = {model = m, optimizer = optim.AdamW(m:parameters(), {lr = 1e-2}), train = src, val = val, steps = 4, logEvery = 2, progress = false}
  for k, v in pairs(opts) do o[k] = v end
  return llm.Trainer(o), m
end

describe('the observe extension', function()
  it('adds FLOPs, MFU, energy and CO2 to the metrics and the progress line; writes TensorBoard files', function()
    local dir = helpers.tmpdir('obs')
    fakeRapl(dir .. '/rapl', 0, 0)
    local samples = 0
    local t, m = trainer{metrics = dir .. '/metrics.jsonl',
      observe = {tensorboard = true, histograms = 2, peak = 1e9, rapl = dir .. '/rapl', gridIntensity = 360,
                 sample = function(_, step) samples = samples + 1; return 'text at ' .. step end, sampleEvery = 2}}
    local out, r = helpers.captured(function() return t:run() end)
    assert.is_truthy(out:find('| MFU [%d.]+%% |'))
    assert.is_truthy(out:find('J/step, [%d.e%-]+ g CO2'))
    assert.is_falsy(out:find('(est.)', 1, true))
    local recs = {}
    for line in io.lines(dir .. '/metrics.jsonl') do recs[#recs + 1] = llm.json.decode(line) end
    local tr = recs[1]
    assert.are.same({'train', 2, 'rapl'}, {tr.type, tr.step, tr.energySource})
    assert.are.equal(8 * flops.perToken(m, 8), tr.flops)              -- one (1, 8) batch per step: 8 tokens
    assert.is_true(tr.mfu > 0 and tr.time > 1.6e9)
    assert.are.same({0, 0}, {tr.joules, tr.energyJ})                  -- the fake counters did not move
    assert.are.same({0, 0, 'rapl'}, {r.joules, r.co2g, r.energySource})
    assert.are.equal(2, samples)
    -- the event file: scalars of every step, histograms at steps 2 and 4, the text samples, val loss
    local files = listDir(dir .. '/tensorboard')
    assert.are.equal(1, #files)
    local tags = {}
    for _, e in ipairs(tf.read(dir .. '/tensorboard/' .. files[1])) do
      for _, v in ipairs(e.values or {}) do tags[v.tag] = (tags[v.tag] or 0) + 1 end
    end
    assert.are.same({4, 4, 4, 1, 2, 2, 2}, {tags['train/loss'], tags['perf/mfu'], tags['energy/joulesPerStep'], tags['val/loss'],
      tags['weights/tokEmb.weight'], tags['grads/blocks.1.attn.qkv.weight'] or tags['grads/tokEmb.weight'], tags['samples/text']})
  end)

  it('labels estimated energy, counts it on after resume, and returns the run joules for tuning', function()
    local dir = helpers.tmpdir('obsest')
    local t = trainer{checkpointDir = dir, metrics = dir .. '/metrics.jsonl', observe = {estimate = true, flops = false}}
    local out, r = helpers.captured(function() return t:run() end)
    assert.is_truthy(out:find('J/step (est.)', 1, true))
    assert.is_falsy(out:find('MFU', 1, true))
    assert.are.equal('estimate', r.energySource)
    assert.is_true(r.joules > 0)
    assert.are.equal(r.joules, llm.observe.joules(t))
    local t2 = trainer{checkpointDir = dir, metrics = dir .. '/metrics.jsonl', steps = 6, observe = {estimate = true}}
    local state = t2:resume(dir)
    local saved = llm.observe.joules(t2)
    assert.are.equal(state.extensions.observe.joules, saved)       -- the count at the step-4 checkpoint
    assert.is_true(saved > 0 and saved <= r.joules)
    local _, r2 = helpers.captured(function() return t2:run() end)
    assert.is_true(r2.joules > saved)
    assert.is_nil(llm.observe.joules(trainer{}))
  end)

  it('writes nothing on a non-primary process; rejects bad options', function()
    local dir = helpers.tmpdir('obsworker')
    local t = trainer{extensions = {{name = 'worker', primary = false}}, observe = {tensorboard = dir .. '/tb'}}
    helpers.captured(function() return t:run() end)
    assert.are.equal(0, #listDir(dir .. '/tb'))
    fails(function() llm.observe{tensorbord = 'x'} end, "unknown option 'tensorbord'")
    fails(function() llm.observe{histograms = -1} end, "Invalid 'histograms'")
    fails(function() llm.observe{peak = 0} end, "Invalid 'peak'")
    fails(function() llm.observe{gridIntensity = -5} end, 'gridIntensity')
    fails(function() trainer{observe = {sample = 1}} end, "Invalid 'sample'")
    local t2 = trainer{observe = {tensorboard = true}}
    fails(function() helpers.captured(function() return t2:run() end) end, 'needs a run folder')
  end)
end)

local function svgOK(svg)
  assert.is_truthy(svg:match('^<svg xmlns="http://www.w3.org/2000/svg"'))
  assert.is_truthy(svg:match('</svg>\n$'))
  local _, open = svg:gsub('<svg[ >]', ''); local _, close = svg:gsub('</svg>', '')
  assert.are.equal(open, close)
  local _, gOpen = svg:gsub('<g[ >]', ''); local _, gClose = svg:gsub('</g>', '')
  assert.are.equal(gOpen, gClose)
  assert.is_falsy(svg:find('"%-?nan"') or svg:find('"%-?inf"') or svg:find('[ ,]%-?nan') or svg:find('[ ,]%-?inf'))
end

describe('llmscript plot', function()
  local function run(dir, lrScale)
    llm.makeDirs(dir)
    local f = assert(io.open(dir .. '/metrics.jsonl', 'w'))
    for step = 2, 10, 2 do
      f:write(llm.json.encode{type = 'train', step = step, loss = 3 / step, lr = 1e-3 * lrScale, tokensPerSec = 100 * step,
                              energyJ = step * 1.5, energySource = 'estimate', mfu = 0.01, co2g = step * 1e-4, time = 1.7e9 + step}, '\n')
    end
    f:write(llm.json.encode{type = 'eval', step = 10, valLoss = 0.4}, '\n')
    f:write(llm.json.encode{type = 'train', step = 10, loss = 0.25, lr = 1e-3, replay = true}, '\n')   -- the latest record wins
    f:close()
    return dir
  end
  it('draws one run and two runs into valid SVG files', function()
    local root = helpers.tmpdir('plot')
    local a, b = run(root .. '/runA', 1), run(root .. '/runB', 2)
    local data = runplot.read(a .. '/metrics.jsonl')
    assert.are.same({5, 1, 0.25}, {#data.train, #data.eval, data.train[5].loss})
    local one = runplot.plot({{name = 'runA', data = data}})
    svgOK(one)
    local _, charts = one:gsub('<g transform=', '')
    assert.are.equal(4, charts)
    for _, title in ipairs{'>Loss<', '>Learning rate<', '>Throughput<', '>Energy (estimate)<', 'runA val', 'stroke-dasharray'} do
      assert.is_truthy(one:find(title, 1, true), title)
    end
    local _, lines = one:gsub('<polyline', '')
    assert.are.equal(4, lines)                  -- train loss, lr, tokens/s, energy
    assert.is_truthy(one:find('<circle', 1, true))  -- the one val point: a marker
    local function main(args) local _, rc = helpers.captured(function() return runplot.main(args) end); return rc end
    assert.are.equal(0, main({a, '--out', root .. '/one.svg'}))
    svgOK(readAll(root .. '/one.svg'))
    assert.are.equal(0, main({a}))              -- default: RUN/plot.svg
    svgOK(readAll(a .. '/plot.svg'))
    assert.are.equal(0, main({a, b .. '/metrics.jsonl', '--out=' .. root .. '/two.svg', '--metrics', 'loss,mfu,co2'}))
    local two = readAll(root .. '/two.svg')
    svgOK(two)
    assert.is_truthy(two:find('runs runA, runB', 1, true))
    assert.is_truthy(two:find('>MFU<', 1, true) and two:find('>CO2 (estimate)<', 1, true))
    local _, lines2 = two:gsub('<polyline', '')
    assert.are.equal(6, lines2)                 -- train loss x 2, mfu x 2, co2 x 2 (val: one point each)
  end)
  it('runs as `llmscript plot`; bad input: usage (2), unreadable runs and unknown metrics (1)', function()
    local root = helpers.tmpdir('plotbad')
    local a = run(root .. '/runC', 1)
    local code, stdout = cli.run({'plot', a, '--out', root .. '/c.svg'})
    assert.are.equal(0, code); cli.has(stdout, 'wrote ' .. root .. '/c.svg')
    svgOK(readAll(root .. '/c.svg'))
    local err, _
    code, _, err = cli.run({'plot'})
    assert.are.equal(2, code); cli.has(err, 'no RUN given', 'usage: llmscript plot RUN [RUN...]')
    code, _, err = cli.run({'plot', root, '--colour'})
    assert.are.equal(2, code); cli.has(err, "unknown option '--colour'")
    code, _, err = cli.run({'plot', root .. '/missing'})
    assert.are.equal(1, code); cli.has(err, 'is neither a metrics JSONL file nor a run folder with metrics.jsonl')
    writeFile(root .. '/m.jsonl', '{"type":"train","step":1,"loss":1}\n')
    code, _, err = cli.run({'plot', root .. '/m.jsonl', '--metrics', 'bogus'})
    assert.are.equal(1, code); cli.has(err, "unknown metric 'bogus'; expected one of: co2, energy, loss, lr, mfu, tokensPerSec")
    writeFile(root .. '/bad.jsonl', 'not json\n')
    fails(function() runplot.read(root .. '/bad.jsonl') end, 'bad.jsonl:1: not a JSON record')
    svgOK(runplot.plot({}, {metrics = {'loss'}}))   -- no data still renders
  end)
end)

describe('PII: SSNs, IBANs, international e-mail, version numbers', function()
  local pii = llm.data.pii
  it('masks SSNs and IBANs that pass their checks', function()
    local t, c = pii.scrub('SSN 123-45-6789, not 666-12-3456; IBAN DE89 3704 0044 0532 0130 00, GB82WEST12345698765432, not GB82 WEST 1234 5698 7654 33.')
    assert.are.equal('SSN <SSN>, not 666-12-3456; IBAN <IBAN>, <IBAN>, not GB82 WEST 1234 5698 7654 33.', t)
    assert.are.same({ssn = 1, iban = 2}, c)
    assert.is_true(pii.iban('GB82 WEST 1234 5698 7654 32')); assert.is_false(pii.iban('GB82 WEST 1234 5698 7654 33'))
    assert.is_true(pii.ssn('123-45-6789')); assert.is_false(pii.ssn('900-12-3456'))
    assert.are.equal('123-45-6789', (pii.scrub('123-45-6789', {kinds = {'email', 'iban'}})))
  end)
  it('masks international addresses and keeps dotted quads after version words', function()
    local t, c = pii.scrub('josé@bücher.de, δοκιμή@παράδειγμα.δοκιμή, 用户@例子.广告; 请联系alice@x.com谢谢')
    assert.are.equal('<EMAIL>, <EMAIL>, <EMAIL>; 请联系<EMAIL>谢谢', t)
    assert.are.same({email = 4}, c)
    t, c = pii.scrub('version 1.2.3.4, ver 10.0.0.1, v. 4.3.2.1; but host 10.0.0.1')
    assert.are.equal('version 1.2.3.4, ver 10.0.0.1, v. 4.3.2.1; but host <IP>', t)
    assert.are.same({ip = 1}, c)
  end)
end)
