-- The soak's mix: reads of comment pages and articles, new comments and flags, spread over the
-- seeded articles (soak-0 .. soak-<ARTICLES-1>) and comments (ids 1 .. <COMMENTS>). Counts the
-- 5xx answers per thread; `done` prints their sum as "5xx: N".
local articles = tonumber(os.getenv("ARTICLES") or "50")
local comments = tonumber(os.getenv("COMMENTS") or "200")
local token = os.getenv("TOKEN") or "soak-service-token"
local threads = {}
local headers = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }

setup = function(thread)
  thread:set("tag", tostring(math.random(1, 1000000000)))
  table.insert(threads, thread)
end

init = function()
  math.randomseed(os.time() + tonumber(tag))
  counter = 0
  server_errors = 0
end

request = function()
  counter = counter + 1
  local r = math.random(1, 100)
  local a = "soak-" .. math.random(0, articles - 1)
  if r <= 55 then
    local order = (r % 2 == 0) and "newest" or "oldest"
    return wrk.format("GET", "/api/v1/articles/" .. a .. "/comments?order=" .. order .. "&limit=20",
      headers)
  elseif r <= 70 then
    return wrk.format("GET", "/api/v1/articles/" .. a, headers)
  elseif r <= 88 then
    local body = '{"author": {"id": "soak-' .. tag .. '-' .. counter .. '", "name": "Leser"}, '
      .. '"body": "Ein Kommentar aus dem Dauertest, Nummer ' .. counter .. '."}'
    return wrk.format("POST", "/api/v1/articles/" .. a .. "/comments", headers, body)
  else
    local c = math.random(1, comments)
    local reasons = { "spam", "abuse", "off_topic", "misinformation" }
    local body = '{"reporter": {"id": "melder-' .. tag .. '-' .. counter .. '"}, "reason": "'
      .. reasons[math.random(1, #reasons)] .. '", "note": "Dauertest"}'
    return wrk.format("POST", "/api/v1/comments/" .. c .. "/flags", headers, body)
  end
end

response = function(status, headers, body)
  if status >= 500 then
    server_errors = server_errors + 1
  end
end

done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("server_errors")
  end
  io.write(string.format("5xx: %d\n", total))
  io.write(string.format("requests: %d, p99 latency: %.1f ms\n", summary.requests,
    latency:percentile(99) / 1000))
end
