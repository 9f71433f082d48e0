-- make_tfevents_fixture.lua: writes Tests/Fixtures/observe/events.out.tfevents.fixture with llm.observe.tfevents
-- (three train/loss scalars, one histogram of fixed values, one text sample) and, when the tensorboard PyPI
-- package is installed in /tmp/torchvenv, what tensorboard's EventAccumulator read from it
-- (Tests/Fixtures/observe/tensorboard_read.json, by scripts/reference/tensorboard_check.py). observe_spec.lua
-- checks the fixture's framing and CRCs with the Lua reader and compares its values with that JSON, so CI
-- (no tensorboard) still proves the bytes are ones tensorboard loads.
-- Run: llmscript scripts/reference/make_tfevents_fixture.lua
local tf = require 'llm.observe.tfevents'
local dir = 'Tests/Fixtures/observe'
local path = dir .. '/events.out.tfevents.fixture'
os.remove(path)
local w = tf.open(dir, {path = path})
for step, loss in ipairs{2.5, 1.25, 0.625} do w:scalar('train/loss', loss, step) end
w:histogram('weights/w', {-1, -0.5, 0, 0, 0.25, 0.5, 1, 2}, 3, {bins = 4})
w:text('samples/text', 'héllo **world**', 3)
w:close()
print('wrote ' .. path)
local py = '/tmp/torchvenv/bin/python'
if os.execute(py .. ' -c "import tensorboard" 2>/dev/null') then
  assert(os.execute(py .. ' scripts/reference/tensorboard_check.py ' .. path .. ' > ' .. dir .. '/tensorboard_read.json'))
  print('wrote ' .. dir .. '/tensorboard_read.json (tensorboard EventAccumulator)')
else
  print('tensorboard not installed in /tmp/torchvenv: ' .. dir .. '/tensorboard_read.json not updated')
end
