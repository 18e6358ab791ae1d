-- Keep an API key unless one of that name exists. KEYS: 1 keys (hash: name -> JSON),
-- 2 digests (hash: digest -> name). ARGV: 1 name, 2 digest, 3 JSON.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 1
