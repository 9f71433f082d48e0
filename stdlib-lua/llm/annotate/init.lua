-- annotate: weak supervision and labelled data (loaded at start-up as the global `annotate`).
-- Labelling functions: annotate.lf(name, fn) with fn(doc) -> label | annotate.ABSTAIN (-1) | nil;
-- annotate.apply(lfs, docs, [{module=, workers=}]) -> LabelMatrix (inline, or parallel.pool workers with a
-- module of LFs); annotate.step(lfs | module) labels documents in llm.data.pipeline (meta.labels) and
-- annotate.fromDocs(docs, lfs | module) collects the matrix. Label models: annotate.majorityVote(L,
-- {tieBreak=}) and annotate.LabelModel{} (one-coin Dawid-Skene EM: per-LF accuracies and class priors
-- learnt from agreements). annotate.analysis(L, gold) -> per-LF coverage/overlaps/conflicts/empirical
-- accuracy. IO: readJSONL/writeJSONL, readCoNLL/writeCoNLL, checkBIO. Interactive labelling:
-- annotate.session{input=, output=, labels=}. See README "Annotation".
local lf = require 'llm.annotate.lf'
local lm = require 'llm.annotate.labelmodel'
local aio = require 'llm.annotate.io'

local annotate = {
  ABSTAIN = lf.ABSTAIN,
  lf = lf.lf,
  isLF = lf.isLF,
  apply = lf.apply,
  labelMatrix = lf.labelMatrix,
  step = require('llm.annotate.pipeline').step,
  fromDocs = require('llm.annotate.pipeline').fromDocs,
  majorityVote = lm.majorityVote,
  LabelModel = lm.LabelModel,
  analysis = require('llm.annotate.analysis').analysis,
  readJSONL = aio.readJSONL,
  writeJSONL = aio.writeJSONL,
  readCoNLL = aio.readCoNLL,
  writeCoNLL = aio.writeCoNLL,
  checkBIO = aio.checkBIO,
  session = require('llm.annotate.session').session,
}
return annotate
