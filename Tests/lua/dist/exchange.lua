-- exchange.lua: run under `mpirun -np 2` by dist_exchange_spec.lua. Each rank prints 'rank <r> <check> <values>'
-- for reduce-scatter, point-to-point (blocking and not), the non-blocking all-reduce and the 16-bit wire formats.
local r = dist.init()
local other = 1 - r
local function show(name, t)
  local parts = {}
  for _, v in ipairs(t:reshape(t:numel()):totable()) do parts[#parts + 1] = string.format('%.9g', v) end
  print(string.format('rank %d %s %s', r, name, table.concat(parts, ',')))
end
local function try(name, fn, ...)
  local ok, err = pcall(fn, ...)
  print(string.format('rank %d %s %s %s', r, name, tostring(ok), tostring(err)))
end
-- reduce-scatter: {1,2,3,4} + {10,20,30,40}
local base = r == 0 and {1, 2, 3, 4} or {10, 20, 30, 40}
show('rs_sum', dist.reduceScatter(llm.tensor(base), {op = 'sum'}))
show('rs_avg', dist.reduceScatter(llm.tensor({{base[1], base[2]}, {base[3], base[4]}}), {op = 'avg'}))
show('rs_max', dist.reduceScatter(llm.tensor(base), {op = 'max'}))
try('rs_odd', dist.reduceScatter, llm.zeros(3))
-- blocking send/recv, rank 0 first sends, rank 1 first receives (then the other way)
if r == 0 then
  dist.send(llm.tensor({1.5, 2.5, 3.5}), 1, 7)
  show('recv', dist.recv(llm.zeros(2), 1))
else
  show('recv', dist.recv(llm.zeros(3), 0, 7))
  dist.send(llm.tensor({-1, -2}), 0)
end
-- non-blocking exchange both ways at once (would deadlock with blocking rendezvous sends of large buffers)
local n = 200000
local out, inb = llm.full({n}, r + 1), llm.zeros(n)
local rq = dist.irecv(inb, other, 3)
local sq = dist.isend(out, other, 3)
sq:wait()
local got = rq:wait()
print(string.format('rank %d irecv %s %g %g %s', r, tostring(got == inb), inb[1]:item(), inb[n]:item(), tostring(rq:test())))
-- non-blocking all-reduce, averaged on completion
local a = llm.tensor({r + 1, 2 * r})
local q = dist.iallReduce(a, {op = 'avg'})
q:wait(); q:wait()
show('iavg', a)
-- 16-bit wire formats: exact for values representable in both
show('f16', dist.allReduce(llm.tensor({0.5 + r, -2, 1000}), {op = 'sum', compress = 'f16'}))
show('bf16', dist.allReduce(llm.tensor({0.5 + r, -2, 1000}), {op = 'avg', compress = 'bf16'}))
-- rounding: 1/3 in f16 is 0.333251953125; the sum of two is 0.66650390625
show('f16round', dist.allReduce(llm.tensor({1 / 3}), {op = 'sum', compress = 'f16'}))
show('bf16round', dist.allReduce(llm.tensor({1 / 3}), {op = 'sum', compress = 'bf16'}))
show('f16big', dist.allReduce(llm.tensor({70000}), {op = 'sum', compress = 'f16'}))
try('compressmax', dist.allReduce, llm.zeros(2), {op = 'max', compress = 'f16'})
try('compressbad', dist.allReduce, llm.zeros(2), {compress = 'int8'})
try('self', dist.send, llm.zeros(1), r)
try('norank', dist.send, llm.zeros(1), 5)
try('badtag', dist.send, llm.zeros(1), other, -1)
-- a size mismatch on receive is an error on the receiver
if r == 0 then
  dist.send(llm.zeros(5), 1, 9)
else
  try('short', dist.recv, llm.zeros(8), 0, 9)
end
-- sub-communicator methods
local sub = dist.split(0)
show('sub_rs', sub:reduceScatter(llm.tensor(base), {op = 'sum'}))
dist.barrier()
print(string.format('rank %d done', r))
