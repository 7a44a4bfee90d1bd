-- wrk script: POST a fresh, valid consent per request; prints a JSON summary line, and writes
-- the consent_id of every acknowledged (201) consent to ACK_PREFIX .. "-" .. thread .. ".txt".
local lib = require("wrk_lib")
local counter = 0
local acked = nil
lib.number_threads()

function init(args)
  lib.seed()
  acked = io.open(os.getenv("ACK_PREFIX") .. "-" .. thread_id .. ".txt", "w")
  acked:setvbuf("line")
end

response = function(status, headers, body)
  if status == 201 then
    acked:write(string.match(body, '"consent_id":"([^"]+)"'), "\n")
  end
end

request = function()
  counter = counter + 1
  return wrk.format("POST", nil, {["Content-Type"] = "text/plain"}, lib.consent_body(counter))
end

done = lib.done
