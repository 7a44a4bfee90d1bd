-- wrk script: POST a fresh, valid consent per request; prints a JSON summary line, and writes
-- the consent_id of every acknowledged (201) consent to ACK_PREFIX .. "-" .. thread .. ".txt".
local counter = 0
thread_id = 0  -- set per thread by setup(); a global, so thread:set reaches it
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

local acked = nil

function init(args)
  math.randomseed(os.time() * 1000 + thread_id)
  acked = io.open(os.getenv("ACK_PREFIX") .. "-" .. thread_id .. ".txt", "w")
  acked:setvbuf("line")
end

response = function(status, headers, body)
  if status == 201 then
    acked:write(string.match(body, '"consent_id":"([^"]+)"'), "\n")
  end
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
  local body = string.format(
    '{"consent_id":"%s","device_id":"%s","revision":1,"action":"custom",' ..
    '"choices":{"necessary":true,"analytics":true,"marketing":false},' ..
    '"language":"en","page_url":"https://shop.example/p","gpc":false,"device_secret":"%s"}',
    uuid(counter), uuid(counter + 1000000000), secret())
  return wrk.format("POST", nil, {["Content-Type"] = "text/plain"}, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
