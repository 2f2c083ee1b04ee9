-- For each untracked name: skip it when every one of its words (ARGV[i + 2], space
-- separated) is a known name word (KEYS[1]); otherwise add the document (ARGV[1]) and
-- source (ARGV[2]) to its sets (KEYS[2i], KEYS[2i + 1]) and return both sizes (0, 0 when
-- skipped), so a document's names cost one call instead of a transaction each.
local counts = {}
for i = 1, #ARGV - 2 do
  local unknown = false
  for word in string.gmatch(ARGV[i + 2], '[^ ]+') do
    if redis.call('SISMEMBER', KEYS[1], word) == 0 then
      unknown = true
      break
    end
  end
  if unknown then
    redis.call('SADD', KEYS[2 * i], ARGV[1])
    redis.call('SADD', KEYS[2 * i + 1], ARGV[2])
    table.insert(counts, redis.call('SCARD', KEYS[2 * i]))
    table.insert(counts, redis.call('SCARD', KEYS[2 * i + 1]))
  else
    table.insert(counts, 0)
    table.insert(counts, 0)
  end
end
return counts
