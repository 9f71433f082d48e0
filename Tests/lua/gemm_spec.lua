-- gemm_spec.lua: the GEMM library choice seen from Lua: llm.setGEMM / llm.getGEMM (and their errors), the
-- same products and Linear gradients from OpenBLAS and oneDNN, the fixed rule's reproducibility, and the
-- thread budget: a oneDNN product started under llm.setThreads(1) adds no thread to the process, one under
-- setThreads(2) at most one (its OpenMP team: the caller plus one worker).
local cli = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'cli.lua')

describe("GEMM library choice", function()
  local saved
  before_each(function() saved = llm.getGEMM() end)
  after_each(function() llm.setGEMM(saved) end)

  local oneDNN = llm.system().onednn ~= nil

  it("setGEMM takes auto, openblas and onednn and getGEMM reports it", function()
    llm.setGEMM('openblas'); assert.are.equal('openblas', llm.getGEMM())
    assert.is_truthy(llm.system().gemm:match('^OpenBLAS for every product'))
    llm.setGEMM('auto'); assert.are.equal('auto', llm.getGEMM())
    if oneDNN then
      llm.setGEMM('onednn'); assert.are.equal('onednn', llm.getGEMM())
      assert.is_truthy(llm.system().gemm:match('^oneDNN'))
    else
      local ok, err = pcall(llm.setGEMM, 'onednn')
      assert.is_false(ok); assert.is_truthy(tostring(err):match('not available'))
    end
  end)

  it("refuses an unknown library or a non-string with a clear error", function()
    local ok, err = pcall(llm.setGEMM, 'mkl')
    assert.is_false(ok)
    assert.is_truthy(tostring(err):match("unknown GEMM library 'mkl'"), tostring(err))
    assert.is_false((pcall(llm.setGEMM)))
    assert.is_false((pcall(llm.setGEMM, {})))
  end)

  local function maxRel(a, b)
    return (a - b):abs():max():item() / math.max(1, b:abs():max():item())
  end

  it("OpenBLAS and oneDNN give the same products, Linear outputs and gradients", function()
    if not oneDNN then pending('oneDNN is not installed here'); return end
    llm.manualSeed(7)
    local x, w, b = llm.randn(300, 96), llm.randn(200, 96), llm.randn(200)
    local results = {}
    for _, lib in ipairs{'openblas', 'onednn'} do
      llm.setGEMM(lib)
      local xl, wl, bl = x:clone():requiresGrad_(), w:clone():requiresGrad_(), b:clone():requiresGrad_()
      local y = llm.linear(xl, wl, bl)
      local loss = (y * y):sum()
      loss:backward()
      results[lib] = {
        mm = x:matmul(w:transpose()), mmT = w:matmul(x:transpose()), batched = x:view(3, 100, 96):matmul(w:transpose()),
        y = y:detach(), dx = xl.grad, dw = wl.grad, db = bl.grad,
      }
    end
    for k, v in pairs(results.openblas) do
      assert.is_true(maxRel(results.onednn[k], v) < 1e-5, k)
    end
  end)

  it("the automatic rule gives bit-identical results when a step repeats", function()
    llm.setGEMM('auto')
    llm.manualSeed(3)
    local x, w = llm.randn(4096, 128), llm.randn(384, 128)
    local first = x:matmul(w:transpose())
    for _ = 1, 3 do assert.are.equal(0, (x:matmul(w:transpose()) - first):abs():max():item()) end
  end)

  it("oneDNN's OpenMP team stays within llm.setThreads", function()
    if not oneDNN then pending('oneDNN is not installed here'); return end
    local script = [[
      local function threads()
        local f = assert(io.open('/proc/self/stat')); local s = f:read('a'); f:close()
        local fields = {}
        for v in s:match('%) (.*)$'):gmatch('%S+') do fields[#fields + 1] = v end
        return tonumber(fields[18])   -- num_threads (field 20 of /proc/PID/stat)
      end
      llm.setGEMM('onednn')
      llm.setThreads(1)   -- first: with 2, randn's split loop may start a dispatch worker thread late
      local x, w = llm.randn(512, 128), llm.randn(256, 128)
      local before = threads()
      x:matmul(w:transpose())
      local one = threads() - before
      llm.setThreads(2)
      x:matmul(w:transpose())
      local two = threads() - before
      print(one, two)
    ]]
    local code, out, err = cli.run({'-e', script})
    assert.are.equal(0, code, err)
    local one, two = out:match('^(%-?%d+)%s+(%-?%d+)')
    assert.are.equal('0', one, out .. err)
    assert.is_true(tonumber(two) <= 1, out)
  end)
end)
