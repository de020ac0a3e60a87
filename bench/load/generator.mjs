// Load generator: the official socket.io-client, one process. Reads a JSON plan on stdin,
// prints one JSON result. Latency uses a monotonic clock (performance.now) carried in
// the payload and read on probe receivers, all in this one process.
//   plan: {base | bases, mode: "connections"|"rooms"|"ceiling", tokens: [...],
//          rooms: [{id, members: [tokenIndex...]}], holdSeconds, steps: [sendsPerSecond...],
//          stepSeconds, probesPerRoom, stopAfterFailure, cpuPids: {server: [...],
//          database: [...]}, clockTicks}
// With several bases (scale-out), socket i connects to bases[i % bases.length]. Rooms
// stop stepping after the first failing step (p99 > 100 ms or < 99.9% delivered),
// except for one last step at the plan's highest rate, so the figure at ~1,000 sends/s
// exists without queueing for minutes at every rate in between.
// "ceiling" mode drives bench/peers/ceiling (raw `ws` broadcast, no Socket.IO).
import { readFileSync } from "node:fs";
import { io } from "socket.io-client";
import WebSocket from "ws";

const plan = JSON.parse(await new Promise((resolve) => {
  let text = ""; process.stdin.on("data", (c) => (text += c)); process.stdin.on("end", () => resolve(text));
}));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const bases = plan.bases || [plan.base];
const runTag = Math.random().toString(36).slice(2, 10); // clientIds never repeat across runs

function connect(token, index) {
  return new Promise((resolve) => {
    const socket = io(`${bases[index % bases.length]}/chat`, {
      auth: { token }, transports: ["websocket"], reconnection: false, timeout: 30000,
    });
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", () => { socket.close(); resolve(null); });
  });
}

async function connectAll(tokens) {
  const sockets = [];
  const started = performance.now();
  for (let i = 0; i < tokens.length; i += 250) {
    sockets.push(...(await Promise.all(tokens.slice(i, i + 250).map((t, k) => connect(t, i + k)))));
  }
  return { sockets, seconds: (performance.now() - started) / 1000 };
}

function cpuShare(start, wallMs) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / wallMs;
}

// CPU seconds (user + system) used so far by each group of plan.cpuPids (the server's
// workers, the database), read from /proc: a step's CPU is the difference.
function processCpu() {
  const seconds = {};
  for (const [group, pids] of Object.entries(plan.cpuPids || {})) {
    seconds[group] = pids.reduce((sum, pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(")").at(-1).trim().split(" ");
      return sum + (Number(fields[11]) + Number(fields[12])) / plan.clockTicks;
    }, 0);
  }
  return seconds;
}

function cpuPer1000(before, deliveries) {
  const after = processCpu();
  return Object.fromEntries(Object.entries(after).map(
    ([group, s]) => [group, deliveries ? Math.round((1e7 * (s - before[group])) / deliveries) / 10 : null],
  ));
}

function quantile(sorted, q) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
}

async function connections() {
  const cpu = process.cpuUsage();
  const { sockets, seconds } = await connectAll(plan.tokens);
  const ok = sockets.filter(Boolean);
  let dropped = 0;
  ok.forEach((s) => s.on("disconnect", () => dropped++));
  await sleep(plan.holdSeconds * 1000);
  const result = {
    connected: ok.length, failed: sockets.length - ok.length, dropped,
    connectsPerSecond: ok.length / seconds, rampSeconds: seconds,
    generatorCpu: cpuShare(cpu, seconds * 1000 + plan.holdSeconds * 1000),
  };
  ok.forEach((s) => s.close());
  return result;
}

async function rooms() {
  const { sockets } = await connectAll(plan.tokens);
  if (sockets.some((s) => !s)) throw new Error("some sockets failed to connect");
  const latencies = [];
  let deliveries = 0;
  const probes = new Set();
  for (const room of plan.rooms) {
    room.members.slice(1).forEach((index, k) => {
      const socket = sockets[index];
      const probe = k < plan.probesPerRoom;
      socket.on("message_received", ({ message }) => {
        deliveries++;
        if (probe) latencies.push(performance.now() - Number(message.content.split(" ")[0]));
      });
      if (probe) probes.add(index);
    });
    await Promise.all(room.members.map((i) => sockets[i].timeout(30000).emitWithAck("join_room", { roomId: room.id })));
  }
  const steps = [];
  const rates = [...plan.steps];
  while (rates.length) {
    const rate = rates.shift();
    latencies.length = 0;
    deliveries = 0;
    let acked = 0, refused = 0, sent = 0;
    const refusals = {};
    const cpu = process.cpuUsage();
    const serverCpu = processCpu();
    const started = performance.now();
    const interval = 1000 / rate;
    const end = started + plan.stepSeconds * 1000;
    let next = started;
    const pending = [];
    while (performance.now() < end) {
      const room = plan.rooms[sent % plan.rooms.length];
      const sender = sockets[room.members[0]];
      pending.push(sender.timeout(30000).emitWithAck("send_message", {
        roomId: room.id, message: `${performance.now()} x`, clientId: `${runTag}-${rate}-${sent}`,
      }).then((ack) => {
        if (ack.ok) return acked++;
        refused++;
        refusals[ack.error?.code] = (refusals[ack.error?.code] || 0) + 1;
      }, () => { refused++; refusals.timeout = (refusals.timeout || 0) + 1; }));
      sent++;
      next += interval;
      const wait = next - performance.now();
      if (wait > 1) await sleep(wait); else if (sent % 50 === 0) await sleep(0);
    }
    await Promise.all(pending);
    await sleep(1000); // let the last broadcasts arrive
    const wall = performance.now() - started;
    const sorted = [...latencies].sort((a, b) => a - b);
    const receivers = plan.rooms[0].members.length - 1;
    steps.push({
      offered: rate, sent, acked, refused, refusals, deliveries,
      deliveriesPerSecond: deliveries / (plan.stepSeconds),
      delivered: acked ? deliveries / (acked * receivers) : 0,
      p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), p999: quantile(sorted, 0.999),
      mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null,
      generatorCpu: cpuShare(cpu, wall),
      cpuMsPer1000Deliveries: cpuPer1000(serverCpu, deliveries),
    });
    if (plan.stopAfterFailure !== false && !passed(steps.at(-1)) && rates.length > 1) {
      rates.splice(0, rates.length - 1);
    }
    await sleep(2000); // let the server settle between steps
  }
  sockets.forEach((s) => s.close());
  return { steps };
}

function passed(step) {
  return step.p99 !== null && step.p99 <= 100 && step.delivered >= 0.999 && step.refused === 0;
}

// The ceiling: raw websocket clients of a plain `ws` broadcast server (no Socket.IO,
// no auth, no storage); client 0 sends, every other client receives.
async function ceiling() {
  const open = (i) => new Promise((resolve, reject) => {
    const ws = new WebSocket(plan.base.replace("http", "ws"), { perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
  const clients = [];
  for (let i = 0; i < plan.clients; i += 250) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(250, plan.clients - i) }, (_, k) => open(i + k)))));
  }
  const latencies = [];
  let deliveries = 0;
  clients.slice(1).forEach((ws, k) => ws.on("message", (data) => {
    deliveries++;
    if (k < plan.probesPerRoom) latencies.push(performance.now() - Number(String(data).split(" ")[0]));
  }));
  const steps = [];
  for (const rate of plan.steps) {
    latencies.length = 0;
    deliveries = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    let sent = 0, next = started;
    while (performance.now() < started + plan.stepSeconds * 1000) {
      clients[0].send(`${performance.now()} x`);
      sent++;
      next += 1000 / rate;
      const wait = next - performance.now();
      if (wait > 1) await sleep(wait); else if (sent % 50 === 0) await sleep(0);
    }
    await sleep(1000);
    const sorted = [...latencies].sort((a, b) => a - b);
    steps.push({
      offered: rate, sent, acked: sent, refused: 0, deliveries,
      deliveriesPerSecond: deliveries / plan.stepSeconds,
      delivered: deliveries / (sent * (clients.length - 1)),
      p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), p999: quantile(sorted, 0.999),
      mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null,
      generatorCpu: cpuShare(cpu, performance.now() - started),
    });
  }
  clients.forEach((ws) => ws.close());
  return { steps };
}

const modes = { connections, rooms, ceiling };
const result = await modes[plan.mode]();
console.log(JSON.stringify(result));
process.exit(0);
