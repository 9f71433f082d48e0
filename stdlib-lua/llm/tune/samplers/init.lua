-- llm.tune.samplers: the sampler constructors of the `tune` namespace (installed as tune.sampler):
--   grid(space), random{seed, sobol, scramble}, tpe{seed, multivariate, nStartup, nEICandidates, gamma, ...},
--   gp{seed, nStartup, ...}. Each returns an object with
--   sampler:sampleIndependent(study, trial, name, dist) -> value
--   sampler:inferRelativeSpace(study, trial) -> {name = dist}   (params to propose jointly at trial start)
--   sampler:sampleRelative(study, trial, space) -> {name = value}
-- They read the study only through study:trials{states = {'complete', 'pruned'}} (trial records with number,
-- state, params, distributions, values, intermediate) and study.directions, and draw from local generators
-- seeded by (seed, trial number[, name]): a study is reproducible from its seed and history, across resumes.
-- See each file's header (grid.lua, random.lua, tpe.lua, gp.lua) for the algorithm and its options.
return {
  grid = require 'llm.tune.samplers.grid',
  random = require 'llm.tune.samplers.random',
  tpe = require 'llm.tune.samplers.tpe',
  gp = require 'llm.tune.samplers.gp',
}
