-- wrk script: GET /health; done() prints the latency percentiles as JSON (see resolve.lua).
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
