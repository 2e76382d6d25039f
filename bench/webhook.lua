-- wrk script for bench/webhook.sh: POSTs the AdmissionReviews of a file (one JSON document per
-- line) to /validate in turn, each with its own request uid, and prints one line for the script
-- to parse when the run ends.
--
-- Usage: wrk ... -s bench/webhook.lua URL -- REVIEWS_FILE
-- Each line of REVIEWS_FILE contains the placeholder __UID__ where the uid goes.

local threads = {}
local prefixes = {}
local suffixes = {}
local sent = 0

-- `id` is a global of each thread's own Lua state, set here before the thread starts.
function setup(thread)
   thread:set("id", #threads)
   table.insert(threads, thread)
end

function init(args)
   local file = args[1]
   if file == nil then
      error("usage: wrk ... -s webhook.lua URL -- REVIEWS_FILE")
   end
   for line in io.lines(file) do
      local at = string.find(line, "__UID__", 1, true)
      if at == nil then
         error("a line of " .. file .. " has no __UID__ placeholder")
      end
      table.insert(prefixes, string.sub(line, 1, at - 1))
      table.insert(suffixes, string.sub(line, at + 7))
   end
   wrk.method = "POST"
   wrk.path = "/validate"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   local index = sent % #prefixes + 1
   sent = sent + 1
   local body = prefixes[index] .. "bench-" .. (id or 0) .. "-" .. sent .. suffixes[index]
   return wrk.format(nil, nil, nil, body)
end

-- Prints: RESULT requests seconds p50_ms p90_ms p99_ms max_ms non_2xx socket_errors
function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format("RESULT %d %.3f %.3f %.3f %.3f %.3f %d %d\n",
      summary.requests, summary.duration / 1e6,
      latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
      latency:percentile(99) / 1e3, latency.max / 1e3,
      errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
