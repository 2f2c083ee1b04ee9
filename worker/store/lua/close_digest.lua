-- A digest's first n events (ARGV[3..2+n], the head of the list KEYS[1]) leave it, sent
-- or failed for good, and each one's delivery (field ARGV[1] of KEYS[4+i]) is recorded
-- as ARGV[2+n+i] (none when empty), in one step: Redis gone half-way left them in the
-- digest, sent again with the next one. Sent again after a lost reply, the call finds the
-- digest no longer begins with them and does nothing (trimming again would drop events
-- that joined since). Those that joined while it was sent stay, gathered from ARGV[#ARGV]
-- (KEYS[2]) and due once the window has passed again; the failed attempts (KEYS[3]) and
-- the time of the next (KEYS[4]) were the closed digest's. Returns 0 when it did nothing.
local n = tonumber(ARGV[2])
local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
if #head ~= n then return 0 end
for i = 1, n do
    if head[i] ~= ARGV[2 + i] then return 0 end
end
for i = 1, n do
    local record = ARGV[2 + n + i]
    if record ~= '' then redis.call('HSET', KEYS[4 + i], ARGV[1], record) end
end
redis.call('LTRIM', KEYS[1], n, -1)
redis.call('DEL', KEYS[3], KEYS[4])
if redis.call('LLEN', KEYS[1]) > 0 then
    redis.call('SET', KEYS[2], ARGV[#ARGV])
else
    redis.call('DEL', KEYS[2])
end
return 1
