/** RFC 6455 pieces the hand-written WebSocket peers of the tests share. */
import type { RawSocket } from "./gateway.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The `Sec-WebSocket-Accept` a server must answer to the upgrade request `head`. */
export async function acceptFor(head: string): Promise<string> {
  const key = /sec-websocket-key: (\S+)/i.exec(head)![1];
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

/** One WebSocket frame as read off the wire: unmasked payload, and whether it came masked. */
export interface Frame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/** Reads one frame, client (masked) or server (unmasked), of any length form. */
export async function readFrame(s: RawSocket): Promise<Frame> {
  const [b0, b1] = await s.readBytes(2);
  let len = b1 & 0x7f;
  if (len === 126) {
    const ext = await s.readBytes(2);
    len = (ext[0] << 8) | ext[1];
  } else if (len === 127) {
    const ext = await s.readBytes(8);
    len = Number(new DataView(ext.buffer, ext.byteOffset, 8).getBigUint64(0));
  }
  const masked = (b1 & 0x80) !== 0;
  const mask = masked ? await s.readBytes(4) : undefined;
  const data = await s.readBytes(len);
  return {
    fin: (b0 & 0x80) !== 0,
    opcode: b0 & 0x0f,
    masked,
    payload: mask ? data.map((b, i) => b ^ mask[i & 3]) : data,
  };
}
