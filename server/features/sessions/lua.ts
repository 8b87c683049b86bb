/**
 * The session state machine as atomic Redis scripts (BullMQ's house style: one small script
 * per transition, headed by its keys and arguments).
 *
 * Every script works on one hash, KEYS[1] = `<prefix>:sess:{<id>}`, and answers
 * `{status, field1, value1, …}`: a status word followed by the whole hash after the change,
 * so the caller never needs a second round trip to build its answer.
 *
 * Expiry is lazy as well as timed: any script that finds a pending or scanned session past
 * its `expiresAt` moves it to `expired` first, so no path can act on a dead code.
 */

/**
 * Each script reads the hash once (HGETALL into a table `h`) and keeps `h` in step with its own
 * writes, so the answer needs no second read: the fewest commands Redis runs per transition
 * (commandstats counts the ones inside scripts too).
 */
const PRELUDE = `
local function load(key)
  local flat = redis.call('HGETALL', key)
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h, #flat > 0
end
local function put(key, h, ...)
  local a = {...}
  redis.call('HSET', key, unpack(a))
  for i = 1, #a, 2 do h[a[i]] = tostring(a[i + 1]) end
end
local function drop(key, h, ...)
  redis.call('HDEL', key, ...)
  for _, f in ipairs({...}) do h[f] = nil end
end
local function answer(status, h)
  local out = {status}
  for k, v in pairs(h) do
    out[#out + 1] = k
    out[#out + 1] = v
  end
  return out
end
local function state_now(key, h, now)
  local st = h.state
  if (st == 'pending' or st == 'scanned') and now >= tonumber(h.expiresAt) then
    put(key, h, 'state', 'expired')
    return 'expired', true
  end
  return st, false
end
`;

/**
 * A phone's scan attempt, counted before WeChat is asked who scanned (each attempt spends one of
 * the tenant's WeChat calls), answered with the session in the same round trip. ARGV: now(ms).
 * Status: the attempts so far, as a number, or expired | missing (not counted).
 */
export const COUNT_SCAN = `${PRELUDE}
local h, found = load(KEYS[1])
if not found then return {'missing'} end
local st = state_now(KEYS[1], h, tonumber(ARGV[1]))
if st == 'expired' then return answer('expired', h) end
local n = redis.call('HINCRBY', KEYS[1], 'scanAttempts', 1)
h.scanAttempts = tostring(n)
return answer(tostring(n), h)
`;

/**
 * Scan: first scanner wins; the same openid may scan again (phone reopened the page) and gets a
 * fresh ticket. ARGV: now(ms), openid, unionid ('' if none), ticketHash.
 * Status: scanned | rescanned | expired | taken | gone | missing.
 */
export const SCAN = `${PRELUDE}
local h, found = load(KEYS[1])
if not found then return {'missing'} end
local st = state_now(KEYS[1], h, tonumber(ARGV[1]))
if st == 'expired' then return answer('expired', h) end
if st == 'pending' then
  put(KEYS[1], h, 'state', 'scanned', 'openid', ARGV[2], 'unionid', ARGV[3], 'ticket', ARGV[4], 'scannedAt', ARGV[1])
  return answer('scanned', h)
end
if st == 'scanned' and h.openid == ARGV[2] then
  put(KEYS[1], h, 'ticket', ARGV[4])
  return answer('rescanned', h)
end
if st == 'cancelled' then return answer('gone', h) end
return answer('taken', h)
`;

/**
 * The scanner's answer (confirm or cancel) needs a live, scanned session and the scan's ticket.
 * ARGV[1] = now(ms), ARGV[2] = ticketHash; leaves `st` set for the script that follows.
 */
const TICKET_GUARD = `${PRELUDE}
local h, found = load(KEYS[1])
if not found then return {'missing'} end
local st = state_now(KEYS[1], h, tonumber(ARGV[1]))
if st == 'expired' then return answer('expired', h) end
if st == 'pending' then return answer('not_scanned', h) end
if h.ticket ~= ARGV[2] then return answer('wrong_ticket', h) end
`;

/**
 * Begin confirm: scanned → confirming under a lease, so one confirm at a time writes the login.
 * A lease that ran out (its holder died or lost Redis mid-way) is taken over by the same phone's
 * retry: the login write is idempotent per session, so the taker finishes whatever the dead one
 * left. A confirm repeated with the right ticket after success answers `done` (a double tap is
 * not an error). ARGV: now(ms), ticketHash, leaseMs, leaseOwner.
 * Status: confirming | done | busy | expired | wrong_ticket | not_scanned | gone | missing.
 */
export const BEGIN_CONFIRM = `${TICKET_GUARD}
local now = tonumber(ARGV[1])
local leased = st == 'confirming' and tonumber(h.leaseUntil or '0') > now
if st == 'scanned' or (st == 'confirming' and not leased) then
  put(KEYS[1], h, 'state', 'confirming', 'leaseUntil', now + tonumber(ARGV[3]), 'leaseOwner', ARGV[4])
  return answer('confirming', h)
end
if st == 'confirming' then return answer('busy', h) end
if st == 'confirmed' or st == 'consumed' then return answer('done', h) end
return answer('gone', h)
`;

/**
 * Recovery's claim on a confirm whose lease ran out with nobody retrying it (no ticket: the
 * recovery pass answers for Postgres, which records who scanned). ARGV: now(ms), leaseMs, leaseOwner.
 * Status: confirming (claimed) | busy (lease still held) | state (not confirming; see the hash) | missing.
 */
export const CLAIM_CONFIRM = `${PRELUDE}
local h, found = load(KEYS[1])
if not found then return {'missing'} end
local now = tonumber(ARGV[1])
if h.state ~= 'confirming' then return answer('state', h) end
if tonumber(h.leaseUntil or '0') > now then return {'busy'} end
put(KEYS[1], h, 'leaseUntil', now + tonumber(ARGV[2]), 'leaseOwner', ARGV[3])
return answer('confirming', h)
`;

/**
 * Finish confirm: confirming → confirmed with the token waiting for the secret's holder. Any
 * lease holder may finish: they all sign from the same Postgres record. ARGV: token, user JSON,
 * keepMs (how long the token may wait). Status: confirmed | done (finished already) | missing.
 */
export const FINISH_CONFIRM = `${PRELUDE}
local h = load(KEYS[1])
local st = h.state
if st == 'confirmed' or st == 'consumed' then return {'done'} end
if st ~= 'confirming' then return {'missing'} end
put(KEYS[1], h, 'state', 'confirmed', 'token', ARGV[1], 'user', ARGV[2])
drop(KEYS[1], h, 'leaseUntil', 'leaseOwner')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return answer('confirmed', h)
`;

/**
 * A confirm that failed before it knew whether Postgres has the login (the write failed or its
 * answer was lost) gives its lease up at once, so the phone's retry (or recovery) takes over
 * without waiting for it to run out. ARGV: leaseOwner. Status: ok.
 */
export const RELEASE_CONFIRM = `
local f = redis.call('HMGET', KEYS[1], 'state', 'leaseOwner')
if f[1] == 'confirming' and f[2] == ARGV[1] then
  redis.call('HSET', KEYS[1], 'leaseUntil', '0')
end
return {'ok'}
`;

/**
 * Recovery found no login in Postgres for a confirm nobody finished, and fenced it there with
 * an `expired` event: the session ends as expired. ARGV: leaseOwner.
 * Status: expired | state (someone else moved it; see the hash) | missing.
 */
export const ABANDON_CONFIRM = `${PRELUDE}
local h, found = load(KEYS[1])
if not found then return {'missing'} end
if h.state == 'confirming' and h.leaseOwner == ARGV[1] then
  put(KEYS[1], h, 'state', 'expired')
  drop(KEYS[1], h, 'leaseUntil', 'leaseOwner')
  return answer('expired', h)
end
return answer('state', h)
`;

/**
 * Cancel by the scanner. ARGV: now(ms), ticketHash.
 * Status: cancelled | already | expired | wrong_ticket | not_scanned | done | missing.
 */
export const CANCEL = `${TICKET_GUARD}
if st == 'scanned' then
  put(KEYS[1], h, 'state', 'cancelled')
  return answer('cancelled', h)
end
if st == 'cancelled' then return answer('already', h) end
return answer('done', h)
`;

/**
 * Attach the holder of the secret (resume, long-poll, or the socket that got `confirmed`):
 * records which instance to route events to, and hands the token over once. The taker names
 * itself (`claim`, one per socket): if Redis's answer to it was lost, the same taker asking
 * again gets the token again; anyone else finds the session consumed.
 * ARGV: now(ms), secretHash, instanceId ('' = keep the current holder), claim ('' = none).
 * Status: token (token handed over, now consumed) | state (see the hash) | denied (unknown or wrong secret, or consumed).
 */
export const ATTACH = `${PRELUDE}
local h, found = load(KEYS[1])
if not found or h.secret ~= ARGV[2] then return {'denied'} end
local st = state_now(KEYS[1], h, tonumber(ARGV[1]))
if st == 'consumed' then
  if ARGV[4] == '' or h.takenBy ~= ARGV[4] then return {'denied'} end
  return answer('token', h)
end
if st == 'confirmed' then
  local w = {'state', 'consumed'}
  if ARGV[3] ~= '' then table.insert(w, 'holder'); table.insert(w, ARGV[3]) end
  if ARGV[4] ~= '' then table.insert(w, 'takenBy'); table.insert(w, ARGV[4]) end
  put(KEYS[1], h, unpack(w))
  local out = answer('token', h)
  -- Without a claim nobody may ask again: the token leaves Redis with this answer.
  if ARGV[4] == '' then redis.call('HDEL', KEYS[1], 'token') end
  return out
end
if ARGV[3] ~= '' then put(KEYS[1], h, 'holder', ARGV[3]) end
return answer('state', h)
`;

/**
 * Timed expiry: pending or scanned past expiresAt → expired. ARGV: now(ms).
 * Status: expired (moved now) | state (unchanged; see the hash) | missing.
 */
export const EXPIRE = `${PRELUDE}
local h, found = load(KEYS[1])
if not found then return {'missing'} end
local st, moved = state_now(KEYS[1], h, tonumber(ARGV[1]))
if moved then return answer('expired', h) end
return answer('state', h)
`;
