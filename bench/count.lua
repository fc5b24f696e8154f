-- wrk script for bench/run: the peers' post.lua (loaded from $POST_LUA, its request() used as is)
-- with every answer tallied by status, and the patch id of every 2xx answer whose body names it
-- written to $ACK_IDS (Ghost Runner and the Flask pipeline echo the id; adnanh/webhook does not).
--
-- BENCH_PATCH=rotate (bench/run's default) turns post.lua's edit {"pattern":"x","replacement":"y"},
-- which can match only once in a workspace, into {"pattern":"^(.)(.*)$","replacement":"\2\1"}:
-- a regex that matches every time and rotates a.txt ("xy" -> "yx" -> "xy"), so every delivery is
-- a real edit that writes the file, in every tool. BENCH_PATCH=post sends post.lua's body unchanged.
-- Ids stay unique across wrk threads: each thread seeds post.lua's math.random differently.

dofile(assert(os.getenv("POST_LUA"), "set POST_LUA to the peers' post.lua"))

if (os.getenv("BENCH_PATCH") or "rotate") == "rotate" then
  local format = wrk.format
  wrk.format = function(method, path, headers, body)
    if body then
      body = body:gsub('"pattern":"x","replacement":"y"',
                       '"pattern":"^(.)(.*)$","replacement":"\\\\2\\\\1"')
    end
    return format(method, path, headers, body)
  end
end

local threads = {}
local nthreads = 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(tid * 7919 + os.time() * 104729 + math.floor(os.clock() * 1e6))
  statuses = {}
  acked = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 200 and status < 300 then
    local id = string.match(body, '"id":"([^"]*)"')
    if id then acked[#acked + 1] = id end
  end
end

function done(summary, latency, requests)
  local total = {}
  local ids = os.getenv("ACK_IDS")
  local f = ids and assert(io.open(ids, "w"))
  for _, t in ipairs(threads) do
    for code, k in pairs(t:get("statuses")) do total[code] = (total[code] or 0) + k end
    if f then
      for _, id in ipairs(t:get("acked")) do f:write(id, "\n") end
    end
  end
  if f then f:close() end
  local parts = {}
  for code, k in pairs(total) do table.insert(parts, string.format('"%d":%d', code, k)) end
  io.write(string.format(
    'COUNT {"statuses":{%s},"requests":%d,"duration_us":%d,"latency_p50_us":%d,"latency_p99_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}}\n',
    table.concat(parts, ","), summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    summary.errors.status))
end
