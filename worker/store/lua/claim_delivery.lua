-- Take a delivery's claim (KEYS[1]) for the attempt ARGV[1], for ARGV[2] ms: 1 when no
-- other attempt holds it (this call sent again after a lost reply finds its own claim),
-- 0 while another does. Two attempts at once would each find the delivery pending and
-- each send the event.
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
