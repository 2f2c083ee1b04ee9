-- Count each line key (ARGV[3..]) once more in the source's line counter (KEYS[1]), which
-- expires ARGV[2] seconds after the source's last document. Past ARGV[1] lines the counter
-- is aged: lines counted once are dropped, then, while over half the cap, every count is
-- halved (the periodic halving of TinyLFU's frequency sketch). Article text is nearly all
-- lines seen once or twice; boilerplate, on every page, is counted again far more often
-- than the counter is aged, so it stays recognised. Ageing leaves at most half the cap, so
-- it runs once per cap/2 new lines, not on every document once the counter is full.
for i = 3, #ARGV do
  redis.call('HINCRBY', KEYS[1], ARGV[i], 1)
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
local cap = tonumber(ARGV[1])
if redis.call('HLEN', KEYS[1]) > cap then
  local halve = false
  repeat
    local counts = redis.call('HGETALL', KEYS[1])
    for i = 1, #counts, 2 do
      local n = tonumber(counts[i + 1])
      if halve then n = math.floor(n / 2) end
      if n <= 1 then
        redis.call('HDEL', KEYS[1], counts[i])
      elseif halve then
        redis.call('HSET', KEYS[1], counts[i], n)
      end
    end
    halve = true
  until redis.call('HLEN', KEYS[1]) <= cap / 2
end
return #ARGV - 2
