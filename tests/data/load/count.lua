-- wrk script for tst_load: the peers' legacy patch (a unique id per request, unique across
-- wrk threads too), every answer tallied by status, and the id of every 202 written to ACK_IDS.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("tid", count)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  statuses = {}
  acked = {}
  other = ""
end

function request()
  n = n + 1
  local body = string.format(
    '{"id":"load-%d-%d","target_file":"a.txt","patch":{"pattern":"x","replacement":"y"},"description":"load"}',
    tid, n)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 202 then
    local id = string.match(body, '"id":"([^"]*)"')
    if id then acked[#acked + 1] = id end
  elseif status ~= 429 and other == "" then
    other = body -- the first unexpected answer, so that a failure says which error it was
  end
end

function done(summary, latency, requests)
  local total = {}
  local first = ""
  local f = assert(io.open(os.getenv("ACK_IDS"), "w"))
  for _, t in ipairs(threads) do
    for code, k in pairs(t:get("statuses")) do total[code] = (total[code] or 0) + k end
    for _, id in ipairs(t:get("acked")) do f:write(id, "\n") end
    if first == "" then first = t:get("other") end
  end
  f:close()
  local parts = {}
  for code, k in pairs(total) do table.insert(parts, string.format('"%d":%d', code, k)) end
  io.write(string.format('COUNT {"statuses":{%s},"requests":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    table.concat(parts, ","), summary.requests, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout))
  if first ~= "" then io.write("OTHER ", first, "\n") end
end
