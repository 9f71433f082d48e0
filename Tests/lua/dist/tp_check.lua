-- tp_check.lua: run under `mpirun -np 2` by dist_tp_spec.lua. Builds the same dense model on every rank
-- (the same seed), checks the standalone parallel layers against nn.Linear, converts a second copy with
-- dist.tensorParallel and prints, per rank, the largest differences from the dense model: logits
-- (gathered), loss, every gradient (gathered to the dense layout), greedy generation, the losses and final
-- weights of a few Trainer steps (AdamW, gradient accumulation and clipping through the model's
-- trainerExtension) against dense training with the same batches, and the logits of a fresh converted
-- model loaded from the trained dense state dict.
-- arg[1]: 'gpt' (a tied GPT-2 with learned positions) or 'llama' (RoPE, RMSNorm, SwiGLU, grouped-query,
-- untied head).
local tiny = dofile(debug.getinfo(1, 'S').source:match('^@(.*/)') .. 'tiny_gpt.lua')
local kind = arg[1] or 'gpt'
local rank = dist.init()

-- vocab 32 (the corpus has 29 characters): divisible by the tensor-parallel size
local function build()
  llm.manualSeed(7)
  if kind == 'gpt' then return nn.GPT{vocab = 32, blockSize = tiny.T, layers = 2, heads = 4, dim = 16} end
  return nn.Llama{vocab = 32, dim = 16, layers = 2, heads = 4, kvHeads = 2, hidden = 24, maxSeq = tiny.T}
end

local function maxDiff(a, b) return (a - b):abs():max():item() end
local function say(key, v) print(string.format('rank %d %s %.3g', rank, key, v)) end

-- the standalone layers: column-parallel (gathered output) then row-parallel (full input), against nn.Linear
llm.manualSeed(3)
local col, row = dist.ColumnParallelLinear(8, 6, {gatherOutput = true}), dist.RowParallelLinear(6, 4, {inputIsParallel = false})
llm.manualSeed(3)
local dcol, drow = nn.Linear(8, 6), nn.Linear(6, 4)
local xin, xd = llm.randn(3, 8):requiresGrad_(), nil
xd = xin:detach():clone():requiresGrad_()
local out, dout = row(col(xin)), drow(dcol(xd))
say('layers', maxDiff(out, dout))
out:sum():backward(); dout:sum():backward()
say('layersgrad', maxDiff(xin.grad, xd.grad))

local _, _, batches = tiny.build(7)
local x, y = batches:next()
local dense, tp = build(), dist.tensorParallel(build())

local logits, loss = dense(x, y)
local tpLogits, tpLoss = tp(x, y)
say('logits', maxDiff(logits, dist.gatherFromParallel(tpLogits)))
say('fulllogits', maxDiff(logits, tp(x)))
say('loss', math.abs(loss:item() - tpLoss:item()))
loss:backward(); tpLoss:backward()
local grads = {}
for path, p in pairs(tp:namedParameters()) do grads[path] = p.grad end
local worst, n, dp = 0, 0, dense:namedParameters()
for path, g in pairs(tp:denseStateDict(grads)) do
  worst = math.max(worst, maxDiff(g, dp[path].grad) / (dp[path].grad:abs():max():item() + 1e-12)); n = n + 1
end
say('grads', worst); say('ngrads', n)
say('gradnorm', math.abs(tp:gradNorm() - optim.clipGradNorm(dense:parameters(), math.huge)))

-- greedy generation with the KV cache (local heads cached on each rank, logits gathered)
local prompt = x:narrow(1, 1, 1):narrow(2, 1, 4):squeeze(1)
local same = table.concat(dense:generate(prompt, {maxTokens = 6, temperature = 0}):totable(), ',')
  == table.concat(tp:generate(prompt, {maxTokens = 6, temperature = 0}):totable(), ',')
say('generate', same and 0 or 1)

-- training: the dense model and the TP model from the same weights, on the same global batches
local function train(model, extensions)
  local opt = optim.AdamW(model:parameters(), {lr = 1e-2, weightDecay = 0.1})
  local _, _, b = tiny.build(7)
  return tiny.train(model, opt, b, extensions)
end
dense:zeroGrad(); tp:zeroGrad()
local dl, tl = train(dense), train(tp, {tp:trainerExtension()})
local lw = 0
for i = 1, tiny.steps do lw = math.max(lw, math.abs(dl[i] - tl[i])) end
say('trainloss', lw)
local ww, wd = 0, dense:stateDict()
for path, t in pairs(tp:denseStateDict()) do ww = math.max(ww, maxDiff(t, wd[path])) end
say('trainweights', ww)

-- a dense state dict loads into a fresh converted model (each rank takes its slices): the same logits
local fresh = dist.tensorParallel(build())
fresh:loadDenseStateDict(dense:stateDict())
say('loaddense', maxDiff(dense(x), fresh(x)))
