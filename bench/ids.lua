-- GET /api/v1/articles?ids= with 100 random article ids (what a front page asks for).
local total = tonumber(os.getenv("ARTICLES") or "10000")
local token = os.getenv("TOKEN") or "bench-service-token"
math.randomseed(os.time())
request = function()
  local ids = {}
  for i = 1, 100 do ids[i] = "gen-" .. math.random(0, total - 1) end
  return wrk.format("GET", "/api/v1/articles?ids=" .. table.concat(ids, ","),
    { ["Authorization"] = "Bearer " .. token })
end
