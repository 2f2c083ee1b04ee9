-- What ingesting a document reads under its topic's lock, in one call: whether the topic
-- is loaded (KEYS[1]), the document held under its id (KEYS[2], field ARGV[1]), the one
-- holding this very text (KEYS[3], field ARGV[2]), and the members of its band buckets
-- (KEYS[4..], fields ARGV[3..]), comma-separated as lsh_query.lua gives them.
local found = {}
for i = 4, #KEYS do
  local members = redis.call('HGET', KEYS[i], ARGV[i - 1])
  if members then table.insert(found, members) end
end
return {
  redis.call('EXISTS', KEYS[1]),
  redis.call('HGET', KEYS[2], ARGV[1]),
  redis.call('HGET', KEYS[3], ARGV[2]),
  table.concat(found, ','),
}
