-- A poll's timestamp: max(now, the last stamp), reserved so that every later stamp
-- is after it. KEYS: 1 clock. ARGV: 1 now (µs).
local mark = math.max(tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%.0f', mark))
return string.format('%.0f', mark)
