"""The Lua scripts: every conditional multi-key write is one of these."""

from __future__ import annotations

import hashlib
from typing import Final

# Appends a batch of alerts to one channel (KEYS: meta, ids, log, chain, leaves); ARGV holds
# 9 values per alert, in order: id, bytes, signature, received (ms), sender, seq ('' when
# unchained), prev (hex), SHA-256 of the bytes (hex), and the alert's Merkle leaf hash (32 raw
# bytes, SHA-256(0x00 || bytes): PROTOCOL.md Appendix C), appended to the channel's leaf
# string with the XADD, so leaf i is always the alert at offset i + 1 (a channel whose leaf
# string is not exactly 32 x head bytes long — alerts stored before logs were kept — gets no
# more leaves: the hub then signs no checkpoint for it). Each alert is handled as the
# one-alert script did, in order (a repeated id within the batch is a duplicate of its first
# occurrence): dedup first, then the channel's state, then the sender's chain (a chained
# alert must have seq = last + 1 and prev = the hash of the sender's last alert in the
# channel; else code 5 and, in the offset's place, '<last seq>:<last hash hex>'), then XADD
# 0-<offset> and the sender's new chain head (kept in the script and written once per sender
# at the end, as the new ids and the leaf hashes are: the script is atomic, so nothing sees
# the writes in between). Returns {code, offset} per alert, flattened.
#
# The dedup index (KEYS[2]) maps an id to where its alert is and what it was. In a channel
# with leaves the value is the offset alone (decimal, at most 16 digits): a repeat is the
# same alert when its leaf hash is the stored leaf at that offset (SHA-256 of the bytes, kept
# for the channel's life like the index). Otherwise, and in values written before this
# layout, <first 16 bytes of the SHA-1 of the bytes><offset> (17-32 bytes) or, older still,
# <offset>:<40 hex of the SHA-1> (42 bytes or more); the SHA-1 is computed here, only for
# those. Length tells the three apart.
_NEW, _DUP, _CONFLICT, _NO_CHANNEL, _CLOSED, _CHAIN = 0, 1, 2, 3, 4, 5
_ARGS_PER_ALERT = 9
_ZERO_HEX = "0" * 64

_APPEND = """
local out = {}
local state, head, logged = nil, nil, false
local added, dups = false, 0
-- Written once at the end, not per alert: the new ids (this batch's repeats are found in
-- seen, with their leaf hashes in seenleaf), the senders' chain heads (read once per
-- sender), the leaf hashes (one APPEND).
local seen, seenleaf, ids, heads, moved, leaves = {}, {}, {}, {}, {}, {}
local function digest16(data)
  return (string.gsub(string.sub(redis.sha1hex(data), 1, 32), '..',
    function(h) return string.char(tonumber(h, 16)) end))
end
for i = 1, #ARGV, 9 do
  local id = ARGV[i]
  local off, same = seen[id], nil
  if off then
    same = seenleaf[id] == ARGV[i + 8]
  else
    local prev = redis.call('HGET', KEYS[2], id)
    if prev then
      if #prev <= 16 then  -- <offset>: the leaf hash at that offset tells
        off = tonumber(prev)
        same = redis.call('GETRANGE', KEYS[5], (off - 1) * 32, off * 32 - 1) == ARGV[i + 8]
      elseif #prev <= 32 then  -- <16-byte digest><offset>
        off = tonumber(string.sub(prev, 17))
        same = string.sub(prev, 1, 16) == digest16(ARGV[i + 1])
      else  -- <offset>:<40 hex of the SHA-1>
        local sep = string.find(prev, ':', 1, true)
        off = tonumber(string.sub(prev, 1, sep - 1))
        same = string.sub(prev, sep + 1, sep + 32)
          == string.sub(redis.sha1hex(ARGV[i + 1]), 1, 32)
      end
    end
  end
  if off then
    if not same then
      out[#out + 1] = 2
    else
      dups = dups + 1
      out[#out + 1] = 1
    end
    out[#out + 1] = off
  else
    if state == nil then
      state = redis.call('HGET', KEYS[1], 'state')
      if state == 'open' then
        head = tonumber(redis.call('HGET', KEYS[1], 'head'))
        logged = redis.call('STRLEN', KEYS[5]) == 32 * head
      end
    end
    if not state then
      out[#out + 1] = 3
      out[#out + 1] = 0
    elseif state ~= 'open' then
      out[#out + 1] = 4
      out[#out + 1] = 0
    else
      local sender = ARGV[i + 4]
      local chained, last = ARGV[i + 5] ~= '', nil
      if chained then
        last = heads[sender]
        if last == nil then
          last = redis.call('HGET', KEYS[4], sender) or '0:ZERO'
          heads[sender] = last
        end
        local sep = string.find(last, ':', 1, true)
        if tonumber(string.sub(last, 1, sep - 1)) + 1 ~= tonumber(ARGV[i + 5])
            or string.sub(last, sep + 1) ~= ARGV[i + 6] then
          chained = nil
        end
      end
      if chained == nil then
        out[#out + 1] = 5
        out[#out + 1] = last
      else
      if chained then
        heads[sender] = ARGV[i + 5] .. ':' .. ARGV[i + 7]
        moved[sender] = true
      end
      head = head + 1
      local soff = string.format('%d', head)
      redis.call('XADD', KEYS[3], '0-' .. soff, 'a', ARGV[i + 1], 's', ARGV[i + 2],
        'r', ARGV[i + 3])
      seen[id] = head
      seenleaf[id] = ARGV[i + 8]
      ids[#ids + 1] = id
      if logged then
        leaves[#leaves + 1] = ARGV[i + 8]
        ids[#ids + 1] = soff
      else
        ids[#ids + 1] = digest16(ARGV[i + 1]) .. soff
      end
      added = true
      out[#out + 1] = 0
      out[#out + 1] = head
      end
    end
  end
end
-- In slices: unpack's arguments are bounded by Lua's C stack.
for j = 1, #ids, 1000 do
  redis.call('HSET', KEYS[2], unpack(ids, j, math.min(j + 999, #ids)))
end
local chain = {}
for sender in pairs(moved) do
  chain[#chain + 1] = sender
  chain[#chain + 1] = heads[sender]
end
for j = 1, #chain, 1000 do
  redis.call('HSET', KEYS[4], unpack(chain, j, math.min(j + 999, #chain)))
end
if #leaves > 0 then redis.call('APPEND', KEYS[5], table.concat(leaves)) end
if added then redis.call('HSET', KEYS[1], 'head', string.format('%d', head)) end
-- A duplicate writes a counter, so that WAITAOF on this connection covers the original.
if dups > 0 then redis.call('HINCRBY', KEYS[1], 'dups', dups) end
return out
"""

_APPEND = _APPEND.replace("ZERO", _ZERO_HEX)
_APPEND_SHA: Final = hashlib.sha1(_APPEND.encode(), usedforsecurity=False).hexdigest()

# Raises the channel's durable watermark (KEYS: meta, dur) to ARGV[1], clamped to the head,
# never lowering it; each raise is one XADD 0-<watermark> on the dur stream (MAXLEN 1), which
# feeds wait on with XREAD BLOCK. Returns {watermark, epoch} ({0, ''}: no such channel).
# REPL_REPLICA: its writes go to the replicas but not to the AOF, so under appendfsync always
# its reply does not wait for an fsync of its own (one fsync per batch, not two). The
# watermark only ever trails what a confirmed fsync covers; after a store restart the
# continuity check (_RECOVER, which is written to the AOF) sets it from the confirmed head.
_RAISE = """
redis.set_repl(redis.REPL_REPLICA)
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return {0, ''} end
local head = tonumber(redis.call('HGET', KEYS[1], 'head')) or 0
local cur = tonumber(redis.call('HGET', KEYS[1], 'durable')) or 0
local n = math.min(tonumber(ARGV[1]), head)
if n > cur then
  local sn = string.format('%d', n)
  redis.call('HSET', KEYS[1], 'durable', sn)
  redis.pcall('XADD', KEYS[2], 'MAXLEN', '1', '0-' .. sn, 'w', sn)
  cur = n
end
return {cur, epoch}
"""

_RAISE_SHA: Final = hashlib.sha1(_RAISE.encode(), usedforsecurity=False).hexdigest()

# Continuity after the store (re)started (KEYS: meta, dur). ARGV: the epoch and watermark
# this hub process remembers for the channel, the head confirmed durable just before, a
# fresh epoch. When the channel still has the remembered epoch but its head is below the
# remembered watermark, the store lost alerts someone may have seen or been acked: the
# channel gets the fresh epoch and its watermark stream restarts at the head (offsets above
# it will be reused, under the new epoch only). Then the watermark is raised to the
# confirmed head. Returns {bumped (1/0; -1 no such channel), epoch, watermark}.
_RECOVER = """
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if not epoch then return {-1, '', 0} end
local head = tonumber(redis.call('HGET', KEYS[1], 'head')) or 0
local cur = math.min(tonumber(redis.call('HGET', KEYS[1], 'durable')) or 0, head)
local bumped = 0
if epoch == ARGV[1] and tonumber(ARGV[2]) > head then
  epoch = ARGV[4]
  bumped = 1
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'durable', string.format('%d', cur))
  redis.call('DEL', KEYS[2])
  if cur > 0 then
    redis.call('XADD', KEYS[2], 'MAXLEN', '1', '0-' .. string.format('%d', cur), 'w', cur)
  end
end
local n = math.min(tonumber(ARGV[3]), head)
if n > cur then
  local sn = string.format('%d', n)
  redis.call('HSET', KEYS[1], 'durable', sn)
  redis.pcall('XADD', KEYS[2], 'MAXLEN', '1', '0-' .. sn, 'w', sn)
  cur = n
end
return {bumped, epoch, cur}
"""

_RECOVER_SHA: Final = hashlib.sha1(_RECOVER.encode(), usedforsecurity=False).hexdigest()

# KEYS[9] is the channel's Merkle leaf string; its signed checkpoints (KEYS of
# hub.storage.logs) outlive a deletion, so a re-created channel's checkpoints link the last one.
_CREATE_CHANNEL = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[6], KEYS[7], KEYS[8], KEYS[9])
redis.call('HSET', KEYS[1], 'epoch', ARGV[2], 'title', ARGV[3], 'state', 'open',
  'created', ARGV[4], 'starts', ARGV[5], 'ends', ARGV[6], 'retention_ms', ARGV[7],
  'head', '0', 'first', '1', 'durable', '0')
redis.call('SADD', KEYS[5], ARGV[1])
return 1
"""

_DELETE_CHANNEL = """
local found = redis.call('EXISTS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[6], KEYS[7], KEYS[8], KEYS[9])
redis.call('SREM', KEYS[5], ARGV[1])
return found
"""

# Stores an attachment unless present: 1 stored, 0 already there, -1 channel full (ARGV[5]),
# -2 no such channel.
_PUT_ATTACHMENT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
if redis.call('HEXISTS', KEYS[2], 'm:' .. ARGV[1]) == 1 then return 0 end
if redis.call('HLEN', KEYS[2]) >= 2 * tonumber(ARGV[5]) then return -1 end
redis.call('HSET', KEYS[2], 'm:' .. ARGV[1], ARGV[2] .. ' ' .. ARGV[3], 'd:' .. ARGV[1], ARGV[4])
return 1
"""

# Sets fields (ARGV: field, value, ...) of an existing hash and returns the whole hash; {}
# when it does not exist.
_UPDATE_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
redis.call('HSET', KEYS[1], unpack(ARGV))
return redis.call('HGETALL', KEYS[1])
"""

_SET_ROLE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
if ARGV[2] == '' then
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 0
end
if redis.call('EXISTS', KEYS[3]) == 0 then return 2 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 0
"""

_ADD_MEMBER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'name', ARGV[2], 'country', ARGV[3], 'status', 'active',
  'created', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""

# Adds principal ARGV[1] (kind ARGV[2]) to member KEYS[1]'s principals KEYS[2], and when
# ARGV[3] is set registers its first certificate (KEYS[3] hash, KEYS[4] the principal's kids):
# 1 unknown member, 2 principal exists (unless ARGV[4] == '1': then the kind is only filled in
# when unknown, and nothing else changes), 0 done.
_ADD_PRINCIPAL = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
local old = redis.call('HGET', KEYS[2], ARGV[1])
if old then
  if ARGV[4] ~= '1' then return 2 end
  if old == '' and ARGV[2] ~= '' then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[3], 'principal', ARGV[5], 'member', ARGV[6], 'admin', '0',
    'der', ARGV[7], 'serial', ARGV[8], 'not_after', ARGV[9], 'status', 'active')
  redis.call('SADD', KEYS[4], ARGV[3])
end
return 0
"""

# Marks every active certificate among KEYS revoked; returns the keys it changed.
_REVOKE_CERTS = """
local changed = {}
for i, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'status') == 'active' then
    redis.call('HSET', key, 'status', 'revoked', 'revoked_at', ARGV[1])
    table.insert(changed, key)
  end
end
return changed
"""

# Stores CRL ARGV[2] with number ARGV[1] unless the stored one is as new; 1 stored, 0 not.
_SET_CRL = """
local cur = redis.call('HGET', KEYS[1], 'number')
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'number', ARGV[1], 'pem', ARGV[2])
return 1
"""

# Drops the oldest entries received before ARGV[1] (ms), examining at most ARGV[2] entries;
# returns {dropped, more}. `first` and the stream change together.
_TRIM = """
local head = redis.call('HGET', KEYS[1], 'head')
if not head then return {0, 0} end
head = tonumber(head)
local cutoff = tonumber(ARGV[1])
local chunk = tonumber(ARGV[2])
local entries = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', chunk)
local n = 0
local newfirst = nil
for _, e in ipairs(entries) do
  local off = tonumber(string.sub(e[1], 3))
  local r = 0
  local f = e[2]
  for j = 1, #f, 2 do
    if f[j] == 'r' then r = tonumber(f[j + 1]) or 0 break end
  end
  if r >= cutoff then newfirst = off break end
  n = n + 1
end
if n == 0 then return {0, 0} end
local more = 0
if not newfirst then
  if #entries < chunk then
    newfirst = head + 1
  else
    newfirst = tonumber(string.sub(entries[#entries][1], 3)) + 1
    more = 1
  end
end
local sfirst = string.format('%d', newfirst)
redis.call('HSET', KEYS[1], 'first', sfirst)
redis.call('XTRIM', KEYS[2], 'MINID', '0-' .. sfirst)
return {n, more}
"""
