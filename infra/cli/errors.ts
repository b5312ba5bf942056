/** A failure the operator can act on: its message is printed as is (never with personal data), exit status 1. */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly exitCode: number = 1;
}

/** The command line itself is wrong: the message and a pointer to --help, exit status 2. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  override readonly exitCode = 2;
}
