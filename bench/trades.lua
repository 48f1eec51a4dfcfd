-- wrk drives REST market orders: each request a fresh Idempotency-Key, players taken in turn.
--
--   TRADES_OUT=<result file> TRADES_RUN=<run id> [TRADES_DELAY_MS=<ms>] \
--     wrk -t T -c C -d Ds --timeout 5s -s bench/trades.lua URL -- <players file> <T>
--
-- The players file has one line per player: "<access token> <symbol> <quantity>". Thread k of T
-- takes every T-th player; each player alternates buy and sell of its quantity (bench/trades.py
-- gives every player a stock first, so a sell that overtakes its buy still has units to sell).
-- TRADES_DELAY_MS > 0 paces each connection: it waits that long before each request (wrk does not
-- count the wait in the request's latency), so one player can be held inside its rate budget.
-- done() writes the result file bench/trades.py reads: the status counts, wrk's latency figures,
-- and the id of every confirmed (201) trade, which it then looks for in the books.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  players, ids, statuses = {}, {}, {}
  local i = 0
  for line in io.lines(path) do
    local token, symbol, quantity = line:match("^(%S+) (%S+) (%S+)$")
    if token then
      if i % nthreads == tid - 1 then
        table.insert(players, { token = "Bearer " .. token, symbol = symbol, quantity = quantity, n = 0 })
      end
      i = i + 1
    end
  end
  cursor, counter = 0, 0
  prefix = (os.getenv("TRADES_RUN") or "run") .. "-" .. tid .. "-"
end

local gap_ms = tonumber(os.getenv("TRADES_DELAY_MS") or "0") or 0
if gap_ms > 0 then
  function delay()
    return gap_ms
  end
end

function request()
  cursor = cursor % #players + 1
  local p = players[cursor]
  p.n = p.n + 1
  counter = counter + 1
  local side = (p.n % 2 == 1) and "buy" or "sell"
  return wrk.format("POST", "/api/v1/trades", {
    ["Authorization"] = p.token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = prefix .. counter,
  }, '{"symbol":"' .. p.symbol .. '","side":"' .. side .. '","quantity":"' .. p.quantity .. '"}')
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    ids[#ids + 1] = body:match('"trade":%s*{.-"id":%s*(%d+)') or "?"
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("TRADES_OUT"), "w"))
  out:write(string.format("duration_us %d\n", summary.duration))
  out:write(string.format("requests %d\n", summary.requests))
  local e = summary.errors
  out:write(string.format("errors %d %d %d %d %d\n", e.connect, e.read, e.write, e.status, e.timeout))
  out:write(string.format("latency_us %d %d %d %d\n",
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      out:write(string.format("status %d %d\n", status, count))
    end
    for _, id in ipairs(thread:get("ids")) do
      out:write("id " .. id .. "\n")
    end
  end
  out:close()
end
