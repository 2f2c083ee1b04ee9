-- Append a document id to each band bucket (a comma-separated field), once, keeping the
-- newest ARGV[2] members. A bucket that every page of a templated source falls into (its
-- boilerplate fills a band) would otherwise grow without end: inserts cost O(k) each and
-- every query would fetch and score k signatures. Copies share several bands with their
-- original (a pair at the duplicate threshold shares one of the bands with p > 0.98), and
-- syndication follows publication closely, so the newest members are the ones worth keeping.
-- KEYS[1] and ARGV[3] store the document's signature. With ARGV[4] not empty, the document
-- itself is held in the same step: its record ARGV[4] in KEYS[2] and its text's hash
-- ARGV[5] in KEYS[3] (one call where a transaction and this script were two). The buckets
-- follow, from KEYS[4] and ARGV[6].
local cap = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
  redis.call('HSET', KEYS[3], ARGV[5], ARGV[1])
end
-- A new bucket (most are: a band of a distinct text) is made by HSETNX, one call where a
-- read and a write were two; only a bucket already there is read.
for i = 4, #KEYS do
  local current = redis.call('HSETNX', KEYS[i], ARGV[i + 2], ARGV[1]) == 0
    and redis.call('HGET', KEYS[i], ARGV[i + 2])
  if current and not string.find(',' .. current .. ',', ',' .. ARGV[1] .. ',', 1, true) then
    local members = current .. ',' .. ARGV[1]
    local _, commas = string.gsub(members, ',', ',')
    while commas >= cap do
      members = string.sub(members, string.find(members, ',', 1, true) + 1)
      commas = commas - 1
    end
    redis.call('HSET', KEYS[i], ARGV[i + 2], members)
  end
end
return #KEYS - 3
