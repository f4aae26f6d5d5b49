#!/usr/bin/env python3
"""Live results under load: N Server-Sent-Events listeners on one open poll while votes
arrive at a fixed rate. Prints the server's memory per listener (its RSS with the listeners
connected minus its RSS before, divided by N) and the vote-to-event latency: for every
listener and every vote, the time from sending the vote to the first event whose total
includes it (p50, p99, max).

Usage: bench_live.py HOST PORT SLUG SERVER_PID [listeners] [votes_per_second] [seconds]
Plain asyncio sockets, no packages: the load stays on this machine (loopback only)."""

import asyncio
import json
import re
import sys
import time

HOST, PORT, SLUG, PID = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
LISTENERS = int(sys.argv[5]) if len(sys.argv) > 5 else 2000
RATE = int(sys.argv[6]) if len(sys.argv) > 6 else 500
SECONDS = int(sys.argv[7]) if len(sys.argv) > 7 else 10
VOTE_CONNECTIONS = 32
TOTAL = re.compile(rb'"total_votes":(\d+)')


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def listen(ready, arrivals, stop):
    """One listener: records (arrival time, total) of each results event."""
    reader, writer = await asyncio.open_connection(HOST, PORT)
    writer.write(f"GET /api/v1/polls/{SLUG}/events HTTP/1.1\r\nHost: {HOST}\r\n"
                 "Accept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(head.decode(errors="replace"))
    signalled = False
    while not stop.is_set():
        try:
            chunk = await asyncio.wait_for(reader.read(65536), 0.5)
        except asyncio.TimeoutError:
            continue
        if not chunk:
            break
        now = time.monotonic()
        for total in TOTAL.findall(chunk):
            arrivals.append((now, int(total)))
        if not signalled and arrivals:
            signalled = True
            ready.release()
    writer.close()


async def voter(queue, sent, failures):
    reader, writer = await asyncio.open_connection(HOST, PORT)
    body = b'{"choices": ["yes"]}'
    request = (f"POST /api/v1/polls/{SLUG}/votes HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    while True:
        due = await queue.get()
        if due is None:
            break
        started = time.monotonic()
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        payload = await reader.readexactly(length)
        if b" 201 " not in head.split(b"\r\n", 1)[0]:
            failures.append(head.split(b"\r\n", 1)[0])
            continue
        sent.append((int(TOTAL.search(payload).group(1)), started))
    writer.close()


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


async def main():
    rss_before = rss_kib(PID)
    stop = asyncio.Event()
    ready = asyncio.Semaphore(0)
    arrivals = [[] for _ in range(LISTENERS)]
    tasks = []
    for i in range(LISTENERS):
        tasks.append(asyncio.create_task(listen(ready, arrivals[i], stop)))
        if i % 100 == 99:
            await asyncio.sleep(0.05)
    for _ in range(LISTENERS):
        await asyncio.wait_for(ready.acquire(), 60)
    await asyncio.sleep(1)
    rss_connected = rss_kib(PID)
    per_listener = (rss_connected - rss_before) / LISTENERS

    queue, sent, failures = asyncio.Queue(), [], []
    voters = [asyncio.create_task(voter(queue, sent, failures)) for _ in range(VOTE_CONNECTIONS)]
    start = time.monotonic()
    count = RATE * SECONDS
    for k in range(count):
        due = start + k / RATE
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(due)
    for _ in voters:
        queue.put_nowait(None)
    await asyncio.gather(*voters)
    achieved = len(sent) / (time.monotonic() - start)
    await asyncio.sleep(2)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)

    # A vote is in every event whose total is at least the total the server answered it
    # with (the tally right after its commit): its latency for a listener is the time from
    # sending it to the first such event that listener got.
    votes = sorted(sent)
    latencies = []
    for events in arrivals:
        v = 0
        while v < len(votes) and events and votes[v][0] <= events[0][1]:
            v += 1  # already counted when this listener connected
        for at, total in events[1:]:
            while v < len(votes) and votes[v][0] <= total:
                latencies.append(at - votes[v][1])
                v += 1
    latencies.sort()
    last = votes[-1][0] if votes else 0
    missing = sum(1 for events in arrivals if not events or events[-1][1] < last)
    print(f"live: {LISTENERS} SSE listeners, {len(sent)} votes in {SECONDS}s ({achieved:.0f}/s sent, "
          f"{len(failures)} failed), {len(latencies)} vote-listener deliveries measured")
    print(f"live: server RSS {rss_before} KiB before, {rss_connected} KiB with listeners: "
          f"{per_listener:.1f} KiB per listener (goal <= 16)")
    if latencies:
        p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
        print(f"live: vote-to-event latency p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms (goal p99 <= 1000 ms)")
    print(f"live: listeners missing the last vote: {missing}")
    ok = latencies and percentile(latencies, 99) <= 1.0 and per_listener <= 16 and missing == 0 and not failures
    print(f"live goal (<= 16 KiB per listener, p99 <= 1 s): {'met' if ok else 'NOT met'}")


asyncio.run(main())
