-- reproducibility_spec.lua: the same seed gives the same model in every process. The default recipe
-- (recipes/gpt-char.lua, tiny flags, dropout on) runs in two separate llmscript processes with the same
-- seed and thread count; the saved parameters must be bit-identical (the model.safetensors bytes) and
-- every logged loss equal (==). In-process: pairs() over namedParameters()/stateDict() visits the
-- paths in module order (Lua's hash order differs per process; GPT init used to draw in that order).
-- Run: llmscript test Tests/lua/reproducibility_spec.lua

local helpers = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'helpers.lua')
teardown(helpers.removeTmpdirs)

local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local gptChar = here .. '../../recipes/gpt-char.lua'

local shq = helpers.shq

local function readAll(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('a'); f:close()
  return s
end

describe('reproducibility', function()
  it('pairs() over namedParameters() and stateDict() follows the module order', function()
    local model = nn.GPT{vocab = 7, blockSize = 4, layers = 2, heads = 2, dim = 4}
    local names, i = model:parameterNames(), 0
    for path in pairs(model:namedParameters()) do i = i + 1; assert.are.equal(names[i], path) end
    assert.are.equal(#names, i)
    local seen = {}
    for path in pairs(model:stateDict()) do seen[#seen + 1] = path end
    assert.are.same({'tokEmb.weight', 'posEmb.weight', 'blocks.0.ln1.weight'}, {seen[1], seen[2], seen[3]})
    assert.are.equal('head.weight', seen[#seen])     -- the tied head, under its own path, last
    -- keys added by the caller are still visited (after the ordered ones)
    local sd = model:stateDict()
    sd.extra = 1
    local last
    for k in pairs(sd) do last = k end
    assert.are.equal('extra', last)
  end)

  it('the same recipe, seed and thread count in two processes gives bit-identical parameters and equal losses', function()
    local dir = helpers.tmpdir('repro')
    helpers.syntheticCorpus(dir, {'the', 'fox', 'dog', 'runs', 'over', 'lazy', 'red'}, 120, 8, 7)
    local function run(out)
      local cmd = table.concat({shq(helpers.binary()), '--threads=2', shq(gptChar), '--corpus=' .. shq(dir .. '/corpus.txt'),
        '--steps=6', '--layers=1', '--dim=16', '--heads=2', '--blockSize=16', '--batchSize=4', '--dropout=0.1',
        '--evalEvery=3', '--evalBatches=1', '--logEvery=1', '--samples=0', '--seed=99', '--out=' .. shq(out)}, ' ')
      assert.is_true(os.execute(cmd .. ' >/dev/null 2>&1'), cmd)
      local losses = {}
      for line in io.lines(out .. '/metrics.jsonl') do
        local r = llm.json.decode(line)
        losses[#losses + 1] = r.type .. ':' .. r.step .. ':' .. string.format('%.17g', r.loss or r.valLoss)
      end
      return readAll(out .. '/step-000006/model.safetensors'), losses, llm.checkpoint.read(out .. '/step-000006')
    end
    local bytesA, lossesA, ckA = run(dir .. '/a')
    local bytesB, lossesB, ckB = run(dir .. '/b')
    assert.are.equal(6 + 2, #lossesA)
    assert.are.same(lossesA, lossesB)
    assert(bytesA == bytesB, 'model.safetensors differs between the two processes')
    -- the optimizer state too, tensor by tensor, compared with ==
    for name, t in pairs(ckA['optimizer.safetensors']) do
      local a, b = t:reshape(t:numel()):totable(), ckB['optimizer.safetensors'][name]:reshape(t:numel()):totable()
      for k = 1, #a do assert(a[k] == b[k], name .. ' differs at ' .. k) end
    end
  end)
end)
