-- A feed's seen entries (KEYS[1]) are a sorted set scored by when the feed last listed
-- each one. In one step: the ids the feed lists now (ARGV[4..]) have their score raised to
-- ARGV[1] and those never seen are returned (they are staged by stage.lua); ids not listed
-- since ARGV[2] are forgotten. An id still listed is never forgotten, however long the
-- feed went unpolled or unchanged, because it is refreshed in the same step as the trim.
-- A forgotten id is still staged (KEYS[2], field id) only when its last attempt failed:
-- one retrying (due in KEYS[3] as ARGV[3]|id) is kept, one parked is dropped with its
-- failure record (KEYS[4]), as nothing would ever retry it on its own.
local seen, outbox, due, failures = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now, feed = ARGV[1], ARGV[3]
if redis.call('TYPE', seen).ok == 'set' then
  -- Written before ids were scored: each counts as listed now.
  local ids = redis.call('SMEMBERS', seen)
  redis.call('DEL', seen)
  for _, id in ipairs(ids) do redis.call('ZADD', seen, now, id) end
end
-- A few commands whatever the feed lists: ZMSCORE and ZADD of up to 500 ids at a time
-- (unpack's limit is some thousands of values).
local unseen, listed = {}, {}
for first = 4, #ARGV, 500 do
  local last = math.min(first + 499, #ARGV)
  local scores = redis.call('ZMSCORE', seen, unpack(ARGV, first, last))
  for i = first, last do
    if scores[i - first + 1] then
      table.insert(listed, now)
      table.insert(listed, ARGV[i])
    else
      table.insert(unseen, ARGV[i])
    end
  end
end
for first = 1, #listed, 1000 do
  redis.call('ZADD', seen, 'GT', unpack(listed, first, math.min(first + 999, #listed)))
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', '(' .. ARGV[2])) do
  if redis.call('HEXISTS', outbox, id) == 0 then
    redis.call('ZREM', seen, id)
  elseif not redis.call('ZSCORE', due, feed .. '|' .. id) then
    redis.call('HDEL', outbox, id)
    redis.call('HDEL', failures, feed .. '|' .. id)
    redis.call('ZREM', seen, id)
  end
end
return unseen
