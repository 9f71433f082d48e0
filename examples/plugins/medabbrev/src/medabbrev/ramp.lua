-- medabbrev.ramp: a rate schedule. ramp{from = 0, to = 0.5, steps = 100} returns rate(step): linear from
-- `from` at step 0 to `to` at `steps`, constant afterwards.
return function(opts)
  local from, to, steps = opts.from or 0, opts.to or 1, opts.steps or 1
  assert(type(steps) == 'number' and steps > 0, "Invalid 'steps': expected a positive number")
  return function(step)
    local t = math.min(math.max(step / steps, 0), 1)
    return from + (to - from) * t
  end
end
