-- llm.testsummary: a busted output handler for `llmscript test`. Prints what busted's terminal handler
-- prints (utfTerminal on a terminal, plainTerminal otherwise, or LLMSCRIPT_TEST_OUTPUT), then a last
-- line `N passed, N failed` (failed counts failures and errors) when busted publishes 'exit'.
return function(options)
  local busted = require 'busted'
  local term = require 'term'
  local isatty = io.type(io.stdout) == 'file' and term.isatty(io.stdout)
  local name = os.getenv('LLMSCRIPT_TEST_OUTPUT') or (isatty and 'utfTerminal' or 'plainTerminal')
  local inner = require('busted.outputHandlers.' .. name)(options)
  local subscribe = inner.subscribe
  inner.subscribe = function(h, opts)
    subscribe(h, opts)
    busted.subscribe({ 'exit' }, function()
      io.write(('%d passed, %d failed\n'):format(h.successesCount, h.failuresCount + h.errorsCount))
      io.flush()
      return nil, true
    end)
  end
  return inner
end
