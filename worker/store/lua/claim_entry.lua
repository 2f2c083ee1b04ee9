-- Who may process an entry now. KEYS[1]: the entry's claim; ARGV: the task's token, now
-- and the claim's deadline (ms), how long a claim record is kept (ms).
-- A claim is "token|deadline", or "done" once the entry's processing is recorded.
--   "mine":  no one held it; now this task does.
--   "taken": a task held it and ended without recording how (its worker was killed by
--            the hard time limit or died: the same task delivered again, or another one
--            past the holder's deadline); now this task holds it, and that counts.
--   "done", "other": finished, or held by a task still within its deadline.
local held = redis.call('GET', KEYS[1])
local claim = ARGV[1] .. '|' .. ARGV[3]
if not held then
  redis.call('SET', KEYS[1], claim, 'PX', ARGV[4])
  return 'mine'
end
if held == 'done' then
  return 'done'
end
local holder, deadline = string.match(held, '^(.*)|(%d+)$')
if holder == ARGV[1] or (deadline and tonumber(deadline) < tonumber(ARGV[2])) then
  redis.call('SET', KEYS[1], claim, 'PX', ARGV[4])
  return 'taken'
end
return 'other'
