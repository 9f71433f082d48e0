-- hello.lua: a first tour of llmscript. Creates tensors, does a few ops, differentiates a small
-- function with autograd, then fits a line with plain gradient descent. Run it with
--   llmscript examples/hello.lua   (or: scripts/train.sh examples/hello.lua)

llm.manualSeed(42)   -- same random numbers on every run

-- Tensors: from nested tables, or filled by a constructor.
local a = llm.tensor{{1, 2}, {3, 4}}
local b = llm.ones(2, 2)
print('a =') print(a)
print('a + b =') print(a + b)
print('a @ a =') print(a:matmul(a))
print('sum of a:', a:sum():item(), ' mean along dim 2:', a:mean(2))

-- Autograd: f(x) = sum(x * x * w); df/dx = 2 * x * w.
local x = llm.tensor({1, 2, 3}, {requiresGrad = true})
local w = llm.tensor{0.5, -1, 2}
local f = (x * x * w):sum()
f:backward()
print('f(x) =', f:item())
print('df/dx =', x.grad)          -- expected: 1, -4, 12

-- A tiny regression: find W, c so that y = X W + c, by gradient descent.
local X = llm.randn(64, 3)
local trueW = llm.tensor{{2}, {-3}, {0.5}}
local y = X:matmul(trueW) + 1
local W = llm.zeros({3, 1}, {requiresGrad = true})
local c = llm.zeros({1}, {requiresGrad = true})
local lr = 0.1
for step = 1, 100 do
  local err = X:matmul(W) + c - y
  local loss = (err * err):mean()
  loss:backward()
  llm.noGrad(function()          -- parameter updates are not part of the graph
    W:sub_(W.grad * lr)
    c:sub_(c.grad * lr)
  end)
  W:zeroGrad(); c:zeroGrad()
  if step % 25 == 0 then print(string.format('step %3d  loss %.6f', step, loss:item())) end
end
print('learned W =', W:detach():reshape(3))   -- close to 2, -3, 0.5
print(string.format('learned c = %.4f', c:item()))   -- close to 1
