-- augment.token: token-level noise on an encoded sequence for denoising objectives. TokenMask chooses
-- round(rate * eligible) positions (ids in `protect` are never chosen) and replaces them by `maskId`
-- (mode 'mask'), a random id below `vocabSize` ('random'), or BERT's 80/10/10 mix ('bert'). Input: a
-- Lua array of ids or a tensor (same kind out). aug:mask(ids) also returns the chosen positions.
local base = require 'llm.augment.base'
local M = {}

M.TokenMask = base.class('TokenMask', {
  options = {rate = 0.15, maskId = false, vocabSize = false, mode = 'mask', protect = false},
  mask = function(self, ids)
    if type(ids) ~= 'table' and type(ids) ~= 'userdata' then
      error(('%s: expected a list of token ids or a tensor, got %s'):format(self.__name, type(ids)), 2)
    end
    return llm.text.maskTokens(ids, {rate = self:rate('rate'), maskId = self.opts.maskId, vocabSize = self.opts.vocabSize,
                                     mode = self.opts.mode, protect = self.opts.protect, generator = self.gen})
  end,
  apply = function(self, ids)
    local out = self:mask(ids)   -- one value: the ids only
    return out
  end,
})

return M
