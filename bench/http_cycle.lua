-- wrk script for bench/http.sh: cycles through request paths read from a file (one a line),
-- each wrk thread from its own offset, and prints one summary line.
--   wrk ... -s bench/http_cycle.lua URL -- PATHS_FILE [HEADER: VALUE]
local paths = {}
local i = 0
local headers = {}

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then paths[#paths + 1] = line end
  end
  if args[2] then
    local k, v = args[2]:match("^([^:]+):%s*(.*)$")
    headers[k] = v
  end
  i = math.random(#paths) - 1
end

function request()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT %.0f req/s  p50 %.2f ms  p99 %.2f ms  non-2xx %d  socket-errors %d  requests %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.status, e.connect + e.read + e.write + e.timeout,
    summary.requests))
end
