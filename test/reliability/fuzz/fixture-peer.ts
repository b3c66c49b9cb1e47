import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";

/**
 * A loopback peer for schemathesis' generated requests: every image URL it is pointed at
 * serves a real face photo (so a job that names a URL is one the API can accept), and
 * every webhook it is pointed at answers 204. Nothing generated reaches beyond it.
 */
export interface FixturePeer {
  imageUrl: string;
  webhookUrl: string;
  close(): Promise<void>;
}

export const FACE_PNG = resolve(import.meta.dirname, "../../fixtures/images/astronaut.png");

export async function startFixturePeer(): Promise<FixturePeer> {
  const face = readFileSync(FACE_PNG);
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (req.method === "GET") res.writeHead(200, { "content-type": "image/png", "content-length": face.byteLength }).end(face);
      else res.writeHead(204).end();
    });
  }).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    imageUrl: `${base}/face.png`,
    webhookUrl: `${base}/hooks/schemathesis`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
