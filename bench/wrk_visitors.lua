-- wrk script: each connection acts as a stream of visitors: load the snippet, then decide.
local counter = 0
thread_id = 0  -- set per thread by setup(); a global, so thread:set reaches it
local threads = {}
local site_key = os.getenv("SITE_KEY")
local actions = {
  {"accept_all", "true", "true"},
  {"reject_all", "false", "false"},
  {"custom", "true", "false"},
}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + thread_id)
end

local function uuid(n)
  return string.format("%08x-%04x-4%03x-8%03x-%012x",
    math.random(0, 0x7fffffff), thread_id, math.random(0, 0xfff), math.random(0, 0xfff), n)
end

-- A new device per request, so each consent binds its device's secret (base64url characters).
local function secret()
  return string.format("bench-%08x%08x%08x%08x", math.random(0, 0x7fffffff),
    math.random(0, 0x7fffffff), math.random(0, 0x7fffffff), math.random(0, 0x7fffffff))
end

request = function()
  counter = counter + 1
  if counter % 2 == 1 then
    return wrk.format("GET", "/s/" .. site_key .. ".js", {["Accept-Encoding"] = "gzip"})
  end
  local a = actions[math.random(1, #actions)]
  local body = string.format(
    '{"consent_id":"%s","device_id":"%s","revision":1,"action":"%s",' ..
    '"choices":{"necessary":true,"analytics":%s,"marketing":%s},' ..
    '"language":"en","page_url":"https://shop.example/p","gpc":false,"device_secret":"%s"}',
    uuid(counter), uuid(counter + 1000000000), a[1], a[2], a[3], secret())
  return wrk.format("POST", "/api/v1/sites/" .. site_key .. "/consents",
    {["Content-Type"] = "text/plain", ["Origin"] = "https://shop.example"}, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
