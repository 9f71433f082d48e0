-- data_recipes_spec: recipes/prepare-data.lua (clean, filter, dedup, BPE, shards) on a small corpus of
-- English and Chinese quotes, then recipes/gpt-bpe.lua training a few steps on its shards and resuming.
-- The recipes run in this state through dofile with `arg` set as the command line would set it.
local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
local root = here .. '../../'

local function tmpdir()
  local p = os.tmpname(); os.remove(p); llm.makeDirs(p); return p
end

local function runRecipe(name, args)
  local saved = rawget(_G, 'arg')
  rawset(_G, 'arg', args)
  local ok, result = pcall(dofile, root .. 'recipes/' .. name)
  rawset(_G, 'arg', saved)
  if not ok then error(result, 0) end
  return result
end

local function corpus()
  local dir = tmpdir()
  local f = assert(io.open(dir .. '/quotes', 'w'))
  local quotes = {}
  for i = 1, 60 do
    quotes[#quotes + 1] = string.format('Quote number %d: the quick brown fox jumps over the lazy dog %d times, '
      .. 'and write to me at fox%d@example.com about it.', i, i * 7, i)
  end
  quotes[#quotes + 1] = quotes[1]                               -- an exact duplicate
  quotes[#quotes + 1] = 'Too short.'                             -- dropped by length
  for i = 1, 20 do quotes[#quotes + 1] = string.format('学而时习之，不亦说乎？有朋自远方来，不亦乐乎？第%d条。', i) end
  f:write(table.concat(quotes, '\n%\n'), '\n')
  f:close()
  return dir
end

describe('data recipes', function()
  it('prepare-data cleans, dedups, tokenizes and shards; gpt-bpe trains on the shards and resumes', function()
    local input, out = corpus(), tmpdir()
    local report = runRecipe('prepare-data.lua', {'--input=' .. input, '--out=' .. out, '--vocab=300', '--minChars=15', '--valFraction=0.2'})
    assert.are.equal(82, report.read)
    assert.is_true(report.dropped >= 2)                          -- the duplicate and the short quote
    local rejects = io.open(out .. '/rejects.jsonl'):read('a')
    assert.truthy(rejects:find('Too short', 1, true))
    assert.truthy(rejects:find('exactDedup', 1, true))
    local clean = io.open(out .. '/clean.jsonl'):read('a')
    assert.truthy(clean:find('<EMAIL>', 1, true))                 -- PII scrubbed
    assert.truthy(clean:find('学而时习之', 1, true))               -- Chinese kept
    local tok = llm.data.BPETokenizer.fromFile(out .. '/tokenizer.json')
    assert.are.equal('学而时习之，不亦说乎？', tok:decode(tok:encode('学而时习之，不亦说乎？')))

    local run = tmpdir()
    local common = {'--data=' .. out, '--out=' .. run, '--layers=1', '--dim=16', '--heads=2', '--blockSize=8',
                    '--batchSize=2', '--warmup=1', '--evalEvery=2', '--evalBatches=1', '--checkpointEvery=2',
                    '--samples=1', '--sampleTokens=5', '--logEvery=1'}
    local args = {table.unpack(common)}
    args[#args + 1] = '--steps=4'
    runRecipe('gpt-bpe.lua', args)
    assert.truthy(llm.checkpoint.latest(run):find('step%-000004'))
    args = {table.unpack(common)}
    args[#args + 1] = '--steps=6'
    args[#args + 1] = '--resume=' .. run
    runRecipe('gpt-bpe.lua', args)
    assert.truthy(llm.checkpoint.latest(run):find('step%-000006'))
  end)
end)
