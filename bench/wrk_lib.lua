-- What the wrk scripts share (required as "wrk_lib"; bench/common.py's wrk() puts bench/ on
-- LUA_PATH): per-thread ids, fresh consent bodies, and the JSON summary line.
local lib = {}

-- Gives each thread a distinct global thread_id (wrk's setup() runs once per thread, before
-- init(); thread:set reaches a global of the thread's own Lua state).
function lib.number_threads()
  local threads = {}
  thread_id = 0
  setup = function(thread)
    thread:set("thread_id", #threads + 1)
    table.insert(threads, thread)
  end
end

function lib.seed()
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

-- A valid consent body, the n-th of this thread: a new consent id and device each time.
function lib.consent_body(n, action, analytics, marketing)
  return string.format(
    '{"consent_id":"%s","device_id":"%s","revision":1,"action":"%s",' ..
    '"choices":{"necessary":true,"analytics":%s,"marketing":%s},' ..
    '"language":"en","page_url":"https://shop.example/p","gpc":false,"device_secret":"%s"}',
    uuid(n), uuid(n + 1000000000), action or "custom", analytics or "true",
    marketing or "false", secret())
end

function lib.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end

return lib
