// A typed client for chat's REST API: the types come from docs/openapi.json
// (`npm run client:types` writes schema.d.ts with openapi-typescript), the calls go
// through openapi-fetch. tests/test_typed_clients.py type-checks this file with tsc and
// runs it against a live server: CHAT_URL=http://127.0.0.1:5000 node example.js
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const baseUrl = process.env.CHAT_URL ?? "http://127.0.0.1:5000";
const run = Date.now().toString(36);

async function main(): Promise<void> {
  const anonymous = createClient<paths>({ baseUrl });
  const registered = await anonymous.POST("/api/auth/register", {
    body: { username: `ts${run}`, email: `ts${run}@example.com`, password: "correct horse battery" },
  });
  if (!registered.data) throw new Error(`register: ${registered.response.status}`);
  const { accessToken, user } = registered.data;

  const chat = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${accessToken}` } });
  const room = await chat.POST("/api/rooms", { body: { name: `typed ${run}` } });
  if (!room.data) throw new Error(`create room: ${room.response.status}`);
  const roomId = room.data.id;

  const sent = await chat.POST("/api/messages", {
    body: { roomId, content: "hello from TypeScript", clientId: `ts-${run}` },
  });
  const again = await chat.POST("/api/messages", {  // a retry: stored once
    body: { roomId, content: "hello from TypeScript", clientId: `ts-${run}` },
  });
  const history = await chat.GET("/api/messages/{room_id}", {
    params: { path: { room_id: roomId }, query: { limit: 10 } },
  });
  const found = await chat.GET("/api/search/messages", { params: { query: { q: "typescript" } } });
  const refused = await chat.POST("/api/messages", { body: { roomId, content: "" } });

  console.log(JSON.stringify({
    user: user.username,
    room: room.data.name,
    sent: sent.response.status,
    retried: again.response.status,
    sameMessage: sent.data !== undefined && "id" in sent.data && again.data !== undefined
      && "id" in again.data && sent.data.id === again.data.id,
    history: history.data?.messages.map((m) => m.content) ?? [],
    found: found.data?.messages.map((m) => m.room?.name ?? "") ?? [],
    refused: refused.response.status,
  }));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
