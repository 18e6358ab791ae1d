-- Register a definition unless its name is taken; reply the one registered.
-- KEYS: 1 definitions (hash: name -> JSON), 2 order (list of names)
-- ARGV: 1 name, 2 JSON
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return ARGV[2]
end
return redis.call('HGET', KEYS[1], ARGV[1])
