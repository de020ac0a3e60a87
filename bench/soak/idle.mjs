// Hold N authenticated idle sockets (official socket.io-client), then report.
// Input: CHAT_BASE, TOKENS_FILE (JSON list of access tokens), CONNECTIONS, HOLD_SECONDS.
import { readFileSync } from "node:fs";
import { io } from "socket.io-client";

const base = process.env.CHAT_BASE;
const tokens = JSON.parse(readFileSync(process.env.TOKENS_FILE, "utf8"));
const total = Number(process.env.CONNECTIONS || 10000);
const hold = Number(process.env.HOLD_SECONDS || 300);
const sockets = [];
let connected = 0, failed = 0, dropped = 0;
const started = Date.now();

function open(i) {
  return new Promise((resolve) => {
    const socket = io(`${base}/chat`, {
      auth: { token: tokens[i % tokens.length] }, transports: ["websocket"],
      reconnection: false, timeout: 20000,
    });
    socket.once("connect", () => { connected++; resolve(); });
    socket.once("connect_error", () => { failed++; resolve(); });
    socket.on("disconnect", (reason) => { if (reason !== "io client disconnect") dropped++; });
    sockets.push(socket);
  });
}

for (let i = 0; i < total; i += 200) {
  await Promise.all(Array.from({ length: Math.min(200, total - i) }, (_, k) => open(i + k)));
}
const rampSeconds = (Date.now() - started) / 1000;
console.error(`ramp: ${connected} connected, ${failed} failed in ${rampSeconds.toFixed(1)} s`);
await new Promise((r) => setTimeout(r, hold * 1000));
const result = { connected, failed, dropped, rampSeconds, connectsPerSecond: connected / rampSeconds, holdSeconds: hold };
console.log(JSON.stringify(result));
sockets.forEach((s) => s.close());
process.exit(0);
