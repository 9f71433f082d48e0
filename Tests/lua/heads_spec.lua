-- heads_spec.lua: the supervised heads (nn.SequenceClassifier, nn.TokenClassifier on nn.GPT / nn.Llama
-- trunks: pooling over non-padding tokens, per-token logits, class weights in the loss, a trunk loaded from
-- a state dict, LoRA), nn.crossEntropy's class weights (value and gradient check), and llm.metrics against
-- seqeval / scikit-learn (Tests/Fixtures/seqeval_cases.json, scripts/reference/make_seqeval_fixtures.py).
-- Run: llmscript test Tests/lua/heads_spec.lua
local root = debug.getinfo(1, 'S').source:match('^@(.*/)') .. '../../'

local function ids(rows) return llm.tensor(rows, {dtype = 'int64'}) end

local function close(a, b, tol, what)
  assert(math.abs(a - b) <= (tol or 1e-5), string.format('%s: %.8f vs %.8f', what or 'value', a, b))
end

local function tinyGPT() return nn.GPT{vocab = 20, blockSize = 8, layers = 1, heads = 2, dim = 16} end

describe('nn.crossEntropy with class weights', function()
  it('weighs each target by its class weight and divides by the weights of the kept targets (PyTorch semantics)', function()
    llm.manualSeed(1)
    local logits = llm.randn(2, 3, 5)
    local t = ids({{0, 1, -100}, {2, -100, 4}})
    local w = {1, 2, 3, 1, 0.5}
    local ce = llm.crossEntropy(logits, t, {ignoreIndex = -100, reduction = 'none'}):totable()
    local want = (ce[1][1] * 1 + ce[1][2] * 2 + ce[2][1] * 3 + ce[2][3] * 0.5) / (1 + 2 + 3 + 0.5)
    close(nn.crossEntropy(logits, t, {ignoreIndex = -100, weight = w}):item(), want, 1e-5, 'weighted mean')
    close(nn.crossEntropy(logits, t, {ignoreIndex = -100, weight = {1, 1, 1, 1, 1}}):item(),
      llm.crossEntropy(logits, t, {ignoreIndex = -100}):item(), 1e-6, 'unit weights')
    close(nn.crossEntropy(logits, t, {ignoreIndex = -100, weight = w, reduction = 'sum'}):item(), want * 6.5, 1e-4, 'sum')
  end)

  it('passes the gradient check', function()
    llm.manualSeed(2)
    local logits = llm.randn(4, 3):requiresGrad_()
    local ok, report = llm.gradcheck(function(x) return nn.crossEntropy(x, ids({0, 2, 1, 2}), {weight = {0.2, 1, 3}}) end, {logits})
    assert(ok, report)
  end)

  it('names a weight of the wrong length', function()
    local ok, err = pcall(nn.crossEntropy, llm.randn(2, 3), ids({0, 1}), {weight = {1, 2}})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("Invalid 'weight': expected 3 per-class weights", 1, true))
  end)
end)

describe('nn.SequenceClassifier', function()
  it("'last' pooling reads the last non-padding token: a padded row equals the row alone", function()
    llm.manualSeed(3)
    local clf = nn.SequenceClassifier{trunk = tinyGPT(), classes = {'a', 'b', 'c'}}
    local padded = clf(ids({{1, 2, 3, 0}, {4, 5, 0, 0}}), nil, {mask = llm.tensor({{1, 1, 1, 0}, {1, 1, 0, 0}})}):totable()
    local alone = clf(ids({{4, 5}})):totable()
    for j = 1, 3 do close(padded[2][j], alone[1][j], 1e-5, 'class ' .. j) end
    assert.are.same({'a', 'b', 'c'}, clf.names)
  end)

  it("'mean' pooling averages the non-padding tokens' hidden states", function()
    llm.manualSeed(4)
    local trunk = tinyGPT()
    local clf = nn.SequenceClassifier{trunk = trunk, classes = 3, pooling = 'mean'}
    local x = ids({{4, 5, 6, 0}})
    local got = clf(x, nil, {mask = llm.tensor({{1, 1, 1, 0}})}):totable()
    local h = trunk:hiddenStates(ids({{4, 5, 6}})):mean(2)
    local want = clf.head(h):totable()
    for j = 1, 3 do close(got[1][j], want[1][j], 1e-5, 'class ' .. j) end
  end)

  it('trains on a separable toy task with class weights and gradients reach the trunk', function()
    llm.manualSeed(5)
    local trunk = tinyGPT()
    local clf = nn.SequenceClassifier{trunk = trunk, classes = 2, weight = {1, 3}}
    local x, y = ids({{1, 2, 3}, {7, 8, 9}, {1, 3, 2}, {9, 7, 8}}), ids({0, 1, 0, 1})
    local opt = optim.AdamW(clf:parameters(), {lr = 1e-2, weightDecay = 0})
    local first, last
    for step = 1, 30 do
      local _, loss = clf(x, y)
      opt:zeroGrad(); loss:backward(); opt:step()
      if step == 1 then first = loss:item() end
      last = loss:item()
      assert(trunk.tokEmb.weight.grad, 'the trunk gets gradients')
    end
    assert(last < first * 0.5, string.format('loss %.4f -> %.4f', first, last))
    assert.are.same({0, 1, 0, 1}, clf:predict(x))
  end)

  it('works on an nn.Llama trunk and on a trunk loaded from a state dict (a pretrained model)', function()
    llm.manualSeed(6)
    local llama = nn.Llama{vocab = 20, dim = 16, layers = 1, heads = 2, kvHeads = 1, maxSeq = 8, multipleOf = 8}
    local logits = nn.SequenceClassifier{trunk = llama, classes = 4}(ids({{1, 2, 3}}))
    assert.are.same({1, 4}, logits:shape())
    local pretrained = tinyGPT()
    local loaded = tinyGPT()
    loaded:loadStateDict(pretrained:stateDict())
    llm.manualSeed(7)
    local a = nn.TokenClassifier{trunk = pretrained, labels = 3}
    llm.manualSeed(7)
    local b = nn.TokenClassifier{trunk = loaded, labels = 3}
    local x = ids({{1, 2, 3, 4}})
    local ga, gb = a(x):totable(), b(x):totable()
    for t = 1, 4 do for j = 1, 3 do close(ga[1][t][j], gb[1][t][j], 1e-6) end end
  end)

  it('on a trunk imported from a Hugging Face GPT-2 folder (nn.GPT.fromPretrained), fine-tuned with its tokenizer', function()
    llm.manualSeed(14)
    local trunk, tok = nn.GPT.fromPretrained(root .. 'Tests/Fixtures/export/hf_gpt2')
    local clf = nn.SequenceClassifier{trunk = trunk, classes = {'neg', 'pos'}, pooling = 'mean'}
    local rows = {}
    for i, text in ipairs({'bad day', 'good day'}) do rows[i] = tok:encode(text):totable() end
    local x, mask = require('llm.supervised').pad(rows, 8)
    -- the trunk's own LM logits are its head over hiddenStates
    local lm = trunk(x)
    local viaHidden = trunk.head(trunk:hiddenStates(x))
    close((lm - viaHidden):abs():max():item(), 0, 1e-5, 'hiddenStates + head = forward')
    local opt = optim.AdamW(clf:parameters(), {lr = 5e-3, weightDecay = 0})
    local first, last
    for step = 1, 15 do
      local _, loss = clf(x, ids({0, 1}), {mask = mask})
      opt:zeroGrad(); loss:backward(); opt:step()
      if step == 1 then first = loss:item() end
      last = loss:item()
    end
    assert(last < first, string.format('loss %.4f -> %.4f', first, last))
  end)

  it('with nn.lora only the adapters (and an unfrozen head) train', function()
    llm.manualSeed(8)
    local clf = nn.SequenceClassifier{trunk = tinyGPT(), classes = 2}
    nn.lora(clf, {rank = 2, targets = {'attn.qkv'}})
    clf.head.weight:requiresGrad_(true); clf.head.bias:requiresGrad_(true)
    local _, loss = clf(ids({{1, 2, 3}}), ids({1}))
    loss:backward()
    assert.truthy(clf.head.weight.grad)
    assert.truthy(clf.trunk.blocks[1].attn.qkv.lora_B.weight.grad)
    assert.is_nil(clf.trunk.tokEmb.weight.grad)   -- frozen
  end)

  it('rejects a bad trunk, class count and pooling with a clear error', function()
    local ok, err = pcall(nn.SequenceClassifier, {trunk = {}, classes = 2})
    assert.is_false(ok); assert.truthy(tostring(err):find("Invalid 'trunk'", 1, true))
    ok, err = pcall(nn.SequenceClassifier, {trunk = tinyGPT(), classes = 1})
    assert.is_false(ok); assert.truthy(tostring(err):find("Invalid 'classes'", 1, true))
    ok, err = pcall(nn.SequenceClassifier, {trunk = tinyGPT(), classes = 2, pooling = 'max'})
    assert.is_false(ok); assert.truthy(tostring(err):find("Invalid 'pooling'", 1, true))
  end)
end)

describe('nn.TokenClassifier', function()
  it('gives per-token logits and ignores targets of -100 (padding)', function()
    llm.manualSeed(9)
    local tc = nn.TokenClassifier{trunk = tinyGPT(), labels = {'O', 'B-X', 'I-X'}}
    local x = ids({{1, 2, 3, 0}})
    local logits, loss = tc(x, ids({{0, 1, 2, -100}}))
    assert.are.same({1, 4, 3}, logits:shape())
    local want = llm.crossEntropy(logits:narrow(2, 1, 3), ids({{0, 1, 2}})):item()
    close(loss:item(), want, 1e-5, 'loss over the labelled tokens')
    assert.are.equal(4, #tc:predict(x)[1])
  end)
end)

describe('llm.metrics', function()
  local fixtures
  lazy_setup(function()
    local f = assert(io.open(root .. 'Tests/Fixtures/seqeval_cases.json'))
    fixtures = llm.json.decode(f:read('a')); f:close()
  end)

  it('accuracy, confusion matrix and its printable table', function()
    local gold, pred = {'a', 'b', 'b', 'c'}, {'a', 'b', 'c', 'c'}
    assert.are.equal(0.75, llm.metrics.accuracy(gold, pred))
    local cm = llm.metrics.confusion(gold, pred)
    assert.are.equal(1, cm:get('b', 'c'))
    assert.are.equal(0, cm:get('c', 'b'))
    local text = cm:table()
    assert.truthy(text:find('gold\\pred', 1, true))
    assert.are.equal(4, select(2, text:gsub('\n', '')) + 1)
    local ok, err = pcall(llm.metrics.accuracy, {1}, {1, 2})
    assert.is_false(ok); assert.truthy(tostring(err):find('gold has 1 entries, predicted 2', 1, true))
  end)

  it('accuracy and per-class / macro / micro / weighted F1 match scikit-learn', function()
    for i, c in ipairs(fixtures.classification) do
      local s = llm.metrics.f1(c.gold, c.pred)
      assert.are.same(c.labels, s.labels)
      close(s.accuracy, c.accuracy, 1e-9, 'accuracy ' .. i)
      close(s.macroF1, c.macroF1, 1e-9, 'macro ' .. i)
      close(llm.metrics.macroF1(c.gold, c.pred), c.macroF1, 1e-9, 'macroF1 ' .. i)
      close(s.microF1, c.microF1, 1e-9, 'micro ' .. i)
      close(s.weightedF1, c.weightedF1, 1e-9, 'weighted ' .. i)
      for name, want in pairs(c.perClass) do
        for _, m in ipairs({'precision', 'recall', 'f1'}) do close(s.perClass[name][m], want[m], 1e-9, name .. ' ' .. m) end
        assert.are.equal(want.support, s.perClass[name].support)
      end
      assert.truthy(llm.metrics.table(s):find('macro avg', 1, true))
    end
  end)

  it("entity spans match seqeval's get_entities (I- without B-, type changes, single tokens, IOBES, bare tags)", function()
    for _, c in ipairs(fixtures.tags) do
      for _, side in ipairs({{c.gold, c.goldEntities}, {c.pred, c.predEntities}}) do
        local got = {}
        for _, e in ipairs(llm.metrics.entities(side[1])) do got[#got + 1] = {e.type, e.first, e.last} end
        assert.are.same(side[2], got, c.name)
      end
    end
  end)

  it('entity-level precision/recall/F1 (per type, micro, macro, weighted) match seqeval', function()
    for _, c in ipairs(fixtures.tags) do
      local s = llm.metrics.entityScores(c.gold, c.pred)
      for _, m in ipairs({'precision', 'recall'}) do
        close(s[m], c.micro[m], 1e-9, c.name .. ' micro ' .. m)
        close(s.macro[m], c.macro[m], 1e-9, c.name .. ' macro ' .. m)
        close(s.weighted[m], c.weighted[m], 1e-9, c.name .. ' weighted ' .. m)
      end
      close(s.f1, c.micro['f1-score'], 1e-9, c.name .. ' micro f1')
      close(s.macroF1, c.macro['f1-score'], 1e-9, c.name .. ' macro f1')
      close(s.weightedF1, c.weighted['f1-score'], 1e-9, c.name .. ' weighted f1')
      for typ, want in pairs(c.perType) do
        close(s.perType[typ].f1, want['f1-score'], 1e-9, c.name .. ' ' .. typ)
        assert.are.equal(want.support, s.perType[typ].support, c.name .. ' ' .. typ)
      end
      assert.truthy(llm.metrics.table(s):find('micro avg', 1, true))
    end
  end)
end)
