-- GET a page of 50 comments of a random open article among the HOT newest ones.
local hot = tonumber(os.getenv("HOT") or "1000")
local token = os.getenv("TOKEN") or "bench-service-token"
math.randomseed(os.time())
request = function()
  local a
  repeat a = math.random(0, hot - 1) until a % 10 ~= 9  -- every tenth generated article is closed
  return wrk.format("GET", "/api/v1/articles/gen-" .. a .. "/comments?limit=50",
    { ["Authorization"] = "Bearer " .. token })
end
