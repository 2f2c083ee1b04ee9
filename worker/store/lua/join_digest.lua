-- An event (ARGV[1]) joins its email channel's digest (KEYS[1], gathered since KEYS[2])
-- and its delivery (field ARGV[2] of KEYS[3]) is recorded as in it, in one step: Redis
-- gone between the two left the event in the digest with its delivery still pending, so
-- its next attempt added it a second time. Sent again after a lost reply, the call finds
-- the event in the digest and adds it no more.
if not redis.call('LPOS', KEYS[1], ARGV[1]) then
    redis.call('RPUSH', KEYS[1], ARGV[1])
end
redis.call('SET', KEYS[2], ARGV[4], 'NX')
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return 1
