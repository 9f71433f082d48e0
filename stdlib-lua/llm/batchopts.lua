-- llm.batchopts: the per-batch forward options that travel with a batch (a source's third value,
-- batch.opts in the Trainer: packed llm.data.instructions give {segments, positions} (B,T)), cut like the
-- batch's rows wherever a batch is split (dist.shardBatches, pipeline micro-chunks, per-example work).
--   batchopts.narrow(opts, rows, start, n) -> opts'   every tensor in opts whose first dimension is `rows`
--       (the batch's B) narrowed to rows start..start+n-1 (1-based), everything else passed through;
--       nil -> nil; a non-table is an error naming `who`.
local M = {}

--- batchopts.narrow(opts, rows, start, n, [who]) -> table | nil: opts with its (rows, ...) tensors narrowed to rows start..start+n-1.
function M.narrow(opts, rows, start, n, who)
  if opts == nil then return nil end
  if type(opts) ~= 'table' then
    error(string.format('%s: the batch options (the source\'s third value) must be a table, got %s', who or 'llm.batchopts', type(opts)), 3)
  end
  local out = {}
  for k, v in pairs(opts) do
    if llm.isTensor(v) and v:dim() >= 1 and v:size(1) == rows then v = v:narrow(1, start, n) end
    out[k] = v
  end
  return out
end

return M
