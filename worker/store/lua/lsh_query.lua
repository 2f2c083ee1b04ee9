-- The members of each band bucket (KEYS[i], field ARGV[i]), comma-separated, in one call.
local found = {}
for i = 1, #KEYS do
  local members = redis.call('HGET', KEYS[i], ARGV[i])
  if members then table.insert(found, members) end
end
return table.concat(found, ',')
