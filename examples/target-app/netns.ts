import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";

/**
 * A network namespace of the stack's own for one service, joined to the stack's namespace by a veth pair
 * on a private /30: the stack's side is `hostAddress`, the service's side `serviceAddress`. Traffic between
 * them stays on that pair. Network faults (the network agent) can then act on the service's namespace
 * without touching the stack's own.
 */
export interface ServiceNetns {
  /** The namespace's name (`ip netns`), e.g. chaoskit-payments-1234-a1b2c3. */
  name: string;
  /** Its path, for nsenter --net. */
  path: string;
  hostAddress: string;
  serviceAddress: string;
  /** Deletes the namespace and its veth pair. Never throws. */
  remove(): Promise<void>;
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile("ip", args, { timeout: 10_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`ip ${args.join(" ")}: ${stderr.trim() || err.message}`)) : resolve(),
    ),
  );
}

/**
 * Makes `chaoskit-<service>-<pid>-<random>` with its loopback up and a veth pair on `subnet` (the third octet of
 * 10.213.N.0/30; the stack's side gets .1, the service's .2).
 * @throws Error when the namespace cannot be made (not root, no iproute2, the subnet in use); whatever was
 *   made is removed first.
 */
export async function makeServiceNetns(service: string, subnet: number): Promise<ServiceNetns> {
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) {
    throw new Error(`the namespace subnet must be the third octet of 10.213.N.0/30 (0-255), not ${subnet}`);
  }
  const suffix = randomBytes(3).toString("hex");
  const name = `chaoskit-${service}-${process.pid}-${suffix}`;
  const [outer, inner] = [`ckh${suffix}`, `ckn${suffix}`];
  const hostAddress = `10.213.${subnet}.1`;
  const serviceAddress = `10.213.${subnet}.2`;
  const remove = async () => {
    await ip(["link", "delete", outer]).catch(() => {});
    await ip(["netns", "delete", name]).catch(() => {});
  };
  try {
    await ip(["netns", "add", name]);
    await ip(["-n", name, "link", "set", "lo", "up"]);
    await ip(["link", "add", outer, "type", "veth", "peer", "name", inner, "netns", name]);
    await ip(["addr", "add", `${hostAddress}/30`, "dev", outer]);
    await ip(["-n", name, "addr", "add", `${serviceAddress}/30`, "dev", inner]);
    await ip(["link", "set", outer, "up"]);
    await ip(["-n", name, "link", "set", inner, "up"]);
  } catch (err) {
    await remove();
    throw new Error(`cannot make a network namespace for ${service}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { name, path: `/run/netns/${name}`, hostAddress, serviceAddress, remove };
}
