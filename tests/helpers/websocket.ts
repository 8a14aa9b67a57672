/** RFC 6455 pieces the hand-written WebSocket peers of the tests share. */

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The `Sec-WebSocket-Accept` a server must answer to the upgrade request `head`. */
export async function acceptFor(head: string): Promise<string> {
  const key = /sec-websocket-key: (\S+)/i.exec(head)![1];
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}
