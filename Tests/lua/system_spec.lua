-- llm.system(): what the process runs on (CPU, SIMD level, kernel version, OpenBLAS core and threads).
describe("llm.system", function()
  local levels = { baseline = 0, avx2 = 1, avx512 = 2 }

  it("returns the CPU, its SIMD level, the kernels in use and the BLAS identity", function()
    local s = llm.system()
    assert.is_string(s.cpu); assert.is_true(#s.cpu > 0)
    assert.is_string(s.vendor)
    assert.is_true(math.type(s.family) == "integer" and math.type(s.model) == "integer")
    assert.is_not_nil(levels[s.simd], tostring(s.simd))
    assert.is_not_nil(levels[s.kernels], tostring(s.kernels))
    assert.is_true(levels[s.kernels] <= levels[s.simd])
    assert.is_table(s.features)
    assert.is_string(s.blasCore); assert.is_true(#s.blasCore > 0)
    assert.is_truthy(s.blasConfig:match("^OpenBLAS"))
    assert.is_truthy(({ openblas = true, llmscript = true, user = true })[s.blasCoreChoice])
    assert.are.equal(llm.getThreads(), s.threads)
    assert.is_string(s.gemm)
    assert.is_truthy(s.gemm:match("OpenBLAS") or s.gemm:match("oneDNN"), s.gemm)
    if s.onednn then
      assert.is_truthy(s.onednn:match("^%d+%.%d+%.%d+$"), s.onednn)
      assert.is_truthy(s.gemm:match("oneDNN"), s.gemm)
    end
  end)

  it("lists features consistent with the SIMD level", function()
    local s, has = llm.system(), {}
    for _, f in ipairs(s.features) do assert.is_string(f); has[f] = true end
    local avx512 = has.avx512f and has.avx512bw and has.avx512vl and has.avx512dq and has.avx2 and has.fma
    local want = avx512 and "avx512" or (has.avx2 and has.fma) and "avx2" or "baseline"
    assert.are.equal(want, s.simd)
    if has.avx512f then assert.is_true(has.avx2 == true) end
    if has.avx2 then assert.is_true(has.avx == true) end
  end)

  it("follows the thread count", function()
    local before = llm.getThreads()
    llm.setThreads(1)
    assert.are.equal(1, llm.system().threads)
    llm.setThreads(before)
  end)
end)
