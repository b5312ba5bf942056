import cliProgress from 'cli-progress';

/** A progress bar on stderr, so stdout keeps only the command's result. Silent when stderr is not a terminal. */
export interface Progress {
  start(total: number): void;
  update(value: number, rows: number): void;
  stop(): void;
}

export function progressBar(stream: NodeJS.WritableStream, label: string, unit: string): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} |{bar}| {percentage}% | {rows} ${unit} | {duration_formatted} elapsed, ETA {eta_formatted}`,
      hideCursor: true,
      // Logs and CI capture stderr without a terminal: a bar redrawn there is noise.
      noTTYOutput: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total) => bar.start(Math.max(total, 1), 0, { rows: 0 }),
    update: (value, rows) => bar.update(value, { rows }),
    stop: () => bar.stop(),
  };
}
