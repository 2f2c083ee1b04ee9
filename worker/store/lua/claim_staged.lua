-- Of a feed's staged entries, take those whose hand-off is due and push it `lease` ahead.
local due = {}
for i = 4, #ARGV do
  local member = ARGV[1] .. '|' .. ARGV[i]
  local score = redis.call('ZSCORE', KEYS[1], member)
  if score and tonumber(score) <= tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[1], ARGV[3], member)
    table.insert(due, ARGV[i])
  end
end
return due
