-- POST a comment to a random open article (or, with ARTICLE=id, always to that one: a hot story),
-- each request by a new author (the per-author rate limit is 5 a minute, and the same text twice
-- by one author is a repeat post) with its own text.
local hot = tonumber(os.getenv("HOT") or "1000")
local token = os.getenv("TOKEN") or "bench-service-token"
local fixed = os.getenv("ARTICLE")
local counter = 0
local threads = 0
thread_tag = "main"
-- Runs in the main state once per thread: a tag no other thread or run shares.
setup = function(thread)
  threads = threads + 1
  thread:set("thread_tag", string.format("%d-%d-%d", os.time(), threads, math.random(1, 1000000000)))
end
math.randomseed(os.time())
request = function()
  counter = counter + 1
  local a = fixed
  if not a then
    repeat a = math.random(0, hot - 1) until a % 10 ~= 9
    a = "gen-" .. a
  end
  local body = '{"author": {"id": "bench-' .. thread_tag .. '-' .. counter .. '", "name": "Leser"}, '
    .. '"body": "Ein Kommentar aus dem Lasttest, mit ein wenig Text wie im echten Leben, Nummer '
    .. counter .. '."}'
  return wrk.format("POST", "/api/v1/articles/" .. a .. "/comments",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end
