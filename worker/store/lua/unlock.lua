-- Release a lock (KEYS[1]) held with token ARGV[1], and wake one task waiting for it
-- (BLPOP on KEYS[2]; a wake-up nobody takes runs out after ARGV[2] ms). Returns 0 when
-- the lock is no longer this token's (it ran out, and may be another task's now).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('RPUSH', KEYS[2], 1)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
