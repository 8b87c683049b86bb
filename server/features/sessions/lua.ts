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

const EXPIRE_IF_DUE = `
local function state_now(key, now)
  local st = redis.call('HGET', key, 'state')
  if (st == 'pending' or st == 'scanned') and now >= tonumber(redis.call('HGET', key, 'expiresAt')) then
    redis.call('HSET', key, 'state', 'expired')
    return 'expired', true
  end
  return st, false
end
local function answer(status, key)
  local out = redis.call('HGETALL', key)
  table.insert(out, 1, status)
  return out
end
`;

/**
 * A phone's scan attempt, counted before WeChat is asked who scanned (each attempt spends one of
 * the tenant's WeChat calls), answered with the session in the same round trip. ARGV: now(ms).
 * Status: the attempts so far, as a number, or expired | missing (not counted).
 */
export const COUNT_SCAN = `${EXPIRE_IF_DUE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = state_now(KEYS[1], tonumber(ARGV[1]))
if st == 'expired' then return answer('expired', KEYS[1]) end
return answer(tostring(redis.call('HINCRBY', KEYS[1], 'scanAttempts', 1)), KEYS[1])
`;

/**
 * Scan: first scanner wins; the same openid may scan again (phone reopened the page) and gets a
 * fresh ticket. ARGV: now(ms), openid, unionid ('' if none), ticketHash.
 * Status: scanned | rescanned | expired | taken | gone | missing.
 */
export const SCAN = `${EXPIRE_IF_DUE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local now = tonumber(ARGV[1])
local st = state_now(KEYS[1], now)
if st == 'expired' then return answer('expired', KEYS[1]) end
if st == 'pending' then
  redis.call('HSET', KEYS[1], 'state', 'scanned', 'openid', ARGV[2], 'unionid', ARGV[3], 'ticket', ARGV[4], 'scannedAt', ARGV[1])
  return answer('scanned', KEYS[1])
end
if st == 'scanned' and redis.call('HGET', KEYS[1], 'openid') == ARGV[2] then
  redis.call('HSET', KEYS[1], 'ticket', ARGV[4])
  return answer('rescanned', KEYS[1])
end
if st == 'cancelled' then return answer('gone', KEYS[1]) end
return answer('taken', KEYS[1])
`;

/**
 * The scanner's answer (confirm or cancel) needs a live, scanned session and the scan's ticket.
 * ARGV[1] = now(ms), ARGV[2] = ticketHash; leaves `st` set for the script that follows.
 */
const TICKET_GUARD = `${EXPIRE_IF_DUE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st = state_now(KEYS[1], tonumber(ARGV[1]))
if st == 'expired' then return answer('expired', KEYS[1]) end
if st == 'pending' then return answer('not_scanned', KEYS[1]) end
if redis.call('HGET', KEYS[1], 'ticket') ~= ARGV[2] then return answer('wrong_ticket', KEYS[1]) end
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
local leased = st == 'confirming' and tonumber(redis.call('HGET', KEYS[1], 'leaseUntil') or '0') > now
if st == 'scanned' or (st == 'confirming' and not leased) then
  redis.call('HSET', KEYS[1], 'state', 'confirming', 'leaseUntil', now + tonumber(ARGV[3]), 'leaseOwner', ARGV[4])
  return answer('confirming', KEYS[1])
end
if st == 'confirming' then return answer('busy', KEYS[1]) end
if st == 'confirmed' or st == 'consumed' then return answer('done', KEYS[1]) end
return answer('gone', KEYS[1])
`;

/**
 * Recovery's claim on a confirm whose lease ran out with nobody retrying it (no ticket: the
 * recovery pass answers for Postgres, which records who scanned). ARGV: now(ms), leaseMs, leaseOwner.
 * Status: confirming (claimed) | busy (lease still held) | state (not confirming; see the hash) | missing.
 */
export const CLAIM_CONFIRM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local now = tonumber(ARGV[1])
local out
if redis.call('HGET', KEYS[1], 'state') ~= 'confirming' then
  out = redis.call('HGETALL', KEYS[1])
  table.insert(out, 1, 'state')
  return out
end
if tonumber(redis.call('HGET', KEYS[1], 'leaseUntil') or '0') > now then return {'busy'} end
redis.call('HSET', KEYS[1], 'leaseUntil', now + tonumber(ARGV[2]), 'leaseOwner', ARGV[3])
out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, 'confirming')
return out
`;

/**
 * Finish confirm: confirming → confirmed with the token waiting for the secret's holder. Any
 * lease holder may finish: they all sign from the same Postgres record. ARGV: token, user JSON,
 * keepMs (how long the token may wait). Status: confirmed | done (finished already) | missing.
 */
export const FINISH_CONFIRM = `
local st = redis.call('HGET', KEYS[1], 'state')
if st == 'confirmed' or st == 'consumed' then return {'done'} end
if st ~= 'confirming' then return {'missing'} end
redis.call('HSET', KEYS[1], 'state', 'confirmed', 'token', ARGV[1], 'user', ARGV[2])
redis.call('HDEL', KEYS[1], 'leaseUntil', 'leaseOwner')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, 'confirmed')
return out
`;

/**
 * A confirm that failed before it knew whether Postgres has the login (the write failed or its
 * answer was lost) gives its lease up at once, so the phone's retry (or recovery) takes over
 * without waiting for it to run out. ARGV: leaseOwner. Status: ok.
 */
export const RELEASE_CONFIRM = `
if redis.call('HGET', KEYS[1], 'state') == 'confirming' and redis.call('HGET', KEYS[1], 'leaseOwner') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'leaseUntil', '0')
end
return {'ok'}
`;

/**
 * Recovery found no login in Postgres for a confirm nobody finished, and fenced it there with
 * an `expired` event: the session ends as expired. ARGV: leaseOwner.
 * Status: expired | state (someone else moved it; see the hash) | missing.
 */
export const ABANDON_CONFIRM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local out
if redis.call('HGET', KEYS[1], 'state') == 'confirming' and redis.call('HGET', KEYS[1], 'leaseOwner') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'expired')
  redis.call('HDEL', KEYS[1], 'leaseUntil', 'leaseOwner')
  out = redis.call('HGETALL', KEYS[1])
  table.insert(out, 1, 'expired')
  return out
end
out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, 'state')
return out
`;

/**
 * Cancel by the scanner. ARGV: now(ms), ticketHash.
 * Status: cancelled | already | expired | wrong_ticket | not_scanned | done | missing.
 */
export const CANCEL = `${TICKET_GUARD}
if st == 'scanned' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled')
  return answer('cancelled', KEYS[1])
end
if st == 'cancelled' then return answer('already', KEYS[1]) end
return answer('done', KEYS[1])
`;

/**
 * Attach the holder of the secret (resume, long-poll, or the socket that got `confirmed`):
 * records which instance to route events to, and hands the token over once. The taker names
 * itself (`claim`, one per socket): if Redis's answer to it was lost, the same taker asking
 * again gets the token again; anyone else finds the session consumed.
 * ARGV: now(ms), secretHash, instanceId ('' = keep the current holder), claim ('' = none).
 * Status: token (token handed over, now consumed) | state (see the hash) | denied (unknown or wrong secret, or consumed).
 */
export const ATTACH = `${EXPIRE_IF_DUE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'denied'} end
if redis.call('HGET', KEYS[1], 'secret') ~= ARGV[2] then return {'denied'} end
local st = state_now(KEYS[1], tonumber(ARGV[1]))
local out
if st == 'consumed' then
  if ARGV[4] == '' or redis.call('HGET', KEYS[1], 'takenBy') ~= ARGV[4] then return {'denied'} end
  out = redis.call('HGETALL', KEYS[1])
  table.insert(out, 1, 'token')
  return out
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'holder', ARGV[3]) end
if st == 'confirmed' then
  redis.call('HSET', KEYS[1], 'state', 'consumed')
  if ARGV[4] == '' then
    out = redis.call('HGETALL', KEYS[1])
    redis.call('HDEL', KEYS[1], 'token')
  else
    redis.call('HSET', KEYS[1], 'takenBy', ARGV[4])
    out = redis.call('HGETALL', KEYS[1])
  end
  table.insert(out, 1, 'token')
  return out
end
return answer('state', KEYS[1])
`;

/**
 * Timed expiry: pending or scanned past expiresAt → expired. ARGV: now(ms).
 * Status: expired (moved now) | state (unchanged; see the hash) | missing.
 */
export const EXPIRE = `${EXPIRE_IF_DUE}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local st, moved = state_now(KEYS[1], tonumber(ARGV[1]))
if moved then return answer('expired', KEYS[1]) end
return answer('state', KEYS[1])
`;
