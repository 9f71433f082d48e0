-- llm/export/gguf.lua: GGUF v3 files llama.cpp loads (through llm.gguf.write). nn.GPT -> architecture
-- 'gpt2' (gpt2.* hyper-parameters; token_embd, position_embd, blk.N.attn_norm/attn_qkv/attn_output/
-- ffn_norm/ffn_up/ffn_down, output_norm, output when untied; zero biases for a bias-free model);
-- nn.Llama -> 'llama' (llama.* hyper-parameters; attn_q/attn_k/attn_v with q and k rows permuted from
-- HF's rotate-half RoPE layout to llama.cpp's, as its converter does; ffn_gate/ffn_up/ffn_down). The BPE
-- vocabulary, token types and merges go under tokenizer.ggml.* (model 'gpt2', pre 'gpt-2'), padded with
-- [PAD<i>] tokens up to the model's vocabulary; tokenizer.chat_template is the Jinja chat template
-- llama.cpp reads (llm.chat's template o.chatTemplate, which llm.export picks: --chat-template, else the
-- checkpoint's, else chatml for nn.GPT, llama for nn.Llama, as `llmscript serve` does). Matrices take
-- the dtype (f32 | f16 | q8_0 | q4_0 | q4_k); 1-D tensors stay F32, position_embd stays F32 when quantizing, and a matrix whose rows are not a
-- multiple of the block (32; q4_k: 256) falls back (a note says which): q4_k to Q4_0 when its rows are a
-- multiple of 32 (llama.cpp's quantizer picks Q5_0 there, a type llmscript does not write), else to F16.
-- q4_k files say general.file_type 14 (llama.cpp's MOSTLY_Q4_K_S: every matrix Q4_K).
local U = require 'llm.export.util'
local fail = U.fail

local G = {}

local fileTypes = {f32 = 0, f16 = 1, q4_0 = 2, q8_0 = 7, q4_k = 14}
local BLOCK = {q8_0 = 32, q4_0 = 32, q4_k = 256}

-- {ours, gguf name, isMatrix} of an nn.GPT (llama.cpp gpt2).
local function gpt2Tensors(c)
  local out = {{'tokEmb.weight', 'token_embd.weight', true}, {'posEmb.weight', 'position_embd.weight', true}}
  local per = {{'ln1.weight', 'attn_norm.weight'}, {'ln1.bias', 'attn_norm.bias'}, {'attn.qkv.weight', 'attn_qkv.weight', true},
    {'attn.qkv.bias', 'attn_qkv.bias'}, {'attn.proj.weight', 'attn_output.weight', true}, {'attn.proj.bias', 'attn_output.bias'},
    {'ln2.weight', 'ffn_norm.weight'}, {'ln2.bias', 'ffn_norm.bias'}, {'mlp.fc.weight', 'ffn_up.weight', true},
    {'mlp.fc.bias', 'ffn_up.bias'}, {'mlp.proj.weight', 'ffn_down.weight', true}, {'mlp.proj.bias', 'ffn_down.bias'}}
  for i = 0, c.layers - 1 do
    for _, e in ipairs(per) do out[#out + 1] = {'blocks.' .. i .. '.' .. e[1], 'blk.' .. i .. '.' .. e[2], e[3]} end
  end
  out[#out + 1] = {'lnF.weight', 'output_norm.weight'}
  out[#out + 1] = {'lnF.bias', 'output_norm.bias'}
  if not c.tieWeights then out[#out + 1] = {'head.weight', 'output.weight', true} end
  return out
end

local function gpt2(model)
  local c = model._config
  U.checkGPT2(c, "llama.cpp's gpt2 architecture", {geluTanh = true})
  local meta = {{'gpt2.context_length', 'uint32', c.blockSize}, {'gpt2.embedding_length', 'uint32', c.dim},
    {'gpt2.feed_forward_length', 'uint32', c.hidden or 4 * c.dim}, {'gpt2.block_count', 'uint32', c.layers},
    {'gpt2.attention.head_count', 'uint32', c.heads}, {'gpt2.attention.layer_norm_epsilon', 'float32', c.normEps or 1e-5}}
  local sd, tensors = model:stateDict(), {}
  for _, e in ipairs(gpt2Tensors(c)) do tensors[#tensors + 1] = {e[2], sd[e[1]] or U.zeroBias(sd, e[1]), e[3]} end
  return 'gpt2', meta, tensors
end

-- HF's rotate-half q/k rows -> llama.cpp's interleaved pairs: (heads, 2, d/2, in) -> (heads, d/2, 2, in).
local function permuteRope(w, heads)
  local rows, cols = w:size(1), w:size(2)
  return w:reshape(heads, 2, rows // heads // 2, cols):transpose(2, 3):contiguous():reshape(rows, cols)
end

local function llama(model)
  local c = model._llama
  U.checkLlama(model, "llama.cpp's llama architecture")
  local kv = c.kvHeads or c.heads
  local meta = {{'llama.context_length', 'uint32', c.maxSeq}, {'llama.embedding_length', 'uint32', c.dim},
    {'llama.feed_forward_length', 'uint32', model._config.hidden}, {'llama.block_count', 'uint32', c.layers},
    {'llama.attention.head_count', 'uint32', c.heads}, {'llama.attention.head_count_kv', 'uint32', kv},
    {'llama.rope.dimension_count', 'uint32', c.dim // c.heads}, {'llama.rope.freq_base', 'float32', c.ropeBase},
    {'llama.attention.layer_norm_rms_epsilon', 'float32', c.rmsEps}, {'llama.vocab_size', 'uint32', c.vocab}}
  if c.ropeScaling then
    meta[#meta + 1] = {'llama.rope.scaling.type', 'string', 'linear'}
    meta[#meta + 1] = {'llama.rope.scaling.factor', 'float32', c.ropeScaling.factor}
  end
  local hf = model:hfStateDict()
  local tensors = {{'token_embd.weight', hf['model.embed_tokens.weight'], true}}
  local names = {{'input_layernorm.weight', 'attn_norm.weight'}, {'self_attn.q_proj.weight', 'attn_q.weight', c.heads},
    {'self_attn.k_proj.weight', 'attn_k.weight', kv}, {'self_attn.v_proj.weight', 'attn_v.weight'},
    {'self_attn.o_proj.weight', 'attn_output.weight'}, {'post_attention_layernorm.weight', 'ffn_norm.weight'},
    {'mlp.gate_proj.weight', 'ffn_gate.weight'}, {'mlp.up_proj.weight', 'ffn_up.weight'}, {'mlp.down_proj.weight', 'ffn_down.weight'}}
  for i = 0, c.layers - 1 do
    for _, e in ipairs(names) do
      local t = hf['model.layers.' .. i .. '.' .. e[1]]
      if type(e[3]) == 'number' then t = permuteRope(t, e[3]) end
      tensors[#tensors + 1] = {'blk.' .. i .. '.' .. e[2], t, t:dim() == 2}
    end
  end
  tensors[#tensors + 1] = {'output_norm.weight', hf['model.norm.weight'], false}
  if not c.tied then tensors[#tensors + 1] = {'output.weight', hf['lm_head.weight'], true} end
  return 'llama', meta, tensors
end

local function tokenizerMeta(tok, vocab, template)
  if not tok or tok.type ~= 'bpe' then
    fail("llm.export: gguf needs a BPE tokenizer (llama.cpp has no character vocabulary); this model's tokenizer is '"
      .. tostring(tok and tok.type) .. "' — export format 'hf' or 'safetensors' instead")
  end
  if #tok.vocab > vocab then fail(string.format('llm.export: the tokenizer has %d tokens but the model only %d', #tok.vocab, vocab)) end
  local special = {}
  for _, a in ipairs(tok.added or {}) do if a.special then special[a.id] = true end end
  local tokens, types = {}, {}
  for i = 1, vocab do
    tokens[i] = tok.vocab[i] or ('[PAD' .. (i - 1) .. ']')
    types[i] = tok.vocab[i] == nil and 5 or (special[i - 1] and 3 or 1)   -- 1 normal, 3 control, 5 unused
  end
  local meta = {{'tokenizer.ggml.model', 'string', 'gpt2'}, {'tokenizer.ggml.pre', 'string', 'gpt-2'},
    {'tokenizer.ggml.tokens', 'array', tokens, 'string'}, {'tokenizer.ggml.token_type', 'array', types, 'int32'},
    {'tokenizer.ggml.merges', 'array', llm.json.array(tok.merges), 'string'}}
  meta[#meta + 1] = {'tokenizer.chat_template', 'string', require('llm.chat').templates[template].jinja}   -- llm.export's choice, as Jinja
  local eot = U.endOfText(tok)
  if eot then
    meta[#meta + 1] = {'tokenizer.ggml.bos_token_id', 'uint32', eot}
    meta[#meta + 1] = {'tokenizer.ggml.eos_token_id', 'uint32', eot}
  end
  return meta
end

--- Writes model (nn.GPT or nn.Llama) with tokenizer table tok to o.out in o.dtype; returns files, notes.
function G.export(model, tok, o)
  local build = ({['nn.GPT'] = gpt2, ['nn.Llama'] = llama})[model.__name]
  if not build then fail('llm.export: gguf export supports nn.GPT and nn.Llama, not ' .. tostring(model.__name)) end
  local arch, archMeta, list = build(model)
  local quantized = BLOCK[o.dtype] ~= nil
  local meta = {{'general.architecture', 'string', arch}, {'general.name', 'string', o.name or ('llmscript-' .. arch)},
    {'general.file_type', 'uint32', fileTypes[o.dtype]}}
  if quantized then meta[#meta + 1] = {'general.quantization_version', 'uint32', 2} end
  for _, m in ipairs(archMeta) do meta[#meta + 1] = m end
  for _, m in ipairs(tokenizerMeta(tok, model._config.vocab, o.chatTemplate)) do meta[#meta + 1] = m end
  local tensors, notes = {}, {}
  for _, e in ipairs(list) do
    local name, t, kind = e[1], e[2], 'f32'
    if e[3] then
      kind = o.dtype
      if quantized and name == 'position_embd.weight' then kind = 'f32'
      elseif quantized and t:size(t:dim()) % BLOCK[kind] ~= 0 then
        local n = t:size(t:dim())
        kind = n % 32 == 0 and 'q4_0' or 'f16'
        notes[#notes + 1] = string.format('%s stays %s: its rows have %d values, not a multiple of %d', name, kind, n, BLOCK[o.dtype])
      end
    end
    tensors[#tensors + 1] = {name, t, kind}
  end
  llm.gguf.write(o.out, {metadata = meta, tensors = tensors})
  return {o.out:match('[^/]+$')}, notes
end

return G
