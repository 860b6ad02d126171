-- wrk script of bench/checkin_burst.sh and bench/checkin_crash.sh: every request is a
-- check-in of a different parent (its own bearer token), with a fresh nonce and the
-- current code. Each wrk thread takes every n-th line of the token file and stops when
-- its share is used up, so the run is exactly one check-in per parent.
--
--   wrk -t2 -c64 -d120s -s bench/checkin_burst.lua URL -- TOKENS SESSION CODEFILE NTHREADS DONEDIR [ACKDIR]
--
-- CODEFILE holds the current six-digit code (the bench script refreshes it from the
-- checkin-code endpoint every two seconds); it is re-read once a second. A thread that
-- has its answers for all its parents writes DONEDIR/done-<thread>; the bench script
-- then ends wrk with SIGINT (wrk itself always runs for its whole -d). Its connections
-- meanwhile idle (delay()), so no answer is cut off. Throughput is timed here, from the
-- first request to the last answer, with the clock in milliseconds (LuaJIT's ffi).
-- With ACKDIR, every acknowledged check-in (201 or 200) is appended, flushed, to
-- ACKDIR/acks-<thread>.txt as "guardian_id status", for the crash test.
-- done() prints one line: RESULT requests=… rps=… p99_ms=… new=… already=… errors=….

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function read_code()
  local f = io.open(codefile, "r")
  if not f then return nil end
  local c = f:read("*l")
  f:close()
  if c and #c == 6 then return c end
  return nil
end

local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_usec; } jx_timeval;
  int gettimeofday(jx_timeval *tv, void *tz);
]]
local tv = ffi.new("jx_timeval")
function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end

function init(args)
  local nthreads = tonumber(args[4])
  tokens = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then tokens[#tokens + 1] = line end
    i = i + 1
  end
  path = "/api/v1/sessions/" .. args[2] .. "/checkins"
  codefile = args[3]
  code = read_code() or "000000"
  code_at = os.time()
  pos, news, already, errs, extra = 0, 0, 0, 0, 0
  t_first, t_last = 0, 0
  -- wrk calls request() once in thread 0's state right after init() to check the
  -- request's shape, and never sends it: that call must not use up a parent.
  verifying = (id == 0)
  donefile = args[5] .. "/done-" .. id
  math.randomseed(os.time() * 7919 + id)
  if args[6] and args[6] ~= "" then
    ack = io.open(args[6] .. "/acks-" .. id .. ".txt", "a")
  end
end

function delay()
  -- This thread's parents are all sent: let the connection idle until wrk is stopped.
  if pos >= #tokens then return 3600000 end
  return 0
end

function request()
  if verifying then
    verifying = false
    return wrk.format("GET", "/healthz")
  end
  local now = os.time()
  if now ~= code_at then
    code = read_code() or code
    code_at = now
  end
  pos = pos + 1
  if t_first == 0 then t_first = now_ms() end
  if pos > #tokens then
    -- Only when there are more connections than parents.
    extra = extra + 1
    return wrk.format("GET", "/healthz")
  end
  local nonce = string.format("b%d-%d-%08x%08x", id, pos,
    math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
  local body = '{"code":"' .. code .. '","nonce":"' .. nonce ..
    '","device":"wrk-' .. id .. '-' .. pos .. '"}'
  return wrk.format("POST", path, {
    ["Authorization"] = "Bearer " .. tokens[pos],
    ["Content-Type"] = "application/json",
  }, body)
end

local function answered()
  if news + already + errs == #tokens then
    t_last = now_ms()
    local f = io.open(donefile, "w")
    if f then f:write("done\n"); f:close() end
  end
end

function response(status, headers, body)
  if status == 201 then
    news = news + 1
  elseif status == 200 then
    if not body:find("guardian_id", 1, true) then return end
    already = already + 1
  else
    errs = errs + 1
    answered()
    return
  end
  answered()
  if ack then
    local g = body:match('"guardian_id":(%d+)')
    if g then
      ack:write(g, " ", status, "\n")
      ack:flush()
    end
  end
end

function done(summary, latency, requests)
  local n, a, e, x = 0, 0, 0, 0
  local first, last = nil, 0
  for _, t in ipairs(threads) do
    n = n + t:get("news")
    a = a + t:get("already")
    e = e + t:get("errs")
    x = x + t:get("extra")
    local tf, tl = t:get("t_first"), t:get("t_last")
    if tf > 0 and (first == nil or tf < first) then first = tf end
    if tl > last then last = tl end
  end
  local answers = n + a + e
  -- Timed by the threads when every answer came; wrk's own duration when one never did.
  local secs = summary.duration / 1e6
  if first and last > first then secs = (last - first) / 1000 end
  local sock = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f new=%d already=%d errors=%d socket_errors=%d\n",
    answers, secs, answers / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    n, a, e, sock))
end
