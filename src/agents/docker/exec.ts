import type { ActionDefinition } from "../agent.js";
import { execIn } from "./exec-command.js";
import { type ContainerAction, nameList, prepareContainerFault } from "./fault.js";
import { targetSchema } from "./target.js";

const argv = {
  type: "array",
  minItems: 1,
  items: { type: "string" },
  description: "argv, run without a shell",
};

interface ExecArgs {
  command: string[];
  revertCommand?: string[];
  user?: string;
  workdir?: string;
  timeoutMs: number;
}

function execAction(args: ExecArgs): ContainerAction {
  const { revertCommand, user, workdir } = args;
  return {
    name: "docker.exec",
    verb: "executed",
    acts: (state) => state === "running",
    revert: revertCommand
      ? (containers) => ({
          kind: "exec",
          // The argv may hold secrets: it stays in the data the revert needs, never in the description.
          description: `run the revert-command in ${nameList(containers)}`,
          data: { command: revertCommand, user, workdir, timeoutMs: args.timeoutMs },
        })
      : undefined,
    async apply(engine, c, signal) {
      const { exitCode, stdout } = await execIn(engine, c, args.command, signal, {
        user,
        workdir,
        extraMs: args.timeoutMs,
      });
      return { exitCode, stdout };
    },
  };
}

/** Runs a command in the matching running containers; `revert-command`, when given, is the revert. */
export const execActionDefinition: ActionDefinition = {
  name: "exec",
  description:
    "run a command (argv, never a shell) in the matching running containers; optional revert-command",
  target: targetSchema,
  args: {
    type: "object",
    additionalProperties: false,
    required: ["command"],
    properties: {
      command: argv,
      "revert-command": { ...argv, description: "argv run in the same containers to undo the command" },
      user: { type: "string", minLength: 1, description: "user[:group] to run as" },
      workdir: { type: "string", minLength: 1 },
      timeout: {
        type: "integer",
        minimum: 0,
        maximum: 3_600_000,
        default: 30_000,
        description: "milliseconds the command may run, on top of the engine's call deadline",
      },
    },
  },
  /**
   * @throws ChaosError("agent") when no running container (or, without all/select, several) match, or the
   * command exits non-zero.
   */
  prepare: (input, ctx) =>
    prepareContainerFault(
      execAction({
        command: input.args.command as string[],
        revertCommand: input.args["revert-command"] as string[] | undefined,
        user: input.args.user as string | undefined,
        workdir: input.args.workdir as string | undefined,
        timeoutMs: (input.args.timeout as number | undefined) ?? 30_000,
      }),
      input,
      ctx,
    ),
};
