-- wrk script for GETs (optionally with If-None-Match from the ETAG env var); JSON summary.
local lib = require("wrk_lib")
local etag = os.getenv("ETAG")
request = function()
  if etag and etag ~= "" then
    return wrk.format("GET", nil, {["If-None-Match"] = etag})
  end
  return wrk.format("GET")
end

done = lib.done
