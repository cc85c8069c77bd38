-- bench/lua/rotate.lua: wrk sends each request with the next session cookie
-- of a list, so that a run reads many distinct sessions instead of one.
--
--   wrk -t<threads> -s bench/lua/rotate.lua <url> -- <tokens file> <threads> [x-csrf] [shard] [shards]
--
-- tokens file: one cookie value per line. Each thread starts at its own
-- offset (the threads, and those of the shards of parallel wrk processes,
-- are spread evenly over the list) and walks it in order, wrapping around,
-- so every cookie is used once per pass. <threads> must be wrk's -t (a
-- thread's init() cannot see it). x-csrf "1" adds the header X-CSRF: 1
-- (the API proxy requires it). The requests are formatted once, in init();
-- only the Host header and these are sent.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  if path == nil then error("rotate.lua: pass the tokens file after --") end
  local nthreads = tonumber(args[2] or "1")
  local csrf = args[3] == "1"
  local shard = tonumber(args[4] or "0")
  local shards = tonumber(args[5] or "1")
  local toks = {}
  for line in io.lines(path) do
    if #line > 0 then toks[#toks + 1] = line end
  end
  if #toks == 0 then error("rotate.lua: no tokens in " .. path) end
  reqs = {}
  for i, t in ipairs(toks) do
    local h = { ["Cookie"] = "next-auth.session-token=" .. t }
    if csrf then h["X-CSRF"] = "1" end
    reqs[i] = wrk.format(nil, nil, h)
  end
  -- wrk runs setup(thread) in the main state just before this thread's init().
  local slot = shard * nthreads + (tid or 0)
  idx = math.floor(#reqs * slot / (shards * nthreads)) % #reqs
end

function request()
  idx = idx % #reqs + 1
  return reqs[idx]
end
