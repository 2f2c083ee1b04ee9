-- Let go of a claim (KEYS[1]) held by ARGV[1]. One that ran out and is another's now is
-- left to it; a second call (sent again after a lost reply) finds nothing to do.
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
