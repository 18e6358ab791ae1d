-- Stamp, throttle, identify and append one alert, atomically for the whole cluster.
--
-- KEYS: 1 clock (the last stamp handed out, µs), 2 alerts (stream), 3 ids (hash:
-- alert id -> stream id), 4 limit window, 5 burst window (sorted sets: member a
-- stamp, score its bucket), 6 last (hash: definition -> its last send, µs),
-- 7 msglog (stream, every message kept: the alert's "<HEADER> <text>" message goes
-- there in the same step, so messages are in raise order and there once the raise
-- is answered; the relays deliver it from the alert's own entry, field 's' its time)
-- ARGV: 1 the stamp the caller built the alert for, 2 the id it wants, 3 and 4 the
-- alert's JSON before and after its id, 5 entries the stream keeps, 6 mode
-- ("admit": throttle; "record": count only; "append": neither), 7 definition name,
-- 8 replica, 9-11 limit count, bucket width, buckets per window, 12-14 the same for
-- the burst window, 15 the message's text, 16 its time (s), 17 messages kept.
--
-- Replies {1, stamp, id}; {0} when the throttle refuses (nothing changed); or
-- {2, stamp} when the caller's stamp is not after the cluster's last one: the
-- caller builds the alert again for that stamp (the JSON holds it) and retries.
-- Numbers are doubles in Lua: stamps in µs stay exact below 2^53 (year 2255).

local function int(x) return string.format('%.0f', x) end

local wanted = tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if wanted <= last then
  return {2, int(last + 1)}
end

local mode = ARGV[6]
local windows = {
  {KEYS[4], tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])},
  {KEYS[5], tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])},
}
if mode ~= 'append' then
  for _, w in ipairs(windows) do
    local bucket = math.floor(wanted / w[3])
    redis.call('ZREMRANGEBYSCORE', w[1], '-inf', int(bucket - w[4]))
    if mode == 'admit' and redis.call('ZCARD', w[1]) >= w[2] then
      return {0}
    end
  end
  for _, w in ipairs(windows) do
    redis.call('ZADD', w[1], int(math.floor(wanted / w[3])), int(wanted))
  end
  redis.call('HSET', KEYS[6], ARGV[7], int(wanted))
end

local id = tonumber(ARGV[2])
while redis.call('HEXISTS', KEYS[3], int(id)) == 1 do
  id = (id + 1) % 4294967296
end
local entry = int(math.floor(wanted / 1000)) .. '-' .. int(wanted % 1000)
redis.call('XADD', KEYS[2], entry, 'j', ARGV[3] .. int(id) .. ARGV[4], 'i', int(id), 'r', ARGV[8],
  's', ARGV[16])
redis.call('HSET', KEYS[3], int(id), entry)
redis.call('SET', KEYS[1], int(wanted))
redis.call('XADD', KEYS[7], 'MAXLEN', ARGV[17], '*', 't', ARGV[15], 'f', '8', 's', ARGV[16])

local extra = redis.call('XLEN', KEYS[2]) - tonumber(ARGV[5])
if extra > 0 then
  local old = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', extra)
  for _, item in ipairs(old) do
    local fields = item[2]
    for k = 1, #fields, 2 do
      if fields[k] == 'i' then redis.call('HDEL', KEYS[3], fields[k + 1]) end
    end
    redis.call('XDEL', KEYS[2], item[1])
  end
end
return {1, int(wanted), int(id)}
