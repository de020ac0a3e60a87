// What the suites need in Node.js, as their own node-imports.js provides it: chai with
// chai-string, and `WebSocket` from ws. ws 8.17+ dispatches events synchronously by
// default, which makes the suites' `waitFor(socket, "message")` miss frames that arrive
// together; the published suites are stable with `allowSynchronousEvents: false`.
// Node's own `fetch` stands in for node-fetch.
import chai from "chai";
import chaiString from "chai-string";
import { WebSocket as WsSocket } from "ws";

chai.use(chaiString);

class WebSocket extends WsSocket {
  constructor(address, protocols, options) {
    super(address, protocols, { allowSynchronousEvents: false, ...options });
  }
}

globalThis.WebSocket = WebSocket;
globalThis.chai = chai;
