// The ceiling peer: a raw websocket broadcast with `ws` (no Socket.IO framing, no auth,
// no rooms, no storage). Every text frame is sent on to every other client: what one
// Node process and the loopback carry, to put both real peers in proportion.
import { createServer } from "node:http";
import { WebSocketServer } from "ws";

const port = Number(process.env.PORT || 5200);
const http = createServer((req, res) => { res.writeHead(200); res.end("ok"); });
const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
wss.on("connection", (ws) => {
  ws.on("message", (data, isBinary) => {
    for (const client of wss.clients) {
      if (client !== ws && client.readyState === 1) client.send(data, { binary: isBinary });
    }
  });
});
http.listen(port, "127.0.0.1", () => console.error(`ceiling peer on ${port}`));
