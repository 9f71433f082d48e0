-- llm/tune/worker.lua: the child process of one parallel trial (started by llm/tune/parallel.lua):
--   llmscript --threads=T worker.lua STORAGE STUDY NUMBER OBJECTIVE
-- opens the study, runs trial NUMBER of the objective file (a Lua file returning function(trial, params) or
-- {objective = fn, space = table}) in this process and records its result; exits 0 once the result is stored.
local storagePath, name, number, objectivePath = ...
assert(storagePath and name and tonumber(number) and objectivePath, 'usage: worker.lua STORAGE STUDY NUMBER OBJECTIVE')
local study = tune.study{storage = storagePath, name = name}
local record = study.store:trials(study.id, nil, math.tointeger(tonumber(number)))[1]
assert(record, 'tune worker: no trial ' .. number .. ' in study ' .. name)
local loaded = dofile(objectivePath)
local objective, space = loaded, nil
if type(loaded) == 'table' then objective, space = loaded.objective, loaded.space end
if type(objective) ~= 'function' then
  study.store:finish(record.id, 'failed', nil, "the objective file '" .. objectivePath .. "' must return a function or {objective = fn}")
  os.exit(0)
end
study:runTrial(objective, {space = space}, record)
study:close()
