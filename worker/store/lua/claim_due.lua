-- Take the members of a sorted set that are due and push them `lease` seconds ahead in
-- one step, so two beats (or a tick retried after a lost reply) never hand out the same
-- member twice, and a member whose task is lost becomes due again when its lease ends.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], member)
end
return due
