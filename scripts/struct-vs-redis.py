#!/usr/bin/env python3
"""Differential check of the Lua `struct` library: random formats and arguments, packed, unpacked
again and sized, by a running Redis 7.0.15 and a running Concord node; prints each script whose
replies differ (error texts included, the script's SHA aside) and the count. Not a test: it
needs both servers up (start them yourself, on loopback) and redis-cli.

    python3 scripts/struct-vs-redis.py REDIS_PORT CONCORD_PORT [cases] [seed]
"""
import random, re, subprocess, sys

REDIS_PORT, CONCORD_PORT = int(sys.argv[1]), int(sys.argv[2])
CASES = int(sys.argv[3]) if len(sys.argv) > 3 else 400
random.seed(int(sys.argv[4]) if len(sys.argv) > 4 else 7)

OPTIONS = list("bBhHlLTiIfdxcs<>! ") + ["i3", "I5", "i12", "c2", "c0", "!2", "!4", "!8", "I1", "i8", "c1", "z"]
NUMBERS = [0, 1, -1, 127, -128, 255, 256, 65535, -65536, 2**31, -2**31, 2**40, 3.5, -2.5, 1e300]
STRINGS = ["''", "'a'", "'ab'", "'hello'", "'12'", "'x\\0y'"]
HEX = ("local function hex(s) if type(s) ~= 'string' then return s end local h = '' "
       "for i = 1, #s do h = h .. string.format('%02x', string.byte(s, i)) end return h end ")


def argument():
    roll = random.random()
    if roll < 0.5:
        return str(random.choice(NUMBERS))
    if roll < 0.8:
        return random.choice(STRINGS)
    return random.choice(["nil", "{}", "true"])


def reply(port, script):
    out = subprocess.run(["redis-cli", "-p", str(port), "eval", script, "0"], capture_output=True, text=True).stdout
    return re.sub(r"script: [0-9a-f]+,", "script: SHA,", out)


differing = succeeded = 0
for _ in range(CASES):
    fmt = "".join(random.choice(OPTIONS) for _ in range(random.randint(1, 6)))
    args = "".join(", " + argument() for _ in range(random.randint(0, 6)))
    round_trip = (HEX + f"local p = struct.pack('{fmt}'{args}) local t = {{hex(p)}} "
                  f"for _, v in ipairs({{struct.unpack('{fmt}', p)}}) do t[#t+1] = tostring(v) end return t")
    for script in (round_trip, f"return {{struct.size('{fmt}')}}"):
        expected, got = reply(REDIS_PORT, script), reply(CONCORD_PORT, script)
        succeeded += not expected.startswith("ERR")
        if expected != got:
            differing += 1
            print(f"script:  {script.removeprefix(HEX)}\nredis:   {expected.strip()}\nconcord: {got.strip()}\n")
print(f"{differing} of {2 * CASES} scripts differ ({succeeded} of them succeed on Redis)")
