-- wrk script: each connection acts as a stream of visitors: load the snippet, then decide.
local lib = require("wrk_lib")
local counter = 0
local site_key = os.getenv("SITE_KEY")
local actions = {
  {"accept_all", "true", "true"},
  {"reject_all", "false", "false"},
  {"custom", "true", "false"},
}
lib.number_threads()

function init(args)
  lib.seed()
end

request = function()
  counter = counter + 1
  if counter % 2 == 1 then
    return wrk.format("GET", "/s/" .. site_key .. ".js", {["Accept-Encoding"] = "gzip"})
  end
  local a = actions[math.random(1, #actions)]
  return wrk.format("POST", "/api/v1/sites/" .. site_key .. "/consents",
    {["Content-Type"] = "text/plain", ["Origin"] = "https://shop.example"},
    lib.consent_body(counter, a[1], a[2], a[3]))
end

done = lib.done
