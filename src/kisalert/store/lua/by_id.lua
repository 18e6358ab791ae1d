-- The stream entry of alert ARGV[1] if it is in the backlog (the newest ARGV[2]
-- entries), else false. KEYS: 1 ids (hash), 2 alerts (stream).
-- Counts only the entries from it to the newest, in Redis: a recent alert, the
-- usual question, costs little whatever the backlog's size.
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then
  return false
end
local size = tonumber(ARGV[2])
local from = redis.call('XRANGE', KEYS[2], entry, '+', 'COUNT', size + 1)
if #from == 0 or from[1][1] ~= entry or #from > size then
  return false
end
return from[1]
