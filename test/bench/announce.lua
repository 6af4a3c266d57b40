-- SPDX-License-Identifier: BSD-3-Clause
-- test/bench/announce.lua - wrk script for HTTP announces (BEP 3/23):
-- each request a random torrent from $DPT_HASHES (one info hash per line,
-- 40 hex digits, as `dpt-load --write-hashes` writes them), a random peer
-- id and port, compact replies, numwant $DPT_NUMWANT (50), seeders
-- $DPT_SEEDERS percent (20). wrk keeps connections alive (HTTP/1.1).
-- Usage: DPT_HASHES=FILE wrk -s announce.lua http://HOST:PORT/announce

local hashes = {}
local numwant = tonumber(os.getenv("DPT_NUMWANT") or "50")
local seeders = tonumber(os.getenv("DPT_SEEDERS") or "20")
local path = "/announce"
local counter = 0

-- "%XX" for every byte of a 40-hex-digit hash.
local function urlencode_hex(hex)
	return (hex:gsub("..", function(b) return "%" .. b end))
end

function setup(thread)
	counter = counter + 1
	thread:set("thread_id", counter)
end

function init(args)
	local f = assert(io.open(assert(os.getenv("DPT_HASHES"), "DPT_HASHES not set"), "r"))
	for line in f:lines() do
		if #line == 40 then
			hashes[#hashes + 1] = urlencode_hex(line)
		end
	end
	f:close()
	assert(#hashes > 0, "no info hashes in DPT_HASHES")
	math.randomseed(os.time() * 1000 + (thread_id or 0))
	local p = wrk.path
	if p ~= nil and p ~= "" and p ~= "/" then
		path = p
	end
end

function request()
	local h = hashes[math.random(#hashes)]
	local peer = string.format("-WK0001-%012d", math.random(0, 999999999999))
	local left = math.random(100) <= seeders and 0 or 1048576
	return wrk.format("GET", string.format(
		"%s?info_hash=%s&peer_id=%s&port=%d&uploaded=0&downloaded=0&left=%d&compact=1&numwant=%d",
		path, h, peer, math.random(1024, 65535), left, numwant))
end

-- No response(): wrk then skips parsing bodies. bench.sh checks one reply
-- with curl first.
function done(summary, latency, requests)
	io.write(string.format("LUA requests=%d errors_connect=%d errors_read=%d errors_status=%d " ..
		"p50_us=%d p99_us=%d p999_us=%d\n",
		summary.requests, summary.errors.connect, summary.errors.read, summary.errors.status,
		latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
