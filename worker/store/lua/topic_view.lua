-- What ingesting a document reads under its topic's lock, in one call; with a token
-- (ARGV[1] not empty), the call first takes the lock (KEYS[1]) for ARGV[2] ms, and
-- returns false when another holds it: taking the lock and reading are one trip.
-- Read: whether the topic is loaded (KEYS[2]), the document held under its id (KEYS[3],
-- field ARGV[3]), the one holding this very text (KEYS[4], field ARGV[4]), and the
-- members of its band buckets (KEYS[6..], fields ARGV[5..]), comma-separated as
-- lsh_query.lua gives them.
-- A document that is certainly new (the topic loaded, no document held under its id or
-- with its text, no band bucket shared: no original to compare it with) is given its
-- number from the counter (KEYS[5]) in the same call, as next_sequence.lua would; false
-- otherwise, or when the counter is missing (its floor is read from the disk).
if ARGV[1] ~= '' and not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return false
end
local found = {}
for i = 6, #KEYS do
  local members = redis.call('HGET', KEYS[i], ARGV[i - 1])
  if members then table.insert(found, members) end
end
local ready = redis.call('EXISTS', KEYS[2])
local held = redis.call('HGET', KEYS[3], ARGV[3])
local same = redis.call('HGET', KEYS[4], ARGV[4])
local number = false
if ready == 1 and not held and not same and #found == 0
    and redis.call('EXISTS', KEYS[5]) == 1 then
  number = redis.call('INCR', KEYS[5])
end
return {ready, held, same, table.concat(found, ','), number}
