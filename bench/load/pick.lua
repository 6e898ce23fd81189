-- pick.lua: each request carries a line picked at random from a file, as
-- the last segment of a GET path or as the body of a POST, so that wrk
-- spreads its requests over many certificates (or tokens) instead of one.
--
--   wrk ... -s pick.lua URL -- FILE MODE [ACCEPT]
--
-- FILE holds one value a line. MODE is "path" (GET URL-path .. value) or
-- "body" (POST URL-path with the value as a vc+jwt body). ACCEPT, if given,
-- is sent as the Accept header (a browser's, for the HTML page).

local lines = {}
local mode, headers
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  for l in io.lines(args[1]) do
    if #l > 0 then lines[#lines + 1] = l end
  end
  mode = args[2] or "path"
  headers = {}
  if args[3] and #args[3] > 0 then headers["Accept"] = args[3] end
  if mode == "body" then headers["Content-Type"] = "application/vc+jwt" end
  math.randomseed(os.time() * 1000 + (seed or 0))
end

function request()
  local v = lines[math.random(#lines)]
  if mode == "body" then
    return wrk.format("POST", wrk.path, headers, v)
  end
  return wrk.format("GET", wrk.path .. v, headers)
end
