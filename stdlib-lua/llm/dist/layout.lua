-- llm.dist.layout: one entry point for the parallel layouts of a GPT run (what recipes' --dp/--tp/--pp pick):
--   dist.parallelize(model, [{dp, tp = 1, pp = 1, zero = 0, microBatches, schedule, balance, bucketSize}]) -> layout
-- (collective under mpirun: every rank calls it with the same dense model, e.g. built from the same seed)
--   * dp · tp · pp must equal the number of processes; dp defaults to processes / (tp · pp), so a script
--     started under mpirun with no flags is data parallel over all ranks;
--   * builds dist.grid{dp, tp, pp}; tp > 1 converts the model in place (dist.tensorParallel over grid.tp:
--     create the optimizer AFTER this call) and adds its Trainer extension; pp > 1 adds
--     dist.pipelineParallel over grid.pp (microBatches, schedule, balance); dp > 1 (or zero = 1) adds
--     dist.dataParallel over grid.dp (ZeRO-1 with zero = 1; bucketSize passed on), placed first;
--   * not combinable (an error says so): tp > 1 with pp > 1 (the pipeline's stages do not run split layers,
--     and each replaces the optimizer step), zero = 1 with tp or pp > 1 (the same), microBatches, schedule
--     or balance without pp > 1;
--   * in one process that was not started by mpirun or srun (no OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_SIZE
--     in the environment) with a 1 x 1 x 1 layout, MPI is not touched: no extensions, batches unchanged.
-- The layout: {dp, tp, pp, zero, size, rank (world), primary (world rank 0: the process that prints, writes
-- and samples), grid (nil without MPI), extensions (the list for llm.Trainer{extensions = ...})} and
--   layout:shard(source) -> this data-parallel rank's rows of each global batch (dist.shardBatches over
--     grid.dp; the source itself when dp = 1);
--   layout:denseModel() -> (collective) the trained model in the single-process layout on world rank 0 and
--     nil elsewhere: the model itself (pipeline: after gathering the stages' weights into it), or with
--     tensor parallel a new dense model of the same class and configuration holding the gathered weights
--     (the random-number state is kept);
--   layout:describe() -> e.g. 'dp 2 x tp 1 x pp 1 (2 processes)'.
-- Trainer checkpoints are in the single-process format for every layout, so a run resumes on any other.
local options = require 'llm.nn.options'

local M = {}

local NONE = options.NONE
local DEFAULTS = {dp = NONE, tp = 1, pp = 1, zero = 0, microBatches = NONE, schedule = NONE, balance = NONE, bucketSize = NONE}
local WHO = 'dist.parallelize'

-- True when an MPI launcher started this process (Open MPI's mpirun, Slurm's srun with PMIx or PMI-2).
local function launched()
  return os.getenv('OMPI_COMM_WORLD_SIZE') ~= nil or os.getenv('PMIX_RANK') ~= nil or os.getenv('PMI_SIZE') ~= nil
end

-- Checks the options (before MPI is touched); errors at the caller of parallelize.
local function check(model, opts)
  if type(model) ~= 'table' or type(model.parameters) ~= 'function' then
    error(WHO .. ": Invalid 'model': expected an nn.Module (nn.GPT or nn.Llama), got " .. type(model), 3)
  end
  local o = options.check(WHO, opts, DEFAULTS, 3)
  for _, k in ipairs({'dp', 'tp', 'pp', 'microBatches', 'bucketSize'}) do
    if o[k] ~= nil then options.positiveInt(WHO, k, o[k], 3) end
  end
  if o.zero ~= 0 and o.zero ~= 1 then error(WHO .. ": Invalid 'zero': expected 0 or 1 (ZeRO stage 1), got " .. tostring(o.zero), 3) end
  if o.tp > 1 and o.pp > 1 then
    error(string.format('%s: tp = %d with pp = %d is not supported (the pipeline stages do not run tensor-parallel layers, and '
      .. 'each replaces the optimizer step): use dp x tp or dp x pp', WHO, o.tp, o.pp), 3)
  end
  if o.zero == 1 and (o.tp > 1 or o.pp > 1) then
    error(string.format('%s: zero = 1 combines with data parallel only, not with tp = %d, pp = %d (each replaces the optimizer step)',
      WHO, o.tp, o.pp), 3)
  end
  if o.pp == 1 then
    for _, k in ipairs({'microBatches', 'schedule', 'balance'}) do
      if o[k] ~= nil then error(string.format("%s: '%s' applies to pipeline parallel: set pp > 1 (or leave it out)", WHO, k), 3) end
    end
  end
  return o
end

local Layout = {}
Layout.__index = Layout

function Layout:shard(source)
  if self.dp == 1 then return source end
  return dist.shardBatches(source, {comm = self.grid.dp})
end

function Layout:describe()
  return string.format('dp %d x tp %d x pp %d (%d process%s)', self.dp, self.tp, self.pp, self.size, self.size == 1 and '' or 'es')
end

function Layout:denseModel()
  local model = self.model
  if self.pipeline then self.pipeline:gatherWeights() end
  if self.tp == 1 then return self.primary and model or nil end
  local sd = model:denseStateDict()  -- collective over grid.tp
  if not self.primary then return nil end
  local rng = llm.getRngState()
  local dense = model.super(model:config())
  llm.setRngState(rng)
  dense:loadStateDict(sd)
  dense:train(model.training)
  return dense
end

--- dist.parallelize(model, [{dp, tp = 1, pp = 1, zero = 0, microBatches, schedule, balance, bucketSize}]) -> layout: a dp x tp x pp layout (see the header).
function M.parallelize(model, opts)
  local o = check(model, opts)
  local self = setmetatable({model = model, tp = o.tp, pp = o.pp, zero = o.zero, extensions = {}}, Layout)
  local trivial = (o.dp or 1) * o.tp * o.pp == 1 and o.zero == 0
  if trivial and not launched() and not dist.initialized() then
    self.dp, self.size, self.rank, self.primary = 1, 1, 0, true
    return self
  end
  if not dist.initialized() then dist.init() end
  local size = dist.size()
  local dp = o.dp
  if dp == nil then
    if size % (o.tp * o.pp) ~= 0 then
      error(string.format('%s: tp (%d) x pp (%d) = %d does not divide the %d processes of the job', WHO, o.tp, o.pp, o.tp * o.pp, size), 2)
    end
    dp = size // (o.tp * o.pp)
  elseif dp * o.tp * o.pp ~= size then
    error(string.format('%s: dp (%d) x tp (%d) x pp (%d) = %d processes, but the job has %d (start it with mpirun -np %d)',
      WHO, dp, o.tp, o.pp, dp * o.tp * o.pp, size, dp * o.tp * o.pp), 2)
  end
  self.dp, self.size, self.rank, self.primary = dp, size, dist.rank(), dist.rank() == 0
  local g = dist.grid{dp = dp, tp = o.tp, pp = o.pp}
  self.grid = g
  if dp > 1 or o.zero == 1 then
    self.extensions[#self.extensions + 1] = dist.dataParallel(model, {comm = g.dp, zero = o.zero, bucketSize = o.bucketSize})
  end
  if o.tp > 1 then
    dist.tensorParallel(model, {comm = g.tp})
    self.extensions[#self.extensions + 1] = model:trainerExtension()
  end
  if o.pp > 1 then
    self.pipeline = dist.pipelineParallel(model, {comm = g.pp, microBatches = o.microBatches, schedule = o.schedule, balance = o.balance})
    self.extensions[#self.extensions + 1] = self.pipeline
  end
  return self
end

return M
