-- Count each line key (ARGV but the last) once more in the source's line counter
-- (KEYS[1]). Past ARGV[#ARGV] lines, the lines counted once are dropped: a source's
-- article text is nearly all lines seen once, and its boilerplate, on every page, is
-- counted again long before the next pruning, so the counter stays small and still works.
for i = 1, #ARGV - 1 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], 1)
end
if redis.call('HLEN', KEYS[1]) > tonumber(ARGV[#ARGV]) then
  local counts = redis.call('HGETALL', KEYS[1])
  for i = 1, #counts, 2 do
    if counts[i + 1] == '1' then redis.call('HDEL', KEYS[1], counts[i]) end
  end
end
return #ARGV - 1
