-- Add each entry id to the feed's seen set, scored as listed at ARGV[3]; stage the new ones
-- (id, JSON) in its outbox and schedule their hand-off (due at ARGV[2], when the poll's own
-- hand-off counts as lost).
local staged = {}
for i = 4, #ARGV, 2 do
  if redis.call('ZADD', KEYS[1], 'NX', ARGV[3], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1] .. '|' .. ARGV[i])
    table.insert(staged, ARGV[i])
  end
end
return staged
