-- Change a figure's history (KEYS[1]) in place, only while it is still the version the
-- caller read (KEYS[2] holds ARGV[1]); the version becomes ARGV[2]. ARGV[3] says how:
-- 'append' pushes ARGV[4..] at the end, 'set' sets each index ARGV[i] to ARGV[i + 1].
-- Returns 0, changing nothing, when another version is stored (the caller rewrites it).
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[3] == 'append' then
  for first = 4, #ARGV, 500 do
    redis.call('RPUSH', KEYS[1], unpack(ARGV, first, math.min(first + 499, #ARGV)))
  end
else
  for i = 4, #ARGV, 2 do
    redis.call('LSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
