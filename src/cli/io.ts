/**
 * Where a CLI subcommand writes. Subcommands never touch `process`: `src/main.ts` passes stdout/stderr in
 * and turns the returned number into the exit code, so tests run commands in-process with captured output.
 */
export interface CliIo {
  /** One line (no trailing newline needed) to standard output. */
  out(line: string): void;
  /** One line to standard error. */
  err(line: string): void;
}
