-- llm.runlog: a Trainer run's hold on its run folder and its metrics file. Opening one takes the folder's
-- exclusive lock (llm.checkpoint.lock: a second run on the same folder fails at once, naming the folder
-- and the holder's pid), then removes the leftovers of interrupted checkpoint writes (stale once the lock
-- is held), then reads the metrics file's last logged step. Records get a wall-clock `time` (Unix
-- seconds); a resumed run first writes {type = 'resume', step, from}; records of steps the file already
-- has (a run resumed from an earlier checkpoint, or a new run in a used folder) carry `replay = true`, so
-- readers keep the latest record of each step. Closing (or <close>, or process exit) drops the lock.
local RunLog = {}
RunLog.__index = RunLog

--- Appends one JSON record (with a `time` field) to the metrics file at path.
function RunLog.append(path, entry)
  if entry.time == nil then entry.time = llm.time() end
  local f, err = io.open(path, 'a')
  if not f then error('llm.Trainer: cannot write metrics file: ' .. tostring(err), 0) end
  f:write(llm.json.encode(entry), '\n')
  f:close()
end

-- The largest `step` among the records of a metrics file (0 when it has none or does not exist).
local function lastStep(path)
  local f = io.open(path, 'r')
  if not f then return 0 end
  local last = 0
  for line in f:lines() do
    local ok, rec = pcall(llm.json.decode, line)
    if ok and type(rec) == 'table' and math.type(rec.step) == 'integer' and rec.step > last then last = rec.step end
  end
  f:close()
  return last
end

--- RunLog.open{dir = run folder or nil, metrics = path or nil, step = first step - 1, resumedFrom = path or nil}
function RunLog.open(o)
  local self = setmetatable({metrics = o.metrics, lastLogged = 0, stale = {}}, RunLog)
  if o.dir then
    self.lock = llm.checkpoint.lock(o.dir)
    self.stale = self.lock:removeStale()
  end
  if self.metrics then
    self.lastLogged = lastStep(self.metrics)
    if o.resumedFrom then self:record({type = 'resume', step = o.step, from = o.resumedFrom}) end
  end
  return self
end

--- Appends a record, marked as a replay when its step is already in the file.
function RunLog:record(entry)
  if not self.metrics then return end
  if math.type(entry.step) == 'integer' and entry.step <= self.lastLogged and entry.type ~= 'resume' then entry.replay = true end
  RunLog.append(self.metrics, entry)
end

--- Releases the run folder's lock (idempotent).
function RunLog:close()
  if self.lock then self.lock:release() end
end
RunLog.__close = RunLog.close

return RunLog
