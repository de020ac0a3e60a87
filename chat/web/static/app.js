// chat web client: plain JavaScript over the REST API and the /chat Socket.IO namespace.
// Message text is always inserted as text (never as HTML); links become <a> elements.
"use strict";

const $ = (id) => document.getElementById(id);
const EMOJI = ["👍", "❤️", "😂", "🎉", "😮", "👀"];
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;

const state = {
  access: sessionStorage.getItem("chat.access"),
  refresh: sessionStorage.getItem("chat.refresh"),
  me: null,
  rooms: new Map(),        // id -> room (with unreadCount)
  current: null,           // current room id
  messages: new Map(),     // room id -> Map(message id -> message), kept in seq order
  hasOlder: new Map(),     // room id -> more history before the oldest we hold
  lastSeen: new Map(),     // room id -> id of the newest message we hold
  syncCursor: null,        // GET /api/sync's cursor: every change after it is still to apply
  typing: new Map(),       // room id -> Map(user id -> username)
  online: new Map(),       // user id -> username
  notifications: [],
  users: new Map(),        // user id -> user (display name, status, avatar), as last told
  avatars: new Map(),      // avatar URL -> object URL of the image (fetched with our token)
  reads: new Map(),        // room id -> Map(user id -> last read seq): read receipts
  thread: null,            // the message whose thread is open
  socket: null,
  typingSent: 0,
  commands: [],            // the slash commands: {name, description, usage}
};
window.chat = state; // for debugging and the browser tests

// ---------------------------------------------------------------- REST
async function api(method, path, body, retried) {
  const headers = {};
  if (state.access) headers.Authorization = `Bearer ${state.access}`;
  let payload = body;
  if (body && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload });
  if (response.status === 401 && !retried && state.refresh && (await refreshToken())) {
    return api(method, path, body, true);
  }
  if (response.status === 204) return null;
  const data = response.headers.get("Content-Type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const error = new Error(data?.error?.message || response.statusText);
    error.code = data?.error?.code;
    error.fields = data?.error?.fields;
    throw error;
  }
  return data;
}

// A refresh token works once (the server rotates it, and ends the session when a spent
// one comes back): requests that fail together share one refresh.
let refreshing = null;

function refreshToken() {
  refreshing ??= (async () => {
    try {
      const response = await fetch("/api/auth/refresh", {
        method: "POST", headers: { Authorization: `Bearer ${state.refresh}` },
      });
      if (!response.ok) return false;
      const tokens = await response.json();
      saveTokens(tokens.accessToken, tokens.refreshToken);
      return true;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function saveTokens(access, refresh) {
  state.access = access;
  state.refresh = refresh;
  sessionStorage.setItem("chat.access", access);
  sessionStorage.setItem("chat.refresh", refresh);
}

// ---------------------------------------------------------------- auth screen
let registering = false;

function showAuth() {
  $("app").hidden = true;
  $("auth").hidden = false;
}

function setMode(register) {
  registering = register;
  $("tab-login").classList.toggle("active", !register);
  $("tab-register").classList.toggle("active", register);
  $("email-row").hidden = !register;
  $("auth-email").required = register;
  $("auth-submit").textContent = register ? "Create account" : "Sign in";
}

// An emailed link (#verify-email=<token>) proves the address, signed in or not.
async function confirmEmail() {
  const token = new URLSearchParams(location.hash.slice(1)).get("verify-email");
  if (!token) return;
  history.replaceState(null, "", location.pathname);
  try {
    await api("POST", "/api/auth/verify-email/confirm", { token });
    alert("Your email address is verified.");
    if (state.me) { state.me.emailVerified = true; $("verify").hidden = true; }
  } catch (error) {
    alert(`This link did not verify your address: ${error.message}`);
  }
}

async function sendVerification() {
  try {
    await api("POST", "/api/auth/verify-email");
    $("verify").textContent = "A link is on its way to your address.";
  } catch (error) {
    alert(error.message);
  }
}

// An invite link (#invite=<token>) opens sign-up, saying where it leads.
async function showInvite() {
  const token = new URLSearchParams(location.hash.slice(1)).get("invite");
  if (!token) return;
  state.invite = token;
  setMode(true);
  const info = $("invite-info");
  info.hidden = false;
  try {
    const { rooms } = await api("GET", `/api/invites/preview/${encodeURIComponent(token)}`);
    info.textContent = rooms.length
      ? `You are invited to ${rooms.map((r) => r.name).join(", ")}.`
      : "You are invited to this server.";
  } catch (error) {
    info.textContent = "This invite link is not valid: it may be used up, expired or revoked.";
    state.invite = null;
  }
}

async function submitAuth(event) {
  event.preventDefault();
  $("auth-error").textContent = "";
  const body = { username: $("auth-username").value.trim(), password: $("auth-password").value };
  if (registering) body.email = $("auth-email").value.trim();
  if (registering && state.invite) body.invite = state.invite;
  try {
    const session = await api("POST", registering ? "/api/auth/register" : "/api/auth/login", body);
    saveTokens(session.accessToken, session.refreshToken);
    if (state.invite) history.replaceState(null, "", location.pathname);
    await start();
  } catch (error) {
    const fields = error.fields ? Object.entries(error.fields).map(([k, v]) => `${k}: ${v.join(" ")}`) : [];
    $("auth-error").textContent = [error.message, ...fields].join(" ");
  }
}

async function logout() {
  try { await api("POST", "/api/auth/logout"); } catch { /* already gone */ }
  sessionStorage.removeItem("chat.access");
  sessionStorage.removeItem("chat.refresh");
  location.reload();
}

// ---------------------------------------------------------------- start-up
async function start() {
  try {
    state.me = await api("GET", "/api/users/me");
  } catch {
    return showAuth();
  }
  $("auth").hidden = true;
  $("app").hidden = false;
  rememberUser(state.me);
  $("me-name").textContent = nameOf(state.me.id);
  $("verify").hidden = state.me.emailVerified !== false;
  state.syncCursor = (await api("GET", "/api/sync")).cursor; // before loading: nothing slips by
  await Promise.all([loadRooms(), loadNotifications(), loadOnline()]);
  connect();
  loadCommands().catch(() => {}); // completion only: never in the way of starting
  const first = [...state.rooms.values()].find(isMember);
  if (first && !state.current) openRoom(first.id);
}

async function loadCommands() {
  state.commands = (await api("GET", "/api/commands")).commands;
}

async function loadRooms() {
  let cursor = null;
  for (let page = 0; page < 10; page++) {
    const query = cursor ? `?limit=100&cursor=${cursor}` : "?limit=100";
    const answer = await api("GET", `/api/rooms${query}`);
    answer.rooms.forEach((room) => state.rooms.set(room.id, room));
    cursor = answer.nextCursor;
    if (!cursor) break;
  }
  renderRooms();
}

const isMember = (room) => room.participants.includes(state.me.id);

// ---------------------------------------------------------------- socket
function connect() {
  const socket = io("/chat", {
    auth: (cb) => cb({ token: state.access }),
    transports: ["websocket", "polling"],
  });
  state.socket = socket;
  socket.on("connect", onConnect);
  socket.on("disconnect", () => setConnected(false));
  socket.on("connect_error", async (error) => {
    setConnected(false);
    if (error.message === "unauthorized" && !(await refreshToken())) logout();
  });
  socket.on("message_received", ({ message }) => receive(message));
  socket.on("message_updated", ({ message }) => receive(message));
  socket.on("message_deleted", ({ messageId, roomId }) => markDeleted(roomId, messageId));
  socket.on("reaction_updated", onReactions);
  socket.on("typing_indicator", onTyping);
  socket.on("presence", onPresence);
  socket.on("user_joined", onJoined);
  socket.on("user_left", onLeft);
  socket.on("room_updated", ({ room }) => { mergeRoom(room); renderRooms(); renderHeader(); });
  socket.on("notification", (note) => { state.notifications.unshift(note); renderBell(); });
  socket.on("thread_updated", onThread);
  socket.on("read_updated", onRead);
  socket.on("user_updated", ({ user }) => { rememberUser(user); renderPeople(); });
}

function setConnected(up) {
  $("conn").classList.toggle("up", up);
  $("conn").title = up ? "connected" : "reconnecting…";
  document.body.dataset.connected = up ? "yes" : "no";
}

// On every (re)connect: every change in our rooms since the cursor (sync_all), once
// each: new, edited and deleted messages, reactions, members, rooms added and removed.
async function onConnect() {
  setConnected(true);
  await syncAll();
  loadOnline();
}

async function syncAll() {
  for (let round = 0; round < 200; round++) {
    const ack = await state.socket.timeout(10000).emitWithAck("sync_all", { since: state.syncCursor, limit: 200 });
    if (!ack.ok && ack.error.code === "rate_limited") { // the event budget says wait
      await new Promise((resolve) => setTimeout(resolve, ack.error.retryAfter * 1000));
      continue;
    }
    if (!ack.ok && ack.error.code === "sync_expired") return startOver();
    if (!ack.ok) return;
    ack.changes.forEach(applyChange);
    state.syncCursor = ack.cursor;
    if (!ack.hasMore) break;
  }
  renderRooms();
  renderHeader();
  if (state.current) renderMessages(true);
}

function applyChange({ type, roomId, data }) {
  if (data.message) return receive(data.message, true);
  if (type === "room_removed") {
    state.rooms.delete(roomId);
    state.messages.delete(roomId);
    if (state.current === roomId) {
      state.current = null;
      $("messages").replaceChildren();
      $("composer").hidden = true;
    }
    return;
  }
  if (data.room) mergeRoom(data.room);
}

// Away longer than the server keeps changes: load everything again.
async function startOver() {
  state.syncCursor = (await api("GET", "/api/sync")).cursor;
  state.messages.clear();
  await loadRooms();
  if (state.current) openRoom(state.current);
}

// ---------------------------------------------------------------- rooms
function mergeRoom(room) {
  const old = state.rooms.get(room.id);
  state.rooms.set(room.id, { ...room, unreadCount: room.unreadCount ?? old?.unreadCount ?? 0 });
}

function renderRooms() {
  const list = $("rooms");
  list.replaceChildren();
  for (const room of state.rooms.values()) {
    const item = document.createElement("li");
    item.dataset.room = room.id;
    item.classList.toggle("current", room.id === state.current);
    item.classList.toggle("not-member", !isMember(room));
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = (room.type === "public" ? "# " : room.type === "direct" ? "@ " : "🔒 ") + room.name;
    item.append(name);
    if (!isMember(room)) {
      const join = document.createElement("button");
      join.className = "join";
      join.textContent = "Join";
      join.onclick = (event) => { event.stopPropagation(); joinRoom(room.id); };
      item.append(join);
    } else if (room.unreadCount > 0 && room.id !== state.current) {
      const badge = document.createElement("span");
      badge.className = "badge unread";
      badge.textContent = room.unreadCount;
      item.append(badge);
    }
    item.onclick = () => isMember(room) && openRoom(room.id);
    list.append(item);
  }
}

// Over REST: it needs no socket (one still connecting is not in the way), and the
// server moves our sockets into the room as we join it.
async function joinRoom(roomId) {
  try {
    mergeRoom(await api("POST", `/api/rooms/${roomId}/join`));
  } catch (error) {
    return alert(error.message);
  }
  openRoom(roomId);
}

async function createRoom(event) {
  event.preventDefault();
  const body = { name: $("new-room-name").value.trim(), settings: { isPrivate: $("new-room-private").checked } };
  try {
    const room = await api("POST", "/api/rooms", body);
    mergeRoom(room);
    $("new-room-name").value = "";
    openRoom(room.id); // (the server moves our sockets into the room we made)
  } catch (error) {
    alert(error.message);
  }
}

async function openRoom(roomId) {
  if (state.current !== roomId) { closeThread(); $("invite-url").hidden = true; }
  state.current = roomId;
  $("composer").hidden = false;
  renderHeader();
  if (!state.messages.has(roomId)) {
    state.messages.set(roomId, new Map());
    const page = await api("GET", `/api/messages/${roomId}?limit=50`);
    page.messages.forEach((m) => receive(m, true));
    state.hasOlder.set(roomId, page.hasMore);
  }
  renderRooms();
  renderMessages(true);
  renderTyping();
  markRead();
  loadReads(roomId);
  $("text").focus();
}

function renderHeader() {
  const room = state.rooms.get(state.current);
  if (!room) return;
  $("room-title").textContent = room.name;
  const online = room.participants.filter((id) => state.online.has(id)).length;
  $("room-meta").textContent = `${room.participants.length} members · ${online} online`;
  const admin = room.admins.includes(state.me.id);
  $("invite").hidden = !(room.type === "private" && admin);
  $("invite-link").hidden = !(room.type !== "direct" && admin);
}

async function inviteLink() {
  try {
    const made = await api("POST", "/api/invites", { rooms: [state.current] });
    const out = $("invite-url");
    out.value = made.url.startsWith("/") ? location.origin + made.url : made.url;
    out.hidden = false;
    out.select();
  } catch (error) {
    alert(error.message);
  }
}

async function invite(event) {
  event.preventDefault();
  const name = $("invite-name").value.trim();
  try {
    const user = await api("GET", `/api/users/by-username/${encodeURIComponent(name)}`);
    mergeRoom(await api("POST", `/api/rooms/${state.current}/members`, { userId: user.id }));
    $("invite-name").value = "";
    renderHeader();
  } catch (error) {
    alert(error.message);
  }
}

// Membership and presence events carry what we need: no request per event, so a
// user who joins and leaves 200 times a second costs the others nothing.
function onJoined({ roomId, userId, username, online }) {
  const room = state.rooms.get(roomId);
  if (room && !room.participants.includes(userId)) room.participants.push(userId);
  if (online && !state.online.has(userId)) state.online.set(userId, username);
  if (!room && userId === state.me.id) scheduleRooms(); // added to a room we do not know
  renderRooms(); renderHeader(); renderOnline();
}

function onLeft({ roomId, userId }) {
  const room = state.rooms.get(roomId);
  if (room) {
    for (const role of ["participants", "admins", "owners"]) {
      room[role] = (room[role] || []).filter((id) => id !== userId);
    }
    if (userId === state.me.id && room.type !== "public") state.rooms.delete(roomId);
  }
  renderRooms(); renderHeader();
}

// Coalesce refetches: one request however many events asked for it.
const later = new Map();
function coalesce(name, fn, ms = 2000) {
  if (later.has(name)) return;
  later.set(name, setTimeout(() => { later.delete(name); fn(); }, ms));
}
const scheduleRooms = () => coalesce("rooms", loadRooms);
const scheduleOnline = () => coalesce("online", loadOnline);

async function markRead() {
  const roomId = state.current;
  const newest = state.lastSeen.get(roomId);
  const room = state.rooms.get(roomId);
  if (!newest || !room || document.hidden) return;
  try {
    const { unreadCount } = await api("POST", `/api/rooms/${roomId}/read`, { messageId: newest });
    room.unreadCount = unreadCount;
    renderRooms();
  } catch { /* not important */ }
}

// ---------------------------------------------------------------- messages
function roomMessages(roomId) {
  if (!state.messages.has(roomId)) state.messages.set(roomId, new Map());
  return state.messages.get(roomId);
}

// Store a message (new, edited or synced); ids make duplicates impossible.
function receive(message, quiet) {
  const roomId = message.roomId;
  const known = state.messages.has(roomId);
  const messages = roomMessages(roomId);
  const isNew = !messages.has(message.id);
  messages.set(message.id, message);
  if (isNew) {
    const sorted = [...messages.values()].sort((a, b) => a.seq - b.seq);
    state.messages.set(roomId, new Map(sorted.map((m) => [m.id, m])));
    const newest = sorted.filter(inRoom).pop(); // the room's pointer: thread-only replies have their own
    if (newest) state.lastSeen.set(roomId, newest.id);
  }
  if (quiet) return;
  if (message.parentId && message.parentId === state.thread) renderThread();
  if (roomId === state.current) {
    if (inRoom(message)) { renderMessages(isNew); markRead(); }
  } else if (isNew && inRoom(message) && message.sender.id !== state.me.id) {
    const room = state.rooms.get(roomId);
    if (room) { room.unreadCount = (room.unreadCount || 0) + 1; renderRooms(); }
  }
  if (!known && roomId !== state.current) state.messages.delete(roomId); // fetch history when opened
}

function markDeleted(roomId, messageId) {
  const message = roomMessages(roomId).get(messageId);
  if (!message) return;
  Object.assign(message, { deleted: true, content: "", reactions: [], reactionCounts: {} });
  delete message.attachment;
  if (roomId === state.current) { renderMessages(false); renderThread(); }
}

function onReactions({ messageId, roomId, reactions }) {
  const message = roomMessages(roomId).get(messageId);
  if (!message) return;
  message.reactions = reactions;
  message.reactionCounts = {};
  reactions.forEach((r) => { message.reactionCounts[r.emoji] = (message.reactionCounts[r.emoji] || 0) + 1; });
  if (roomId === state.current) renderMessages(false);
}

async function loadOlder() {
  const roomId = state.current;
  const oldest = roomMessages(roomId).keys().next().value;
  const page = await api("GET", `/api/messages/${roomId}?limit=50${oldest ? `&before=${oldest}` : ""}`);
  const box = $("messages");
  const before = box.scrollHeight;
  page.messages.forEach((m) => receive(m, true));
  state.hasOlder.set(roomId, page.hasMore);
  renderMessages(false);
  box.scrollTop = box.scrollHeight - before;
}

// The room shows top-level messages, and replies sent with alsoInRoom; the rest of a
// thread shows in the thread pane.
const inRoom = (message) => !message.parentId || message.alsoInRoom;

function renderMessages(scrollToEnd) {
  const box = $("messages");
  const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  const list = $("message-list");
  const shown = [...roomMessages(state.current).values()].filter(inRoom);
  list.replaceChildren(...shown.map(renderMessage));
  $("older").hidden = !state.hasOlder.get(state.current);
  renderSeen(shown);
  if (scrollToEnd || atEnd) box.scrollTop = box.scrollHeight;
}

function renderMessage(message) {
  const item = document.createElement("li");
  const mine = message.sender.id === state.me.id;
  item.className = "message" + (mine ? " mine" : "") + (message.deleted ? " deleted" : "");
  item.dataset.id = message.id;
  const meta = document.createElement("div");
  meta.className = "meta";
  const sender = document.createElement("span");
  sender.className = "sender";
  const time = document.createElement("time");
  time.dateTime = message.timestamp;
  time.textContent = new Date(message.timestamp).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  meta.append(sender, time);
  Object.assign(meta.dataset, { user: message.sender.id, username: message.sender.username });
  fillSender(meta);
  if (message.edited && !message.deleted) meta.append(Object.assign(document.createElement("span"), { textContent: "(edited)" }));
  if (message.pinned) meta.append(Object.assign(document.createElement("span"), { className: "pinned", textContent: "📌 pinned" }));
  if (!message.deleted) meta.append(messageActions(message, mine));
  const body = document.createElement("div");
  body.className = "body";
  if (message.deleted) body.textContent = "This message was deleted.";
  else appendLinkified(body, message.content);
  item.append(meta, body);
  if (message.attachment && !message.deleted) item.append(renderAttachment(message.attachment));
  if (!message.deleted) item.append(renderReactions(message));
  if (message.thread?.replyCount && !message.parentId) {
    const count = message.thread.replyCount;
    const link = Object.assign(document.createElement("button"), {
      className: "thread-link", textContent: `${count} ${count === 1 ? "reply" : "replies"}`,
    });
    link.onclick = () => openThread(message.id);
    item.append(link);
  }
  return item;
}

// Text nodes for the text, <a> only for http(s) URLs: no HTML from a message ever runs.
function appendLinkified(parent, text) {
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    parent.append(document.createTextNode(text.slice(last, match.index)));
    const link = document.createElement("a");
    link.href = match[0];
    link.textContent = match[0];
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    parent.append(link);
    last = match.index + match[0].length;
  }
  parent.append(document.createTextNode(text.slice(last)));
}

function messageActions(message, mine) {
  const actions = document.createElement("span");
  actions.className = "actions";
  if (!message.parentId) {
    const reply = Object.assign(document.createElement("button"), { textContent: "reply", title: "Reply in a thread" });
    reply.onclick = () => openThread(message.id);
    actions.append(reply);
  }
  const pin = Object.assign(document.createElement("button"), { textContent: message.pinned ? "unpin" : "pin" });
  pin.onclick = async () => {
    try {
      receive(await api(message.pinned ? "DELETE" : "PUT", `/api/messages/${message.id}/pin`));
    } catch (error) { alert(error.message); }
  };
  actions.append(pin);
  if (!mine) return actions;
  const edit = Object.assign(document.createElement("button"), { textContent: "edit", title: "Edit" });
  edit.onclick = async () => {
    const content = prompt("Edit message", message.content);
    if (content === null || content === message.content) return;
    const ack = await state.socket.timeout(10000).emitWithAck("edit_message", { messageId: message.id, content });
    if (ack.ok) receive(ack.message); else alert(ack.error.message);
  };
  const remove = Object.assign(document.createElement("button"), { textContent: "delete", title: "Delete" });
  remove.onclick = async () => {
    if (!confirm("Delete this message?")) return;
    const ack = await state.socket.timeout(10000).emitWithAck("delete_message", { messageId: message.id });
    if (ack.ok) markDeleted(message.roomId, message.id); else alert(ack.error.message);
  };
  actions.append(edit, remove);
  return actions;
}

function renderReactions(message) {
  const row = document.createElement("div");
  row.className = "reactions";
  const counts = message.reactionCounts || {};
  const mine = new Set((message.reactions || []).filter((r) => r.user === state.me.id).map((r) => r.emoji));
  for (const [emoji, count] of Object.entries(counts)) {
    const button = document.createElement("button");
    button.className = "reaction" + (mine.has(emoji) ? " mine" : "");
    button.textContent = `${emoji} ${count}`;
    button.onclick = () => react(message, emoji, mine.has(emoji));
    row.append(button);
  }
  const add = Object.assign(document.createElement("button"), { textContent: "☺+", title: "React", className: "add-reaction" });
  add.onclick = () => {
    const palette = document.createElement("span");
    palette.className = "palette";
    EMOJI.forEach((emoji) => {
      const choice = Object.assign(document.createElement("button"), { textContent: emoji });
      choice.onclick = () => react(message, emoji, mine.has(emoji));
      palette.append(choice);
    });
    add.replaceWith(palette);
  };
  row.append(add);
  return row;
}

async function react(message, emoji, remove) {
  const ack = await state.socket.timeout(10000).emitWithAck(remove ? "remove_reaction" : "add_reaction", { messageId: message.id, emoji });
  if (ack.ok) receive(ack.message); else alert(ack.error.message);
}

// Attachments need the token, so they are fetched and shown from blob: URLs.
function renderAttachment(attachment) {
  const holder = document.createElement("div");
  const isImage = attachment.contentType.startsWith("image/");
  fetch(attachment.url, { headers: { Authorization: `Bearer ${state.access}` } })
    .then((r) => (r.ok ? r.blob() : Promise.reject(new Error(r.statusText))))
    .then((blob) => {
      const url = URL.createObjectURL(blob);
      if (isImage) {
        holder.append(Object.assign(document.createElement("img"), { src: url, alt: attachment.name, className: "attachment" }));
      } else {
        holder.append(Object.assign(document.createElement("a"), { href: url, download: attachment.name, textContent: `⬇ ${attachment.name}`, className: "file" }));
      }
    })
    .catch(() => { holder.textContent = `${attachment.name} (unavailable)`; });
  return holder;
}

async function send(event) {
  event.preventDefault();
  stopTyping();
  await post($("text"), {});
}

async function sendReply(event) {
  event.preventDefault();
  if (state.thread) await post($("thread-text"), { parentId: state.thread });
}

async function post(box, extra) {
  const content = box.value;
  if (!content.trim() || !state.current) return;
  const clientId = crypto.randomUUID();
  box.value = "";
  // Retry with the same clientId until acked: the server stores it once.
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const ack = await state.socket.timeout(5000).emitWithAck("send_message", { roomId: state.current, message: content, clientId, ...extra });
      if (ack.ok) return ack.message ? receive(ack.message) : hint(ack.text);
      return alert(ack.error.message);
    } catch { await new Promise((r) => setTimeout(r, 1000)); }
  }
  box.value = content;
}

async function upload() {
  const file = $("file").files[0];
  if (!file || !state.current) return;
  const form = new FormData();
  form.append("file", file);
  try {
    receive(await api("POST", `/api/rooms/${state.current}/files`, form));
  } catch (error) {
    alert(error.message);
  }
  $("file").value = "";
}

// ---------------------------------------------------------------- slash commands
function hint(text) {
  $("command-hint").textContent = text;
  $("command-hint").hidden = !text;
}

function matchingCommands() {
  const value = $("text").value;
  if (!value.startsWith("/") || value.startsWith("//") || /\s/.test(value)) return [];
  return state.commands.filter((c) => `/${c.name}`.startsWith(value));
}

function suggestCommands() {
  hint(matchingCommands().map((c) => `${c.usage}: ${c.description}`).join("\n"));
}

function completeCommand(event) {
  const found = matchingCommands();
  if (event.key !== "Tab" || !found.length) return false;
  event.preventDefault();
  $("text").value = `/${found[0].name} `;
  hint(`${found[0].usage}: ${found[0].description}`);
  return true;
}

// ---------------------------------------------------------------- typing
function typed() {
  const now = Date.now();
  if (!state.current || now - state.typingSent < 2000) return;
  state.typingSent = now;
  state.socket.emit("typing_start", { roomId: state.current }, () => {});
}

function stopTyping() {
  if (!state.typingSent || !state.current) return;
  state.typingSent = 0;
  state.socket.emit("typing_stop", { roomId: state.current }, () => {});
}

function onTyping({ roomId, userId, username, isTyping }) {
  if (!state.typing.has(roomId)) state.typing.set(roomId, new Map());
  const typists = state.typing.get(roomId);
  if (isTyping) typists.set(userId, username); else typists.delete(userId);
  if (roomId === state.current) renderTyping();
}

function renderTyping() {
  const names = [...(state.typing.get(state.current)?.values() || [])];
  $("typing").textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
}

// ---------------------------------------------------------------- presence
async function loadOnline() {
  try {
    const { users } = await api("GET", "/api/users/online");
    state.online = new Map(users.map((u) => [u.id, u.username]));
  } catch { /* keep what we had */ }
  renderOnline();
}

function onPresence({ userId, online, username }) {
  if (online && !state.online.has(userId)) {
    if (!username) return scheduleOnline();
    state.online.set(userId, username);
  }
  if (!online) state.online.delete(userId);
  renderOnline();
}

function renderOnline() {
  const list = $("online");
  list.replaceChildren();
  for (const [id, name] of state.online) {
    const item = document.createElement("li");
    item.textContent = name;
    if (id !== state.me.id) {
      const dm = Object.assign(document.createElement("button"), { textContent: "message" });
      dm.onclick = async () => {
        const room = await api("POST", "/api/rooms/direct", { userId: id });
        mergeRoom(room);
        await state.socket.timeout(10000).emitWithAck("join_room", { roomId: room.id });
        openRoom(room.id);
      };
      item.append(dm);
    }
    list.append(item);
  }
  renderHeader();
}

// ---------------------------------------------------------------- threads
async function openThread(messageId) {
  state.thread = messageId;
  $("thread").hidden = false;
  const page = await api("GET", `/api/messages/${messageId}/thread?limit=100`);
  page.messages.forEach((m) => receive(m, true));
  renderThread();
  $("thread-text").focus();
}

function closeThread() {
  state.thread = null;
  $("thread").hidden = true;
}

function renderThread() {
  if (!state.thread || !state.current) return;
  const messages = roomMessages(state.current);
  const parent = messages.get(state.thread);
  const replies = [...messages.values()].filter((m) => m.parentId === state.thread);
  $("thread-list").replaceChildren(...[parent, ...replies].filter(Boolean).map(renderMessage));
  const newest = replies[replies.length - 1];
  if (newest && !newest.alsoInRoom && !document.hidden) { // thread-only replies: the thread's pointer
    api("POST", `/api/rooms/${state.current}/read`, { messageId: newest.id }).catch(() => {});
  }
}

function onThread({ roomId, messageId, thread }) {
  const message = roomMessages(roomId).get(messageId);
  if (!message) return;
  message.thread = thread;
  if (roomId === state.current) renderMessages(false);
}

// ---------------------------------------------------------------- read receipts
async function loadReads(roomId) {
  try {
    const { reads } = await api("GET", `/api/rooms/${roomId}/reads`);
    state.reads.set(roomId, new Map(reads.map((r) => [r.userId, r.lastReadSeq])));
  } catch { return; }
  if (roomId === state.current) refreshSeen();
}

function onRead({ roomId, userId, lastReadSeq }) {
  if (!state.reads.has(roomId)) state.reads.set(roomId, new Map());
  state.reads.get(roomId).set(userId, lastReadSeq);
  if (roomId === state.current) refreshSeen(); // only the line: re-rendering would close menus
}

const refreshSeen = () => renderSeen([...roomMessages(state.current).values()].filter(inRoom));

// Who else has read up to the newest message shown.
function renderSeen(shown) {
  const newest = shown[shown.length - 1];
  const reads = state.reads.get(state.current) || new Map();
  const readers = newest ? [...reads].filter(([id, seq]) => id !== state.me.id && seq >= newest.seq) : [];
  $("seen").textContent = readers.length ? `Seen by ${readers.map(([id]) => nameOf(id)).join(", ")}` : "";
}

// ---------------------------------------------------------------- people
// Names, statuses and avatars come from the directory, asked for in batches.
const wanted = new Set();

function rememberUser(user) {
  state.users.set(user.id, user);
  if (user.avatarUrl && !state.avatars.has(user.avatarUrl)) loadAvatar(user.avatarUrl);
}

function userOf(id) {
  const user = state.users.get(id);
  if (!user) { wanted.add(id); coalesce("users", loadUsers, 50); }
  return user;
}

async function loadUsers() {
  const ids = [...wanted].filter((id) => !state.users.has(id)).slice(0, 100);
  wanted.clear();
  if (!ids.length) return;
  try {
    const { users } = await api("GET", `/api/users?ids=${ids.join(",")}`);
    users.filter((u) => !state.users.has(u.id)).forEach(rememberUser); // user_updated is newer
  } catch { return; }
  renderPeople();
}

async function loadAvatar(url) {
  state.avatars.set(url, null); // asked for
  const response = await fetch(url, { headers: { Authorization: `Bearer ${state.access}` } });
  if (!response.ok) return;
  state.avatars.set(url, URL.createObjectURL(await response.blob()));
  renderPeople();
}

const nameOf = (id, fallback) => userOf(id)?.displayName || fallback || state.online.get(id) || "someone";

function statusOf(id) {
  const status = userOf(id)?.status;
  return status ? [status.emoji, status.text].filter(Boolean).join(" ") : "";
}

// A message's sender as the directory tells it now: name, avatar, status. Updated in
// place when a profile changes (re-rendering would close what is open, a palette say).
function fillSender(meta) {
  const id = meta.dataset.user;
  const sender = meta.querySelector(".sender");
  if (!id || !sender) return;
  sender.textContent = nameOf(id, meta.dataset.username);
  const source = state.avatars.get(userOf(id)?.avatarUrl);
  let avatar = meta.querySelector("img.avatar");
  if (source && !avatar) {
    avatar = Object.assign(document.createElement("img"), { className: "avatar", alt: "" });
    meta.prepend(avatar);
  }
  if (avatar && source) avatar.src = source; else avatar?.remove();
  const text = statusOf(id);
  let status = meta.querySelector(".status");
  if (text && !status) {
    status = Object.assign(document.createElement("span"), { className: "status" });
    sender.after(status);
  }
  if (status && text) status.textContent = text; else status?.remove();
}

function renderPeople() {
  $("me-name").textContent = nameOf(state.me.id);
  document.querySelectorAll(".message .meta").forEach(fillSender);
  if (state.current) refreshSeen();
}

async function editProfile() {
  const displayName = prompt("Display name", nameOf(state.me.id));
  if (displayName === null) return;
  const text = prompt("Status (empty clears it)", state.users.get(state.me.id)?.status?.text || "");
  if (text === null) return;
  try {
    const status = text.trim() ? { text: text.trim(), emoji: "" } : null;
    rememberUser(await api("PATCH", "/api/users/me", { displayName, status }));
    renderPeople();
  } catch (error) { alert(error.message); }
}

// ---------------------------------------------------------------- search
async function search(event) {
  event.preventDefault();
  const q = $("search-q").value.trim();
  const list = $("search-results");
  list.hidden = !q;
  if (!q) return;
  let found;
  try {
    found = (await api("GET", `/api/search/messages?q=${encodeURIComponent(q)}&limit=20`)).messages;
  } catch (error) {
    list.replaceChildren(Object.assign(document.createElement("li"), { textContent: error.message }));
    return;
  }
  list.replaceChildren(...(found.length ? found : [null]).map((hit) => {
    const item = document.createElement("li");
    if (!hit) { item.textContent = "Nothing found."; return item; }
    item.textContent = `${hit.room.name} · ${nameOf(hit.sender.id, hit.sender.username)}: ${hit.content.slice(0, 80)}`;
    item.onclick = () => { list.hidden = true; openRoom(hit.roomId); };
    return item;
  }));
}

// ---------------------------------------------------------------- notifications
async function loadNotifications() {
  try {
    state.notifications = (await api("GET", "/api/notifications?unread=true")).notifications;
  } catch { state.notifications = []; } // the plugin may be off
  renderBell();
}

function renderBell() {
  const count = state.notifications.filter((n) => !n.read).length;
  $("bell-count").hidden = count === 0;
  $("bell-count").textContent = count;
  const box = $("notifications");
  box.replaceChildren(...state.notifications.slice(0, 30).map((note) => {
    const row = document.createElement("div");
    const room = state.rooms.get(note.roomId);
    const what = { mention: "Mentioned", thread_reply: "A reply in a thread" }[note.type] || "Direct message";
    row.textContent = `${what} in ${room ? room.name : "a room"}`;
    row.onclick = async () => {
      await api("POST", "/api/notifications/read", { ids: [note.id] }).catch(() => {});
      note.read = true;
      state.notifications = state.notifications.filter((n) => !n.read);
      renderBell();
      if (room) openRoom(room.id);
    };
    return row;
  }));
}

// ---------------------------------------------------------------- wiring
document.addEventListener("DOMContentLoaded", () => {
  $("tab-login").onclick = () => setMode(false);
  $("tab-register").onclick = () => setMode(true);
  $("auth-form").onsubmit = submitAuth;
  $("logout").onclick = logout;
  $("bell").onclick = () => { $("notifications").hidden = !$("notifications").hidden; };
  $("new-room").onsubmit = createRoom;
  $("invite").onsubmit = invite;
  $("invite-link").onclick = inviteLink;
  $("verify-send").onclick = sendVerification;
  $("composer").onsubmit = send;
  $("thread-composer").onsubmit = sendReply;
  $("search").onsubmit = search;
  $("close-thread").onclick = closeThread;
  $("profile").onclick = editProfile;
  $("thread-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("thread-composer").requestSubmit(); }
  });
  $("older").onclick = loadOlder;
  $("file").onchange = upload;
  $("text").addEventListener("input", typed);
  $("text").addEventListener("input", suggestCommands);
  $("text").addEventListener("blur", stopTyping);
  $("text").addEventListener("keydown", (event) => {
    if (completeCommand(event)) return;
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); hint(""); $("composer").requestSubmit(); }
  });
  document.addEventListener("visibilitychange", markRead);
  setMode(false);
  if (state.access) start().then(confirmEmail); else { showAuth(); showInvite(); confirmEmail(); }
  window.addEventListener("hashchange", () => { confirmEmail(); if (!state.me) showInvite(); });
});
