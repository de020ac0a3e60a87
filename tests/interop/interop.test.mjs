// Interop with the official socket.io-client: run by tests/test_interop_node.py against
// a live server (CHAT_BASE, ALICE_TOKEN, BOB_TOKEN, ROOM_ID come from the environment).
import { test } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";

const { CHAT_BASE, ALICE_TOKEN, BOB_TOKEN, ROOM_ID } = process.env;
const options = (token) => ({ auth: token ? { token } : undefined, reconnection: false, timeout: 5000 });

function connect(token) {
  const socket = io(`${CHAT_BASE}/chat`, options(token));
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => { socket.close(); reject(err); });
  });
}

function next(socket, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event}`)), 5000);
    socket.once(event, (data) => { clearTimeout(timer); resolve(data); });
  });
}

test("join, send with ack, receive the broadcast", async () => {
  const alice = await connect(ALICE_TOKEN);
  const bob = await connect(BOB_TOKEN);
  try {
    const joined = await bob.timeout(5000).emitWithAck("join_room", { roomId: ROOM_ID });
    assert.equal(joined.ok, true);
    assert.equal(joined.room.id, ROOM_ID);
    const received = next(bob, "message_received");
    const ack = await alice.timeout(5000).emitWithAck("send_message", {
      roomId: ROOM_ID, message: "hello from node", clientId: "node-1",
    });
    assert.equal(ack.ok, true);
    assert.equal(ack.message.content, "hello from node");
    assert.match(ack.message.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const event = await received;
    assert.deepEqual(event.message, ack.message);
    assert.deepEqual(event.sender, ack.message.sender);
    const retry = await alice.timeout(5000).emitWithAck("send_message", {
      roomId: ROOM_ID, message: "hello from node", clientId: "node-1",
    });
    assert.equal(retry.message.id, ack.message.id);
    const sync = await bob.timeout(5000).emitWithAck("sync", { roomId: ROOM_ID });
    assert.deepEqual(sync.messages.map((m) => m.id), [ack.message.id]);
    const refused = await bob.timeout(5000).emitWithAck("send_message", { roomId: ROOM_ID });
    assert.equal(refused.ok, false);
    assert.equal(refused.error.code, "validation_error");
  } finally {
    alice.close();
    bob.close();
  }
});

test("refused without a token", async () => {
  await assert.rejects(connect(undefined), (err) => err.message === "unauthorized");
  await assert.rejects(connect("not-a-token"), (err) => err.message === "unauthorized");
});
