// Load generator: the official socket.io-client, one process. Reads a JSON plan on stdin,
// prints one JSON result. Latency uses a monotonic clock (performance.now) carried in
// the payload and read on probe receivers, all in this one process.
//   plan: {base, mode: "connections"|"rooms", tokens: [...], rooms: [{id, members: [tokenIndex...]}],
//          holdSeconds, steps: [sendsPerSecond...], stepSeconds, probesPerRoom}
import { io } from "socket.io-client";

const plan = JSON.parse(await new Promise((resolve) => {
  let text = ""; process.stdin.on("data", (c) => (text += c)); process.stdin.on("end", () => resolve(text));
}));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function connect(token) {
  return new Promise((resolve) => {
    const socket = io(`${plan.base}/chat`, {
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
    sockets.push(...(await Promise.all(tokens.slice(i, i + 250).map(connect))));
  }
  return { sockets, seconds: (performance.now() - started) / 1000 };
}

function cpuShare(start, wallMs) {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / wallMs;
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
  for (const rate of plan.steps) {
    latencies.length = 0;
    deliveries = 0;
    let acked = 0, refused = 0, sent = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const interval = 1000 / rate;
    const end = started + plan.stepSeconds * 1000;
    let next = started;
    const pending = [];
    while (performance.now() < end) {
      const room = plan.rooms[sent % plan.rooms.length];
      const sender = sockets[room.members[0]];
      pending.push(sender.timeout(30000).emitWithAck("send_message", {
        roomId: room.id, message: `${performance.now()} x`, clientId: `b${rate}-${sent}`,
      }).then((ack) => (ack.ok ? acked++ : refused++), () => refused++));
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
      offered: rate, sent, acked, refused, deliveries,
      deliveriesPerSecond: deliveries / (plan.stepSeconds),
      delivered: acked ? deliveries / (acked * receivers) : 0,
      p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), p999: quantile(sorted, 0.999),
      mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null,
      generatorCpu: cpuShare(cpu, wall),
    });
  }
  sockets.forEach((s) => s.close());
  return { steps };
}

const result = plan.mode === "connections" ? await connections() : await rooms();
console.log(JSON.stringify(result));
process.exit(0);
