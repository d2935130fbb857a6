import { readdir, readFile, readlink } from "node:fs/promises";
import { listPids } from "./proc.js";

/**
 * Finds the processes listening on a TCP port without shelling out to ss or lsof:
 *
 *   /proc/net/tcp{,6}  row in state 0A (LISTEN) on the port ──▶ socket inode
 *   /proc/<pid>/fd/*   symlink "socket:[<inode>]"            ──▶ pid
 */

const LISTEN = "0A";

/** Decodes the kernel's hex address: 32-bit words in host (little-endian) byte order. */
function decodeAddress(hex: string): number[] {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(hex.slice(word + b, word + b + 2), 16));
  }
  return bytes;
}

/** Loopback or wildcard: the addresses a local service listens on (127.0.0.0/8, 0.0.0.0, ::1, ::, v4-mapped). */
function isLocalListenAddress(bytes: number[]): boolean {
  const v4 = (a: number[]) => a[0] === 127 || a.every((b) => b === 0);
  if (bytes.length === 4) return v4(bytes);
  const prefix = bytes.slice(0, 10);
  if (!prefix.every((b) => b === 0)) return false;
  const tail = bytes.slice(12);
  if (bytes[10] === 0xff && bytes[11] === 0xff) return v4(tail);
  if (bytes[10] !== 0 || bytes[11] !== 0) return false;
  return tail.every((b) => b === 0) || (tail[0] === 0 && tail[1] === 0 && tail[2] === 0 && tail[3] === 1);
}

/** Parses /proc/net/tcp text into the inodes of sockets listening on `port` at a local address. */
export function parseListeningInodes(text: string, port: number): string[] {
  const inodes: string[] = [];
  // Busy hosts list tens of thousands of sockets; only rows naming the port are worth splitting.
  const needle = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  for (const line of text.split("\n").slice(1)) {
    if (!line.includes(needle)) continue;
    const cols = line.trim().split(/\s+/);
    const [local, state, inode] = [cols[1], cols[3], cols[9]];
    if (!local || state !== LISTEN || !inode || inode === "0") continue;
    const [addr, portHex] = local.split(":");
    if (!addr || Number.parseInt(portHex ?? "", 16) !== port) continue;
    if (isLocalListenAddress(decodeAddress(addr))) inodes.push(inode);
  }
  return inodes;
}

/** Inodes of TCP sockets (IPv4 and IPv6) listening on `port`. */
export async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue; // no IPv6 in this kernel or namespace
    }
    for (const inode of parseListeningInodes(text, port)) inodes.add(inode);
  }
  return inodes;
}

/** The pids holding any of the socket inodes open; processes we may not inspect are skipped. */
export async function pidsHoldingSockets(inodes: Set<string>): Promise<number[]> {
  if (inodes.size === 0) return [];
  const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
  const holds = async (pid: number): Promise<boolean> => {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      return false; // gone, or owned by another user
    }
    const links = await Promise.all(fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")));
    return links.some((link) => wanted.has(link));
  };
  const pids = await listPids();
  const held = await Promise.all(pids.map(holds));
  return pids.filter((_, i) => held[i]);
}
