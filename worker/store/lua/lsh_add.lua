-- Append a document id to each band bucket (a comma-separated field), once, keeping the
-- newest ARGV[2] members. A bucket that every page of a templated source falls into (its
-- boilerplate fills a band) would otherwise grow without end: inserts cost O(k) each and
-- every query would fetch and score k signatures. Copies share several bands with their
-- original (a pair at the duplicate threshold shares one of the bands with p > 0.98), and
-- syndication follows publication closely, so the newest members are the ones worth keeping.
-- KEYS[1] and ARGV[3] store the document's signature; the buckets follow.
local cap = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
for i = 2, #KEYS do
  local current = redis.call('HGET', KEYS[i], ARGV[i + 2])
  if not current then
    redis.call('HSET', KEYS[i], ARGV[i + 2], ARGV[1])
  elseif not string.find(',' .. current .. ',', ',' .. ARGV[1] .. ',', 1, true) then
    local members = current .. ',' .. ARGV[1]
    local _, commas = string.gsub(members, ',', ',')
    while commas >= cap do
      members = string.sub(members, string.find(members, ',', 1, true) + 1)
      commas = commas - 1
    end
    redis.call('HSET', KEYS[i], ARGV[i + 2], members)
  end
end
return #KEYS
