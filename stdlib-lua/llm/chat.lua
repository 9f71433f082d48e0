-- llm.chat: chat templates, one per model family, shared by `llmscript serve` (/v1/chat/completions)
-- and instruction fine-tuning (render a conversation, train on the assistant turns).
--   chat.templates[name] = {render = function(messages, addGenerationPrompt) -> string, stop = {strings},
--                           jinja = the same template for Hugging Face's tokenizer_config.json chat_template}
--     'chatml'  <|im_start|>role\ncontent<|im_end|>\n ...      nn.GPT with a BPE tokenizer
--     'llama'   [INST] <<SYS>>…<</SYS>> user [/INST] answer </s>  nn.Llama
--     'plain'   System: …\nUser: …\nAssistant: …\n              character tokenizers (no special tokens)
--   chat.forModel(info) -> name: info.extra.chatTemplate when the checkpoint stores one, else the
--     family's (plain for character/byte tokenizers, llama for nn.Llama, chatml otherwise).
--   chat.normalize(messages) -> list of {role, content} | nil, message, param: checks an OpenAI
--     messages array (roles system, developer, user, assistant, tool; content a string or a list of
--     {type='text', text} parts).
--   chat.render(messages, [{template='chatml', addGenerationPrompt=true}]) -> string (the prompt).
local M = {}

local function each(messages, f)
  local out = {}
  for _, m in ipairs(messages) do out[#out + 1] = f(m) end
  return table.concat(out)
end

M.templates = {
  chatml = {
    render = function(messages, gen)
      return each(messages, function(m) return '<|im_start|>' .. m.role .. '\n' .. m.content .. '<|im_end|>\n' end)
        .. (gen and '<|im_start|>assistant\n' or '')
    end,
    stop = {'<|im_end|>', '<|im_start|>'},
    jinja = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
      .. "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
  },
  llama = {
    render = function(messages)   -- the prompt always ends with [/INST]
      local out, system = {}, nil
      for _, m in ipairs(messages) do
        if m.role == 'system' then system = m.content
        elseif m.role == 'assistant' then out[#out + 1] = ' ' .. m.content .. ' </s>'
        else
          local text = system and ('<<SYS>>\n' .. system .. '\n<</SYS>>\n\n' .. m.content) or m.content
          system = nil
          out[#out + 1] = '<s>[INST] ' .. text .. ' [/INST]'
        end
      end
      return table.concat(out)
    end,
    stop = {'</s>', '[INST]'},
    jinja = "{% set ns = namespace(sys=none) %}{% for message in messages %}{% if message['role'] == 'system' %}"
      .. "{% set ns.sys = message['content'] %}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + ' </s>' }}"
      .. "{% else %}{{ '<s>[INST] ' }}{% if ns.sys is not none %}{{ '<<SYS>>\\n' + ns.sys + '\\n<</SYS>>\\n\\n' }}{% set ns.sys = none %}"
      .. "{% endif %}{{ message['content'] + ' [/INST]' }}{% endif %}{% endfor %}",
  },
  plain = {
    render = function(messages, gen)
      local names = {system = 'System', developer = 'System', user = 'User', assistant = 'Assistant', tool = 'Tool'}
      return each(messages, function(m) return names[m.role] .. ': ' .. m.content .. '\n' end) .. (gen and 'Assistant:' or '')
    end,
    stop = {'\nUser:', '\nSystem:'},
    jinja = "{% for message in messages %}{{ {'developer': 'System'}.get(message['role'], message['role'] | capitalize) }}: "
      .. "{{ message['content'] }}\n{% endfor %}"
      .. "{% if add_generation_prompt %}Assistant:{% endif %}",
  },
}

--- The template name for a loaded checkpoint's info (require('llm.checkpointmodel')'s third result).
function M.forModel(info)
  local extra = info and info.extra or {}
  if type(extra.chatTemplate) == 'string' and M.templates[extra.chatTemplate] then return extra.chatTemplate end
  local kind = type(extra.tokenizer) == 'table' and (extra.tokenizer.kind or extra.tokenizer.type) or nil
  if kind == 'char' or kind == 'byte' then return 'plain' end
  if extra.modelClass == 'nn.Llama' then return 'llama' end
  return 'chatml'
end

local roles = {system = true, developer = true, user = true, assistant = true, tool = true}

--- Checks an OpenAI messages array; returns {role, content} tables, or nil, message, param.
function M.normalize(messages)
  if type(messages) ~= 'table' or #messages == 0 then return nil, "'messages' must be a non-empty array", 'messages' end
  local out = {}
  for i, m in ipairs(messages) do
    local p = string.format('messages[%d]', i - 1)
    if type(m) ~= 'table' then return nil, p .. ' must be an object', p end
    if not roles[m.role] then return nil, p .. ".role must be one of system, developer, user, assistant, tool", p .. '.role' end
    local content = m.content
    if type(content) == 'table' then
      local parts = {}
      for j, part in ipairs(content) do
        if type(part) ~= 'table' or part.type ~= 'text' or type(part.text) ~= 'string' then
          return nil, string.format("%s.content[%d]: only {type: 'text', text} parts are supported", p, j - 1), p .. '.content'
        end
        parts[#parts + 1] = part.text
      end
      content = table.concat(parts)
    elseif content == nil or content == llm.json.null then
      content = ''
    end
    if type(content) ~= 'string' then return nil, p .. '.content must be a string or a list of text parts', p .. '.content' end
    out[i] = {role = m.role, content = content}
  end
  return out
end

--- The prompt text of messages under a template (addGenerationPrompt: end with the assistant's cue).
function M.render(messages, opts)
  opts = opts or {}
  local t = M.templates[opts.template or 'chatml']
  if not t then error("chat.render: unknown template '" .. tostring(opts.template) .. "' (chatml, llama, plain)", 2) end
  local list, msg = M.normalize(messages)
  if not list then error('chat.render: ' .. msg, 2) end
  return t.render(list, opts.addGenerationPrompt ~= false)
end

return M
