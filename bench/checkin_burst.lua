-- wrk script of bench/checkin_burst.sh and bench/checkin_crash.sh: every request is a
-- check-in of a different parent (its own bearer token), with a fresh nonce and the
-- current code. Each wrk thread takes every n-th line of the token file and stops when
-- its share is used up, so the run is exactly one check-in per parent.
--
--   wrk -t2 -c64 -d60s -s bench/checkin_burst.lua URL -- TOKENS SESSION CODEFILE NTHREADS [ACKDIR]
--
-- CODEFILE holds the current six-digit code (the bench script refreshes it from the
-- checkin-code endpoint every two seconds); it is re-read once a second. With ACKDIR,
-- every acknowledged check-in (201 or 200) is appended, flushed, to
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
  math.randomseed(os.time() * 7919 + id)
  if args[5] and args[5] ~= "" then
    ack = io.open(args[5] .. "/acks-" .. id .. ".txt", "a")
  end
end

function request()
  local now = os.time()
  if now ~= code_at then
    code = read_code() or code
    code_at = now
  end
  pos = pos + 1
  if pos > #tokens then
    -- This thread's parents are done; wrk wants one more request before it stops.
    wrk.thread:stop()
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

function response(status, headers, body)
  if status == 201 then
    news = news + 1
  elseif status == 200 then
    if not body:find("guardian_id", 1, true) then return end
    already = already + 1
  else
    errs = errs + 1
    return
  end
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
  for _, t in ipairs(threads) do
    n = n + t:get("news")
    a = a + t:get("already")
    e = e + t:get("errs")
    x = x + t:get("extra")
  end
  local secs = summary.duration / 1e6
  local sock = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f new=%d already=%d errors=%d socket_errors=%d\n",
    summary.requests - x, secs, (summary.requests - x) / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    n, a, e, sock))
end
