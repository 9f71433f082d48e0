-- instruct_spec.lua: instruction fine-tuning data (llm.data.instructions, llm/instruct.lua): the chat
-- template's pieces with the assistant turns as the only targets, the masked loss equal to the loss over
-- the answer tokens alone, packing with segment ids and restarting positions equal to the unpacked
-- examples' losses (nn.GPT with learned positions, nn.Llama with RoPE), resume state, LoRA training.
-- Run: llmscript test Tests/lua/instruct_spec.lua
local instruct = require 'llm.instruct'

local records = {
  {prompt = 'add 2 3', response = '5'},
  {instruction = 'reverse', input = 'abc', output = 'cba'},
  {system = 'be brief', prompt = 'hi', response = 'hello'},
  {messages = {{role = 'user', content = 'x?'}, {role = 'assistant', content = 'y'},
               {role = 'user', content = 'z?'}, {role = 'assistant', content = 'w!'}}},
}

local function close(a, b, tol, what)
  assert(math.abs(a - b) <= (tol or 1e-4), string.format('%s: %.7f vs %.7f', what or 'value', a, b))
end

describe('llm.data.instructions', function()
  local tok = llm.data.ByteTokenizer()

  it('renders with the chat templates; only the assistant contents and end markers are trained on', function()
    local msgs = records[4].messages
    local want = {
      plain = {{'User: x?\n', false}, {'Assistant:', false}, {' y\n', true}, {'User: z?\n', false}, {'Assistant:', false}, {' w!\n', true}},
      chatml = {{'<|im_start|>user\nx?<|im_end|>\n', false}, {'<|im_start|>assistant\n', false}, {'y<|im_end|>\n', true},
                {'<|im_start|>user\nz?<|im_end|>\n', false}, {'<|im_start|>assistant\n', false}, {'w!<|im_end|>\n', true}},
      llama = {{'<s>[INST] x? [/INST]', false}, {' y </s>', true}, {'<s>[INST] z? [/INST]', false}, {' w! </s>', true}},
    }
    for name, pieces in pairs(want) do
      local got = {}
      for i, p in ipairs(instruct.pieces(msgs, name)) do got[i] = {p.text, p.train} end
      assert.are.same(pieces, got, name)
      local text = {}
      for i, p in ipairs(pieces) do text[i] = p[1] end
      assert.are.equal(require('llm.chat').render(msgs, {template = name, addGenerationPrompt = false}), table.concat(text))
    end
  end)

  it('targets are -100 on prompt tokens and padding, the next token on answer tokens', function()
    local d = llm.data.instructions({records[1]}, {tokenizer = tok, blockSize = 32, batchSize = 1, shuffle = false})
    local x, y, opts = d:batch(1)
    assert.is_nil(opts)
    local xs, ys = x:totable()[1], y:totable()[1]
    local prompt = #'User: add 2 3\nAssistant:'
    local answer = ' 5\n'
    for j = 1, prompt - 1 do assert.are.equal(-100, ys[j], 'prompt position ' .. j) end
    for j = 1, #answer do assert.are.equal(answer:byte(j), ys[prompt - 1 + j]) end
    for j = prompt + #answer, 32 do assert.are.equal(-100, ys[j]); end
    assert.are.equal(('U'):byte(), xs[1])
  end)

  it('the masked loss equals the loss over the answer tokens only', function()
    llm.manualSeed(11)
    local model = nn.GPT{vocab = 256, blockSize = 64, layers = 1, heads = 2, dim = 16}
    local d = llm.data.instructions(records, {tokenizer = tok, blockSize = 64, batchSize = 4, shuffle = false})
    local x, y = d:batch(1)
    local logits, loss = model(x, y)
    local ce = llm.crossEntropy(logits, y:clamp(0, nil), {reduction = 'none'}):totable()
    local total, n = 0, 0
    for b, row in ipairs(y:totable()) do
      for t, target in ipairs(row) do if target ~= -100 then total, n = total + ce[b][t], n + 1 end end
    end
    assert.are.equal(#' 5\n' + #' cba\n' + #' hello\n' + #' y\n' + #' w!\n', n)
    close(loss:item(), total / n, 1e-5, 'masked loss')
  end)

  for _, arch in ipairs({'gpt', 'llama'}) do
    it('packing with segments gives the unpacked examples\' losses (' .. arch .. ')', function()
      llm.manualSeed(12)
      local model = arch == 'gpt' and nn.GPT{vocab = 256, blockSize = 96, layers = 2, heads = 2, dim = 16}
        or nn.Llama{vocab = 256, dim = 16, layers = 2, heads = 2, kvHeads = 1, maxSeq = 96, multipleOf = 8}
      local packed = llm.data.instructions(records, {tokenizer = tok, blockSize = 96, batchSize = 4, pack = true, shuffle = false})
      local single = llm.data.instructions(records, {tokenizer = tok, blockSize = 96, batchSize = 4, shuffle = false})
      assert.is_true(#packed.rows < #single.rows)
      local function total(src)
        local sum = 0
        for i = 1, src:numBatches() do
          local x, y, opts = src:batch(i)
          sum = sum + llm.crossEntropy(model(x, nil, opts), y, {ignoreIndex = -100, reduction = 'sum'}):item()
        end
        return sum
      end
      local a, b = total(packed), total(single)
      close(a, b, 1e-3 * math.abs(b), 'summed loss packed vs unpacked')
      -- and without the segment mask the packed rows see earlier examples: a different loss
      local x, y, opts = packed:batch(1)
      local leaky = llm.crossEntropy(model(x, nil, {positions = opts.positions}), y, {ignoreIndex = -100, reduction = 'sum'}):item()
      local exact = llm.crossEntropy(model(x, nil, opts), y, {ignoreIndex = -100, reduction = 'sum'}):item()
      assert(math.abs(leaky - exact) > 1e-4, 'segments matter')
    end)
  end

  it('shuffles per epoch from the seed and resumes from state()', function()
    local d = llm.data.instructions(records, {tokenizer = tok, blockSize = 48, batchSize = 3, seed = 5})
    d:next()
    local s = d:state()
    local x1 = d:next():totable()
    local e = llm.data.instructions(records, {tokenizer = tok, blockSize = 48, batchSize = 3, seed = 5})
    e:setState(s)
    assert.are.same(x1, e:next():totable())
  end)

  it('cuts examples longer than blockSize + 1 and names bad input', function()
    local d = llm.data.instructions({{prompt = string.rep('a', 40), response = 'b'}}, {tokenizer = tok, blockSize = 16})
    assert.are.equal(1, d.truncated)
    local ok, err = pcall(llm.data.instructions, {{text = 'x'}}, {tokenizer = tok, blockSize = 16})
    assert.is_false(ok); assert.truthy(tostring(err):find('record 1 needs prompt/response', 1, true))
    ok, err = pcall(llm.data.instructions, records, {tokenizer = tok, blockSize = 16, template = 'nope'})
    assert.is_false(ok); assert.truthy(tostring(err):find("unknown template 'nope'", 1, true))
    ok, err = pcall(llm.data.instructions, records, {tokenizer = tok, blockSize = 16, packing = true})
    assert.is_false(ok); assert.truthy(tostring(err):find("unknown option 'packing'", 1, true))
  end)

  it('trains LoRA adapters on packed instruction data (only the adapters change)', function()
    llm.manualSeed(13)
    local model = nn.GPT{vocab = 256, blockSize = 64, layers = 1, heads = 2, dim = 16}
    local before = model.tokEmb.weight:clone()
    nn.lora(model, {rank = 4, targets = {'attn.qkv', 'attn.proj'}})
    local d = llm.data.instructions(records, {tokenizer = tok, blockSize = 64, batchSize = 2, pack = true, template = 'chatml'})
    local opt = optim.AdamW(model:parameters(), {lr = 3e-2, weightDecay = 0})
    local first, last
    for step = 1, 25 do
      local x, y, opts = d:batch(1)
      local _, loss = model(x, y, opts)
      opt:zeroGrad(); loss:backward(); opt:step()
      if step == 1 then first = loss:item() end
      last = loss:item()
    end
    assert(last < first, string.format('loss %.4f -> %.4f', first, last))
    close((model.tokEmb.weight - before):abs():max():item(), 0, 0, 'frozen embedding')
  end)
end)
