-- A topic's next document number, in one step (one trip when the counter is there).
-- A missing counter (a new topic, or Redis lost its data) starts past ARGV[1], the highest
-- number used on disk; asked without it, the answer is then false, and the caller reads
-- the disk and asks again.
if redis.call('EXISTS', KEYS[1]) == 0 then
  if ARGV[1] == nil then return false end
  redis.call('SET', KEYS[1], ARGV[1])
end
return redis.call('INCR', KEYS[1])
