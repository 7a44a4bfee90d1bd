-- wrk script: POST a fresh, valid consent per request; prints a JSON summary line.
local lib = require("wrk_lib")
local counter = 0
lib.number_threads()

function init(args)
  lib.seed()
end

request = function()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "text/plain"}, lib.consent_body(counter))
end

done = lib.done
