-- A document's names, in one call where they were a call (or a transaction) each.
-- First its tracked entities (ARGV[4 .. ARGV[3] + 3]) are added to the topic's sightings
-- (KEYS[2]): 1 for each seen there for the first time, else 0.
-- Then each untracked name: skipped when every one of its words (space separated, the
-- ARGVs that follow) is a known name word (KEYS[1]); otherwise the document (ARGV[1]) and
-- source (ARGV[2]) are added to its sets (KEYS[2i + 1], KEYS[2i + 2]) and both sizes
-- returned (0, 0 when skipped).
local found = {}
local entities = tonumber(ARGV[3])
for i = 4, entities + 3 do
  table.insert(found, redis.call('SADD', KEYS[2], ARGV[i]))
end
for i = 1, #ARGV - entities - 3 do
  local unknown = false
  for word in string.gmatch(ARGV[i + entities + 3], '[^ ]+') do
    if redis.call('SISMEMBER', KEYS[1], word) == 0 then
      unknown = true
      break
    end
  end
  if unknown then
    redis.call('SADD', KEYS[2 * i + 1], ARGV[1])
    redis.call('SADD', KEYS[2 * i + 2], ARGV[2])
    table.insert(found, redis.call('SCARD', KEYS[2 * i + 1]))
    table.insert(found, redis.call('SCARD', KEYS[2 * i + 2]))
  else
    table.insert(found, 0)
    table.insert(found, 0)
  end
end
return found
