package redisstore

import (
	"encoding/binary"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Every write of a record is one Lua script on its key <prefix>s:<id>
// alone (so it runs on Cluster), which reads the stored value and decides
// there, atomically for every process sharing the store:
//
//   - Create writes only where no live record and no tombstone is.
//   - Update writes only over a live record at the expected Version: the
//     script parses the stored value (see recordMeta below) and compares its
//     Version with the caller's.
//   - Delete replaces a live record by a tombstone expiring (PXAT) at the
//     later of `until` and the record's expiry, and returns the record.
//
// The index sorted sets live in other slots: the Go side maintains them
// after the script, as before (list drops entries whose record is gone,
// tombstoned or re-indexed).

// tombstone is the value of an ended record's key. It is JSON on purpose:
// the previous release decodes it as a record with a zero expiry, so an
// instance not yet upgraded reads an ended session as "not found" (never as
// a corrupt record, a 503) during a rolling upgrade. A record never has
// this exact value: stored records are binary (0xb1...) or JSON with an id.
const tombstone = `{"ended":true}`

// recordLua holds the functions the record scripts share.
//
// recordMeta(v) parses a stored record: the binary form (0xb1, len(id),
// id, then session.MarshalRecord: codec byte 1 or 2, Created, LastSeen,
// Expires as zig-zag varint seconds + uvarint nanoseconds, Version as a
// zig-zag varint) or the older JSON form. It returns the Version as the
// caller names it ('b' .. its varint bytes, or 'j' .. its decimal for
// JSON) and the expiry in unix ms (nil for JSON: the key's own expiry,
// PXAT rec.Expires, stands for it), or nil for a value that is not a record.
// Comparing the varint bytes is exact for any int64: Go's encoder writes
// one form per value.
const recordLua = `
local tomb = '` + tombstone + `'
local function uvarint(s, p)
  local x, m = 0, 1
  while true do
    local b = string.byte(s, p)
    if b == nil then return nil, p end
    p = p + 1
    if b < 128 then return x + b * m, p end
    x = x + (b - 128) * m
    m = m * 128
  end
end
local function recordMeta(v)
  if string.byte(v, 1) == 177 then
    local n = string.byte(v, 2)
    if n == nil then return nil end
    local p = 3 + n
    local c = string.byte(v, p)
    if c ~= 1 and c ~= 2 then return nil end
    p = p + 1
    local z, ns, exp
    for i = 1, 3 do
      z, p = uvarint(v, p)
      if z == nil then return nil end
      ns, p = uvarint(v, p)
      if ns == nil then return nil end
      if i == 3 then
        local sec = -(z + 1) / 2
        if z % 2 == 0 then sec = z / 2 end
        exp = sec * 1000 + math.floor(ns / 1000000)
      end
    end
    local q = p
    z, p = uvarint(v, q)
    if z == nil then return nil end
    return 'b' .. string.sub(v, q, p - 1), exp
  end
  local ok, t = pcall(cjson.decode, v)
  if ok and type(t) == 'table' then
    local ver = tonumber(t.v) or 0
    return 'j' .. string.format('%d', ver), nil
  end
  return nil
end
`

// createScript: KEYS[1] the session key; ARGV[1] the value; ARGV[2] its
// PXAT in ms, or "0" to store nothing; ARGV[3] now in ms. Returns 1
// (written), 0 (taken: a live record or a tombstone; undecodable values are
// kept too) or 2 (free, but nothing to store).
var createScript = redis.NewScript(recordLua + `
local v = redis.call('GET', KEYS[1])
if v then
  if v == tomb then return 0 end
  local ver, exp = recordMeta(v)
  if ver == nil or exp == nil or exp > tonumber(ARGV[3]) then return 0 end
end
if ARGV[2] == '0' then return 2 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1
`)

// updateScript: KEYS[1] the session key; ARGV[1] the value; ARGV[2] its
// PXAT in ms, or "0" (an expiry not after now: write nothing); ARGV[3] now
// in ms; ARGV[4], ARGV[5] the expected version as recordMeta names it for
// the binary and the JSON form. Returns 1 (written), 0 (gone: missing,
// expired, tombstoned, or the new expiry is past) or -1 (another version);
// an error for an undecodable value.
var updateScript = redis.NewScript(recordLua + `
local v = redis.call('GET', KEYS[1])
if not v or v == tomb then return 0 end
local ver, exp = recordMeta(v)
if ver == nil then return redis.error_reply('ERR authbff: undecodable session record') end
if exp ~= nil and exp <= tonumber(ARGV[3]) then return 0 end
if ver ~= ARGV[4] and ver ~= ARGV[5] then return -1 end
if ARGV[2] == '0' then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
return 1
`)

// deleteScript: KEYS[1] the session key; ARGV[1] `until` in ms; ARGV[2]
// now in ms. Replaces a live record (undecodable ones included) by the
// tombstone, expiring at the later of `until` and the record's expiry, and
// returns the record's value; returns nil (writing nothing) when there is
// no live record.
var deleteScript = redis.NewScript(recordLua + `
local v = redis.call('GET', KEYS[1])
if not v or v == tomb then return false end
local now = tonumber(ARGV[2])
local ver, exp = recordMeta(v)
if exp ~= nil and exp <= now then return false end
if exp == nil then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then exp = now + ttl end
end
local last = tonumber(ARGV[1])
if exp ~= nil and exp > last then last = exp end
if last > now then
  redis.call('SET', KEYS[1], tomb, 'PXAT', string.format('%d', last))
else
  redis.call('DEL', KEYS[1])
end
return v
`)

// versionArgs names version as recordMeta does, for the binary and the
// JSON form.
func versionArgs(version int64) (bin, js string) {
	return "b" + string(binary.AppendVarint(nil, version)), "j" + strconv.FormatInt(version, 10)
}
