-- Specs of the medabbrev plugin: `llmscript test examples/plugins/medabbrev`.
local augment = require 'medabbrev.augment'
local ramp = require 'medabbrev.ramp'

describe('medabbrev.augment', function()
  local text = 'Blood pressure and heart rate checked; give by mouth twice daily.'

  it('abbreviates every phrase at rate 1, case-insensitively', function()
    assert.are.equal('BP and HR checked; give PO BID.', augment.new{ rate = 1 }(text))
  end)

  it('expands abbreviations at rate 1 and keeps the text at rate 0', function()
    assert.are.equal('blood pressure stable, history of asthma', augment.new{ rate = 1, direction = 'expand' }('BP stable, h/o asthma'))
    assert.are.equal(text, augment.new{ rate = 0 }(text))
  end)

  it('does not touch words that merely contain an abbreviation', function()
    assert.are.equal('BPM and EDGE', augment.new{ rate = 1, direction = 'expand' }('BPM and EDGE'))
  end)

  it('is deterministic under a seed', function()
    local a, b = augment.new{ rate = 0.5, seed = 3 }, augment.new{ rate = 0.5, seed = 3 }
    for _ = 1, 5 do assert.are.equal(a(text), b(text)) end
  end)

  it('takes a rate schedule and rejects bad options', function()
    local aug = augment.new{ rate = ramp{ from = 0, to = 1, steps = 10 } }
    assert.are.equal(text, aug(text, 0))
    assert.are.equal('BP and HR checked; give PO BID.', aug(text, 10))
    assert.has_error(function() augment.new{ rate = 2 } end, "Invalid 'rate': expected a number in [0, 1] or a function of step, got 2")
    assert.has_error(function() augment.new{ direction = 'up' } end)
  end)
end)

describe('medabbrev manifest', function()
  it('names what the plugin provides', function()
    local m = require 'medabbrev.llmscript'
    assert.are.equal('medabbrev.augment', m.provides.augmenters.medabbrev)
    assert.are.equal('medabbrev.ramp', m.provides.schedules.medabbrev_ramp)
  end)
end)
