-- Forget the API key named ARGV[1]. KEYS as add_key.lua.
local stored = redis.call('HGET', KEYS[1], ARGV[1])
if not stored then
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], cjson.decode(stored)['digest'])
return 1
