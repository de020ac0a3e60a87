// The Node peer: a minimal Socket.IO 4 server speaking the benchmarked contract subset
// (/chat namespace, HS256 token in `auth`, join_room, send_message with ack,
// message_received broadcast). With MONGODB_URI it stores each message (with a
// per-room seq) before acking, through the official driver, like the product does.
// Its seq comes from a counter document: cheaper than the product's max+1-with-retry,
// but a reader can briefly see seq N+1 before N (the race the product's scheme avoids).
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { MongoClient, ObjectId } from "mongodb";
import { Server } from "socket.io";

const port = Number(process.env.PORT || 5100);
const secret = process.env.JWT_SECRET_KEY;
const mongo = process.env.MONGODB_URI ? new MongoClient(process.env.MONGODB_URI) : null;
const db = mongo ? mongo.db() : null;

function verify(token) {
  const [header, payload, signature] = String(token || "").split(".");
  if (!signature) return null;
  const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  if (expected.length !== signature.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) return null;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
  return claims.type === "access" && claims.exp > Date.now() / 1000 ? claims : null;
}

const http = createServer((req, res) => { res.writeHead(200); res.end("ok"); });
const io = new Server(http, { perMessageDeflate: false, pingInterval: 25000, pingTimeout: 20000 });
const chat = io.of("/chat");
chat.use((socket, next) => {
  const claims = verify(socket.handshake.auth?.token);
  if (!claims) return next(new Error("unauthorized"));
  socket.data.user = { id: claims.sub, username: claims.username || claims.sub };
  next();
});

chat.on("connection", (socket) => {
  socket.on("join_room", ({ roomId } = {}, ack) => {
    socket.join(`room:${roomId}`);
    ack?.({ ok: true, room: { id: roomId } });
  });
  socket.on("send_message", async ({ roomId, message, content, clientId } = {}, ack) => {
    const text = message ?? content;
    const stored = {
      _id: new ObjectId(), room: roomId, sender: socket.data.user.id, content: text,
      timestamp: new Date(), client_id: clientId,
    };
    if (db) {
      const counter = await db.collection("node_counters").findOneAndUpdate(
        { _id: roomId }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: "after" });
      stored.seq = counter.seq;
      await db.collection("node_messages").insertOne(stored);
    }
    const out = {
      id: stored._id.toHexString(), roomId, seq: stored.seq, sender: socket.data.user,
      content: text, messageType: "text", timestamp: stored.timestamp.toISOString(),
    };
    socket.to(`room:${roomId}`).emit("message_received", { message: out, sender: out.sender, timestamp: out.timestamp });
    ack?.({ ok: true, message: out });
  });
});

http.listen(port, "127.0.0.1", () => console.error(`node peer on ${port}`));
