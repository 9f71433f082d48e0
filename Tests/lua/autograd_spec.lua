-- autograd_spec.lua: the define-by-run tape seen from Lua: backward (implicit and explicit gradient),
-- accumulation, retainGraph, detach, llm.noGrad, zeroGrad, in-place rules and version checks, and a
-- GRADIENT-CHECK TABLE with one finite-difference check per primitive in llm.primitives(). A primitive
-- without an entry in the table fails the suite, so every new op must come with its gradient check.
-- Run: llmscript --no-strict /usr/bin/busted Tests/lua/autograd_spec.lua

local function rg(data) return llm.tensor(data, {requiresGrad = true}) end
local function ids(data) return llm.tensor(data, {dtype = 'int64'}) end

local function close(t, expected, tol)
  tol = tol or 1e-5
  local function flat(x, out)
    out = out or {}
    if type(x) == 'table' then for _, v in ipairs(x) do flat(v, out) end else out[#out + 1] = x end
    return out
  end
  local got, want = flat(t:totable()), flat(expected)
  assert.are.equal(#want, #got)
  for i = 1, #want do
    assert(math.abs(got[i] - want[i]) <= tol, string.format('element %d: got %.9g, expected %.9g', i, got[i], want[i]))
  end
end

describe('backward', function()
  it('on a scalar fills leaf grads', function()
    local x = rg{1, 2, 3}
    local y = (x * x):sum()
    y:backward()
    close(x.grad, {2, 4, 6})
    assert.is_true(x.isLeaf)
    assert.is_false(y.isLeaf)
    assert.are.equal('sum', y.gradFn)
    assert.is_nil(x.gradFn)
  end)

  it('with an explicit gradient', function()
    local x = rg{1, 2, 3}
    local y = x * 3
    y:backward(llm.tensor{1, 0, 2})
    close(x.grad, {3, 0, 6})
  end)

  it('needs a gradient for non-scalar outputs', function()
    local x = rg{1, 2}
    local ok, err = pcall(function() (x * 2):backward() end)
    assert.is_false(ok)
    assert.truthy(err:find('pass a gradient', 1, true), err)
  end)

  it('accumulates over two backward calls', function()
    local x = rg{1, 2}
    ;(x * 2):sum():backward()
    ;(x * 3):sum():backward()
    close(x.grad, {5, 5})
  end)

  it('retainGraph allows a second backward; without it the error is clear', function()
    local x = rg{1, 2}
    local y = (x:exp()):sum()
    y:backward{retainGraph = true}
    y:backward()
    close(x.grad, {2 * math.exp(1), 2 * math.exp(2)}, 1e-4)
    local ok, err = pcall(function() y:backward() end)
    assert.is_false(ok)
    assert.truthy(err:find('second time', 1, true) and err:find('retainGraph', 1, true), err)
  end)

  it('on a tensor without grad errors', function()
    local ok, err = pcall(function() llm.ones(1):backward() end)
    assert.is_false(ok)
    assert.truthy(err:find('does not require grad', 1, true), err)
  end)
end)

describe('graph control', function()
  it('detach shares storage and stops gradients', function()
    local x = rg{1, 2}
    local d = x:detach()
    assert.is_false(d.requiresGrad)
    local y = (x * d):sum()
    y:backward()
    close(x.grad, {1, 2})
    llm.noGrad(function() x:add_(1) end)
    assert.are.same({2, 3}, d:totable())
  end)

  it('llm.noGrad records nothing, returns results and propagates errors', function()
    local x = rg{1, 2}
    assert.is_true(llm.isGradEnabled())
    local y, extra, n = llm.noGrad(function(a, b)
      assert.is_false(llm.isGradEnabled())
      return x * a, b, select('#', a, b)
    end, 2, 'k')
    assert.is_true(llm.isGradEnabled())
    assert.is_false(y.requiresGrad)
    assert.is_nil(y.gradFn)
    assert.are.equal('k', extra)
    assert.are.equal(2, n)
    local ok, err = pcall(llm.noGrad, function() error('boom inside') end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find('boom inside', 1, true))
    assert.is_true(llm.isGradEnabled())   -- restored after the error
    llm.noGrad(function() llm.noGrad(function() end); assert.is_false(llm.isGradEnabled()) end)
  end)

  it('zeroGrad and t.grad = nil clear the gradient; t.grad can be set', function()
    local x = rg{1, 2}
    x:sum():backward()
    assert.is_not_nil(x.grad)
    x:zeroGrad()
    assert.is_nil(x.grad)
    x:sum():backward()
    x.grad = nil
    assert.is_nil(x.grad)
    x.grad = llm.tensor{5, 6}
    close(x.grad, {5, 5 + 1})
    assert.has_error(function() x.grad = llm.zeros(3) end)
  end)

  it('requiresGrad_ and the requiresGrad property', function()
    local x = llm.zeros(2)
    assert.is_false(x.requiresGrad)
    assert.are.equal(x, x:requiresGrad_())
    assert.is_true(x.requiresGrad)
    x.requiresGrad = false
    assert.is_false(x.requiresGrad)
    assert.has_error(function() llm.zeros(2, {dtype = 'int64'}):requiresGrad_() end)
    assert.has_error(function() (rg{1} * 2):requiresGrad_(false) end)
  end)

  it('p.grad keeps its identity', function()
    local p = rg{1, 2}
    p:sum():backward()
    assert.are.equal(p.grad, p.grad)
    assert.is_true(rawequal(p.grad, p.grad))
  end)
end)

describe('in-place rules', function()
  it('in-place on a tensor that requires grad errors while recording', function()
    local p = rg{1, 2}
    local ok, err = pcall(function() p:add_(1) end)
    assert.is_false(ok)
    assert.truthy(err:find('add_', 1, true) and err:find('in place', 1, true), err)
    assert.has_error(function() (p * 2):mul_(2) end)
  end)

  it('is allowed on a leaf inside noGrad (the optimizer pattern)', function()
    local p = rg{1, 2}
    ;(p * p):sum():backward()
    llm.noGrad(function() p:add_(p.grad, {alpha = -0.5}) end)
    close(p, {0, 0})
    assert.is_true(p.requiresGrad)
    assert.is_true(p.isLeaf)
  end)

  it('non-leaf tensors cannot be modified in place even inside noGrad', function()
    local y = rg{1, 2} * 2
    assert.has_error(function() llm.noGrad(function() y:zero_() end) end)
  end)

  it('modifying a saved tensor in place then backward errors', function()
    local x = rg{{1, 2}, {3, 4}}
    local idx = ids{1, 0}
    local y = x:indexSelect(1, idx)
    idx:fill_(0)
    local ok, err = pcall(function() y:sum():backward() end)
    assert.is_false(ok)
    assert.truthy(err:find('modified by an in-place operation', 1, true), err)
    local w = rg{1, 2}
    local c = llm.tensor{1, 0}
    local z = llm.where(c, w, 0)
    c:fill_(1)
    assert.has_error(function() z:sum():backward() end)
  end)

  it('modifying an input read by the VJP (mul) then backward errors', function()
    local x, a = rg{1, 2}, llm.tensor{3, 4}
    local y = (x * a):sum()
    a:mul_(10)
    assert.has_error(function() y:backward() end)
  end)
end)

-- GRADIENT-CHECK TABLE: name -> function returning (inputs, fn). Inputs are small (<= 12 elements),
-- require grad, and avoid kinks and singularities.
local checks = {
  add = function() return {rg{{1, 2, 3}, {4, 5, 6}}, rg{0.5, -1, 2}}, function(a, b) return a + b end end,
  sub = function() return {rg{{1, 2}, {3, 4}}, rg{{0.5}, {-1}}}, function(a, b) return a - b end end,
  mul = function() return {rg{{1, -2, 3}}, rg{{0.5}, {-1.5}}}, function(a, b) return a * b end end,
  div = function() return {rg{1, -2, 3}, rg{0.5, 1.5, -2}}, function(a, b) return a / b end end,
  pow = function() return {rg{0.5, 1.2, 2}, rg{1.5, -0.5, 2}}, function(a, b) return a:pow(b) end end,
  neg = function() return {rg{1, -2, 3}}, function(a) return -a end end,
  exp = function() return {rg{-1, 0.5, 1}}, function(a) return a:exp() end end,
  log = function() return {rg{0.5, 1, 2.5}}, function(a) return a:log() end end,
  sqrt = function() return {rg{0.5, 1, 2.5}}, function(a) return a:sqrt() end end,
  rsqrt = function() return {rg{0.5, 1, 2.5}}, function(a) return a:rsqrt() end end,
  abs = function() return {rg{-1.5, -0.3, 0.7, 2}}, function(a) return a:abs() end end,
  tanh = function() return {rg{-1.5, -0.3, 0.7, 2}}, function(a) return a:tanh() end end,
  sigmoid = function() return {rg{-1.5, -0.3, 0.7, 2}}, function(a) return a:sigmoid() end end,
  relu = function() return {rg{-1.5, -0.3, 0.7, 2}}, function(a) return a:relu() end end,
  geluTanh = function() return {rg{-1.5, -0.3, 0.7, 2}}, function(a) return a:gelu{approximate = 'tanh'} end end,
  geluExact = function() return {rg{-1.5, -0.3, 0.7, 2}}, function(a) return a:gelu() end end,
  silu = function() return {rg{-1.5, -0.3, 0.7, 2}}, function(a) return a:silu() end end,
  round = function() return {rg{-1.3, -0.2, 0.3, 1.7}}, function(a) return a:round() end end,
  floor = function() return {rg{-1.3, -0.2, 0.3, 1.7}}, function(a) return a:floor() end end,
  ceil = function() return {rg{-1.3, -0.2, 0.3, 1.7}}, function(a) return a:ceil() end end,
  sign = function() return {rg{-1.3, -0.2, 0.3, 1.7}}, function(a) return a:sign() end end,
  powScalar = function() return {rg{0.5, 1.2, 2}}, function(a) return a:pow(3) + a:pow(0.5) + a ^ 2 end end,
  clamp = function() return {rg{-2, -0.5, 0.3, 1.5}}, function(a) return a:clamp(-1, 1) + a:clamp(nil, 0) end end,
  ['where'] = function()
    return {rg{1, 2, 3}, rg{{-1, -2, -3}, {4, 5, 6}}}, function(a, b) return llm.where(llm.tensor{1, 0, 1}, a, b) end
  end,
  sum = function() return {rg{{1, 2, 3}, {4, 5, 6}}}, function(a) return a:sum(2, true) + a:sum(1) end end,
  extremum = function()
    return {rg{{1, 5, 3}, {4, 2, 6}}}, function(a) local v = a:max(2); local w = a:min(1, true); return v:sum() + w end
  end,
  logsumexp = function() return {rg{{1, 2, 3}, {-1, 0, 0.5}}}, function(a) return a:logsumexp(2) end end,
  softmax = function() return {rg{{1, 2, 3}, {-1, 0, 0.5}}}, function(a) return a:softmax(2) end end,
  logSoftmax = function() return {rg{{1, 2, 3}, {-1, 0, 0.5}}}, function(a) return a:logSoftmax(1) end end,
  matmul = function() return {rg{{1, 2, 3}, {4, 5, 6}}, rg{{1, -1}, {0.5, 2}, {-2, 1}}}, function(a, b) return a:matmul(b) end end,
  linear = function()
    -- with and without bias, batched rows (one GEMM) and a single row (the matrix-vector path)
    return {rg{{{1, 2, 3}, {4, 5, 6}}}, rg{{1, -1, 0.5}, {0.5, 2, -1}}, rg{0.1, -0.2}},
      function(x, w, b) return llm.linear(x, w, b) * 2 + llm.linear(x, w) + llm.linear(x[1][2], w, b) end
  end,
  reshape = function() return {rg{{1, 2, 3}, {4, 5, 6}}}, function(a) return a:reshape(3, 2) * llm.tensor{1, 2} end end,
  permute = function() return {rg{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}}}, function(a) return a:permute(3, 1, 2) * llm.tensor{1, 2} end end,
  expand = function() return {rg{{1}, {2}}}, function(a) return a:expand(2, 3) * llm.tensor{1, 2, 3} end end,
  narrow = function() return {rg{{1, 2, 3}, {4, 5, 6}}}, function(a) return a:narrow(2, 2, 2) * 3 end end,
  copy = function() return {rg{{1, 2}, {3, 4}}}, function(a) return a:transpose():contiguous() * llm.tensor{1, 2} + a:clone() end end,
  cat = function() return {rg{{1, 2}}, rg{{3, 4}, {5, 6}}}, function(a, b) return llm.cat{a, b} * llm.tensor{1, 2} end end,
  indexSelect = function() return {rg{{1, 2}, {3, 4}, {5, 6}}}, function(a) return a:indexSelect(1, ids{2, 0, 2}) end end,
  gather = function() return {rg{{1, 2, 3}, {4, 5, 6}}}, function(a) return a:gather(2, ids{{2, 2}, {0, 1}}) end end,
  scatterAdd = function()
    return {rg{{1, 2, 3}, {4, 5, 6}}, rg{{1, 2}, {3, 4}}}, function(a, s) return a:scatterAdd(2, ids{{2, 0}, {1, 1}}, s) end
  end,
  embedding = function() return {rg{{1, 2}, {3, 4}, {5, 6}}}, function(w) return llm.embedding(w, ids{{2, 0}, {2, 1}}) end end,
  triangular = function() return {rg{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}}, function(a) return a:tril() * 2 + a:triu(1) end end,
  cumsum = function() return {rg{{1, 2, 3}, {4, 5, 6}}}, function(a) return a:cumsum(2) + a:cumsum(1) end end,
  layerNorm = function()
    return {rg{{1, 2.5, -1, 0.3}, {0.2, -0.7, 1.1, 2}}, rg{1.5, 0.5, -1, 2}, rg{0.1, -0.2, 0.3, 0}},
      function(x, w, b) return llm.layerNorm(x, w, b) end
  end,
  rmsNorm = function()
    return {rg{{1, 2.5, -1, 0.3}, {0.2, -0.7, 1.1, 2}}, rg{1.5, 0.5, -1, 2}}, function(x, w) return llm.rmsNorm(x, w) end
  end,
  attention = function()
    -- q (B=1,H=1,T=3,D=2), k and v (1,1,3,2); causal
    return {rg{{{{0.1, 0.5}, {-0.3, 0.8}, {0.7, -0.2}}}}, rg{{{{0.4, -0.1}, {0.2, 0.6}, {-0.5, 0.3}}}},
            rg{{{{1, 2}, {-1, 0.5}, {0.3, -0.7}}}}},
      function(q, k, v)
        return llm.attention(q, k, v, {causal = true})
          + llm.attention(q, k, v, {causal = true, window = 2, alibi = true, positions = ids{{4, 5, 6}}, keyPositions = ids{{4, 5, 6}}})
      end
  end,
  rope = function()
    -- x (B=1,H=1,T=3,D=4) at positions 2, 5, 9 with NTK scaling
    return {rg{{{{0.1, 0.5, -0.3, 0.8}, {0.7, -0.2, 0.4, -0.1}, {0.2, 0.6, -0.5, 0.3}}}}},
      function(x) return llm.rope(x, {positions = ids{{2, 5, 9}}, base = 100, scaling = {type = 'ntk', factor = 2}}) end
  end,
  swiglu = function() return {rg{{0.3, -1.2, 0.8, 2, -0.5, 0.7}, {1.5, 0.2, -2.1, 0.4, 1.1, -0.9}}}, function(x) return llm.swiglu(x) end end,
  geglu = function() return {rg{{0.3, -1.2, 0.8, 2, -0.5, 0.7}, {1.5, 0.2, -2.1, 0.4, 1.1, -0.9}}}, function(x) return llm.geglu(x) end end,
  crossEntropy = function()
    return {rg{{1, 2, 0.5}, {-1, 0.3, 0.8}, {0.2, 0.1, -0.4}}},
      function(x) return llm.crossEntropy(x, ids{2, 0, 1}) + llm.crossEntropy(x, ids{1, 1, 0}, {labelSmoothing = 0.1}) end
  end,
}

local function gradcheck(name, make)
  local inputs, fn = make()
  local ok, report = llm.gradcheck(fn, inputs)
  if not ok then print(name .. ': ' .. report) end
  assert(ok, name .. ': ' .. report)
end

describe('gradient check of every primitive', function()
  local names = llm.primitives()

  it('every primitive has an entry in the gradient-check table', function()
    local missing = {}
    for _, n in ipairs(names) do if checks[n] == nil then missing[#missing + 1] = n end end
    assert(#missing == 0, 'primitives without a gradient check: ' .. table.concat(missing, ', '))
    assert.is_true(#names >= 30)
  end)

  for _, n in ipairs(names) do
    it(n, function()
      assert(checks[n], 'no gradient check for primitive ' .. n)
      gradcheck(n, checks[n])
    end)
  end
end)

describe('gradient check of composite ops', function()
  local composites = {
    mean = function() return {rg{{1, 2, 3}, {4, 5, 7}}}, function(a) return a:mean(2) + a:mean() end end,
    var = function() return {rg{{1, 2, 4}, {4, 5, 7}}}, function(a) return a:var(2):sum() + a:var(1, {correction = 0}) + a:var() end end,
    norm = function() return {rg{{1, -2, 3}, {0.5, 2, -1}}}, function(a) return a:norm() + a:norm(1, 2):sum() + a:norm(3, 1) end end,
    ['softmax along dim 2 of a 3-D tensor'] = function()
      return {rg{{{1, 2}, {0, -1}, {0.5, 0.3}}, {{2, 1}, {-1, 1}, {0, 0.2}}}}, function(a) return a:softmax(2) end
    end,
    ['batched matmul with broadcast'] = function()
      return {rg{{{1, 2}, {3, -1}}, {{0.5, 1}, {2, 1}}}, rg{{{1, 0, 2}, {-1, 1, 0.5}}}}, function(a, b) return a:matmul(b) end
    end,
    ['cat along dim 2'] = function() return {rg{{1}, {2}}, rg{{3, 4}, {5, 6}}}, function(a, b) return llm.cat({a, b}, 2) * llm.tensor{1, 2, 3} end end,
    stack = function() return {rg{1, 2}, rg{3, 4}}, function(a, b) return llm.stack({a, b}, 2) * llm.tensor{1, 3} end end,
    ['split pieces'] = function()
      return {rg{1, 2, 3, 4, 5}}, function(a) local p = a:split(2); return p[1] * 2 + p[2] * 3 + p[3] end
    end,
    ['expand + sum'] = function() return {rg{{1, 2, 3}}}, function(a) return a:expand(4, 3):sum(1) * a end end,
    ['transposed-view matmul'] = function()
      return {rg{{1, 2}, {3, 4}, {5, 6}}, rg{{1, 0.5, -1}, {2, 1, 0}}}, function(a, b) return a:transpose():matmul(b:transpose()) end
    end,
    ['select and index'] = function() return {rg{{1, 2}, {3, 4}}}, function(a) return a[2] * 2 + a:select(2, 1) end end,
  }
  for name, make in pairs(composites) do
    it(name, function() gradcheck(name, make) end)
  end
end)

describe('llm.gradcheck itself', function()
  it('returns ok and a report string', function()
    local ok, report = llm.gradcheck(function(a) return a * a end, {rg{1, 2}})
    assert.is_true(ok)
    assert.are.equal('string', type(report))
  end)
  it('errors when no input requires grad', function()
    assert.has_error(function() llm.gradcheck(function(a) return a end, {llm.ones(2)}) end)
  end)
  it('propagates errors from fn and rejects non-tensor results', function()
    local ok, err = pcall(llm.gradcheck, function() error('inside fn') end, {rg{1}})
    assert.is_false(ok)
    assert.truthy(tostring(err):find('inside fn', 1, true))
    ok, err = pcall(llm.gradcheck, function() return 1 end, {rg{1}})
    assert.is_false(ok)
    assert.truthy(err:find('must return an llm.Tensor', 1, true), err)
  end)
end)
