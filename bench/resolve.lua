-- wrk script: POST /support/resolve with a rotating mix of customers' messages.
-- The bodies are written by bench/http_load.py into the file named by BENCH_BODIES (one JSON
-- body per line); BENCH_KEY is the API key. done() prints the latency percentiles as JSON.
local bodies = {}
local key = os.getenv("BENCH_KEY") or "bench"
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local i = 0

request = function()
  i = i % #bodies + 1
  return wrk.format("POST", "/support/resolve",
                    {["Content-Type"] = "application/json", ["X-API-Key"] = key}, bodies[i])
end

done = function(summary, latency, requests)
  local parts = {}
  for _, p in ipairs({1, 5, 10, 20, 30, 40, 50, 60, 70, 75, 80, 90, 95, 99, 99.9}) do
    parts[#parts + 1] = string.format('"%g": %d', p, latency:percentile(p))
  end
  io.write(string.format('BENCH_JSON {"requests": %d, "seconds": %f, "errors": %d, ' ..
    '"non2xx": %d, "percentiles_us": {%s}}\n', summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, table.concat(parts, ", ")))
end
