-- Tests/lua/tune/driver.lua STORAGE OBJECTIVE WORKERS TRIALS TRIAL_TIMEOUT [MEMORY_MB]: runs a parallel study (one child
-- process per trial, 2 cores of budget) for tune_study_spec, so that the workers inherit this process's
-- environment (TUNE_SPEC_FAULTS, TUNE_SPEC_MEMORY).
local storage, objective, workers, trials, timeout = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])
local memoryMB = arg[6] and math.tointeger(tonumber(arg[6]))
local study = tune.study{name = 'parallel', storage = storage, sampler = tune.sampler.random{seed = 3}}
study:optimize(objective, {workers = math.tointeger(workers), trials = math.tointeger(trials), cores = 2, trialTimeout = timeout, memoryMB = memoryMB, quiet = true})
print(tostring(study))
