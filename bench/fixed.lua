-- GET one fixed path (wrk's URL), with the bench token.
local token = os.getenv("TOKEN") or "bench-service-token"
wrk.headers["Authorization"] = "Bearer " .. token
