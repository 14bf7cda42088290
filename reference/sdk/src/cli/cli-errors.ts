import { type Command, CommanderError } from "commander";

/**
 * An error the CLI reports as one line, `paycode: <message>`, and exits
 * with `exitCode` — no stack trace. Exit code 2 means the command line was
 * wrong (bad flag or argument), 1 that the command failed.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = 1,
  ) {
    super(message);
  }
}

/** The command line itself is wrong: exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

/** Exit code for usage errors, as commander and most Unix tools use. */
export const EXIT_USAGE = 2;

/**
 * Commander's own errors (unknown option, missing argument) go through the
 * same one-line format. Call before adding subcommands: they inherit it.
 */
export function configureErrorOutput(program: Command): void {
  const name = program.name();
  program.exitOverride();
  program.configureOutput({
    outputError: (str, write) =>
      write(
        `${name}: ${str
          .replace(/^error: /, "")
          .trim()
          .replace(/\s*\n\s*/g, " ")}\n`,
      ),
  });
}

/**
 * One line describing any error, for the CLI. Async because it loads
 * @connectrpc/connect only when an error needs describing: the programs'
 * `--help` must not pay for it.
 */
export async function describeCliError(err: unknown): Promise<string> {
  const { Code, ConnectError } = await import("@connectrpc/connect");
  if (err instanceof ConnectError) {
    const code = (Code[err.code] ?? String(err.code)).replace(
      /[A-Z]/g,
      (c, i: number) => (i ? "_" : "") + c.toLowerCase(),
    );
    return `${code}: ${err.rawMessage}`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

const guarded = new WeakSet<NodeJS.WriteStream>();

/**
 * A reader that stops early (`paycode … | head`) closes the pipe; writing
 * on then fails with EPIPE. That is no error of the command: leave at once,
 * quietly, with status 0, as `head` asked. Other stream errors stay fatal.
 */
export function exitQuietlyOnClosedPipe(
  streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr],
): void {
  for (const stream of streams) {
    if (guarded.has(stream)) continue;
    guarded.add(stream);
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(0);
      throw err;
    });
  }
}

/**
 * Parses the command line and runs the chosen command. Any error ends the
 * process with one line on stderr and a non-zero code; the stack trace is
 * printed only when PAYCODE_DEBUG is set. A closed output pipe ends it
 * quietly (`exitQuietlyOnClosedPipe`).
 */
export async function runCli(
  program: Command,
  argv: readonly string[] = process.argv,
): Promise<void> {
  exitQuietlyOnClosedPipe();
  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    process.exit(await reportCliError(err, program.name()));
  }
}

/** Prints an error the CLI way and returns the exit code to use. */
export async function reportCliError(err: unknown, programName = "paycode"): Promise<number> {
  if (err instanceof CommanderError) {
    // Commander has printed the message (or the help/version) already.
    return err.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  process.stderr.write(`${programName}: ${await describeCliError(err)}\n`);
  if (process.env.PAYCODE_DEBUG && err instanceof Error && err.stack) {
    process.stderr.write(`${err.stack}\n`);
  }
  return err instanceof CliError ? err.exitCode : 1;
}
