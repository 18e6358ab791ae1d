-- Register a definition unless its name is taken.
-- KEYS: 1 definitions (hash: name -> JSON), 2 order (list of names)
-- ARGV: 1 name, 2 JSON
-- Replies {1, JSON} when this call registered it, {0, the JSON registered} otherwise.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return {1, ARGV[2]}
end
return {0, redis.call('HGET', KEYS[1], ARGV[1])}
