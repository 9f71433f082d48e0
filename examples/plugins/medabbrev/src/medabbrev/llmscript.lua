-- medabbrev.llmscript: the plugin manifest llmscript reads (a data module: no code, no globals).
return {
  llmscript = '>=0.1',
  description = 'clinical abbreviations: BP <-> blood pressure',
  provides = {
    augmenters = { medabbrev = 'medabbrev.augment' },
    schedules = { medabbrev_ramp = 'medabbrev.ramp' },
  },
}
