-- llm.dist.residuals: the top-k error-feedback residuals of dist.dataParallel{compress = 'topk'} in
-- checkpoints (used by llm/dist.lua; not a public module). A residual is per-rank state: what that rank has
-- not sent yet (dist.GradReducer:residuals(), one flat tensor in parameter order, bucket-size independent).
--   * beforeCheckpoint (every rank): the ranks send their residuals to the rank that writes the checkpoint
--     (world rank 0); its stateDict() saves them as the tensor 'dataParallel.residuals' of shape
--     {ranks, floats} (row r+1: rank r of the data-parallel communicator) and {ranks, floats} in trainer.json;
--   * resume on the same number of ranks: each rank gets its own row back, so the run continues exactly as
--     an uninterrupted one;
--   * resume on M ranks from a checkpoint of N ~= M: every rank starts from the mean of the N rows. The
--     step applies the average of the ranks' sent vectors, so what is owed to the model is the mean of the
--     residuals; M ranks holding that mean owe exactly as much (nothing is lost or counted twice). Logged;
--   * one process (dist.size() == 1 sends whole gradients, no error feedback): saved residuals are dropped
--     with a logged warning; a checkpoint without residuals (one process, no top-k) starts from zeros;
--   * residuals of a model of another size (floats differ) are dropped with a logged warning;
--   * ext:residuals() -> Tensor | nil: this rank's residuals now (a copy), nil in one process;
--   * a data-parallel sub-communicator smaller than the world (DP x TP/PP grids: rank 0 alone cannot hold
--     the other model slices' residuals) saves none: a resumed run starts from zeros (logged at checkpoints).
local M = {}

-- Logs through the Trainer's progress output (printed on the primary process only).
local function log(trainer, msg)
  if trainer.progressBar then trainer.progressBar:log(msg) else print(msg) end
end

--- Adds beforeCheckpoint, stateDict and loadStateDict to ext (a dataParallel extension over comm, nil: the
--- world); reducer() returns its dist.GradReducer (nil in one process). Returns restore(trainer), which
--- onRunStart calls once the reducer exists: it hands a resumed checkpoint's residuals to the reducer.
function M.attach(ext, comm, reducer)
  local rank, size = ext.rank, ext.size
  local whole = comm == nil or comm:size() == dist.size()
  local root, saved, pending, warned
  local function send(t, dst) if comm then return comm:send(t, dst) end return dist.send(t, dst) end
  local function recv(t, src) if comm then return comm:recv(t, src) end return dist.recv(t, src) end

  -- the communicator rank of world rank 0 (it writes checkpoints)
  local function rootRank()
    if root then return root end
    if comm == nil then root = 0; return root end
    local t = llm.tensor({dist.rank() == 0 and rank or 0})
    root = math.tointeger(comm:allReduce(t, {op = 'sum'}):item())
    return root
  end

  function ext.beforeCheckpoint(_, trainer)
    saved = nil
    local r = reducer()
    if not r then return end
    if not whole then
      if not warned then
        warned = true
        log(trainer, string.format('dist.dataParallel: top-k residuals are not saved over a sub-communicator of %d of %d ranks '
          .. '(a resumed run starts them from zeros)', size, dist.size()))
      end
      return
    end
    local mine = r:residuals()
    local n, to = mine:numel(), rootRank()
    if rank ~= to then send(mine, to); return end
    local rows = llm.zeros(size, n)
    for src = 0, size - 1 do
      local row = src == rank and mine or recv(llm.zeros(n), src)
      rows:narrow(1, src + 1, 1):copy_(row:reshape(1, n))
    end
    saved = rows
  end

  function ext.stateDict()
    local rows = saved
    saved = nil
    if not rows then return {} end
    return {residuals = rows, ranks = size, floats = rows:shape()[2]}
  end

  function ext.loadStateDict(_, sd) pending = sd end

  --- This rank's residuals (a copy, parameter order), nil in one process.
  function ext.residuals()
    local r = reducer()
    return r and r:residuals() or nil
  end

  return function(trainer)
    local sd = pending
    pending = nil
    if sd == nil then return end
    local r = reducer()
    local rows = sd.residuals
    if rows == nil then
      if r then r:setResiduals(nil) end
      return
    end
    local N, n = rows:shape()[1], rows:shape()[2]
    if not r then
      log(trainer, string.format('dist.dataParallel: warning: the checkpoint\'s top-k residuals of %d ranks are dropped '
        .. '(one process sends its whole gradient)', N))
      return
    end
    local have = r:residuals():numel()
    if n ~= have then
      log(trainer, string.format('dist.dataParallel: warning: the checkpoint\'s top-k residuals hold %d floats per rank but the '
        .. 'parameters have %d: dropped (residuals start from zeros)', n, have))
      r:setResiduals(nil)
    elseif N == size then
      r:setResiduals(rows:narrow(1, rank + 1, 1):reshape(n))
    else
      r:setResiduals(rows:sum(1):reshape(n) / N)
      log(trainer, string.format('dist.dataParallel: the checkpoint\'s top-k residuals of %d ranks re-split over %d: '
        .. 'every rank starts from their mean (the same total owed)', N, size))
    end
  end
end

return M
