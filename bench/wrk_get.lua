-- wrk script for GETs (optionally with If-None-Match from the ETAG env var); JSON summary.
local etag = os.getenv("ETAG")
request = function()
  if etag and etag ~= "" then
    return wrk.format("GET", nil, {["If-None-Match"] = etag})
  end
  return wrk.format("GET")
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
