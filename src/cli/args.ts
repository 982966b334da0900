/**
 * Argument parsing for the `geventjs` command. Flags the CLI knows are taken out; every other
 * `--name value` / `--name=value` / bare `--flag` is handed to the scenario as an option.
 */

/** A mistake in how geventjs was invoked (exit code 2). */
export class UsageError extends Error {
  /** Whether the whole help follows the message (else a pointer to `--help`). */
  readonly help: boolean;
  constructor(message: string, options: { help?: boolean } = {}) {
    super(message);
    this.name = 'UsageError';
    this.help = options.help ?? false;
  }
}

export interface ParsedArgs {
  command: string | null;
  positional: string[];
  /** Flags the CLI itself knows, by name. */
  flags: Map<string, string | true>;
  /** Every other flag: scenario options. */
  options: Record<string, string | boolean>;
}

/**
 * @param known CLI flag names; those listed in `booleans` take no value.
 */
export function parseArgs(argv: readonly string[], known: readonly string[], booleans: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { command: null, positional: [], flags: new Map(), options: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      let value: string | true;
      if (eq >= 0) {
        value = arg.slice(eq + 1);
      } else if (booleans.includes(name)) {
        value = true;
      } else {
        const next = argv[i + 1];
        if (next !== undefined && !(next.startsWith('--') && next.length > 2)) {
          value = next;
          i++;
        } else {
          value = true;
        }
      }
      if (known.includes(name)) {
        if (value === true && !booleans.includes(name)) throw new UsageError(`--${name} needs a value`);
        out.flags.set(name, value);
      } else {
        out.options[name] = value;
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      if (arg === '-h') {
        out.flags.set('help', true);
        continue;
      }
      throw new UsageError(`unknown flag ${arg}`);
    }
    if (out.command === null) out.command = arg;
    else out.positional.push(arg);
  }
  return out;
}

/** Parses `A..B` (inclusive) into a range. */
export function parseSeedRange(text: string): [number, number] {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(text.trim());
  if (!m) throw new UsageError(`--seeds needs A..B (inclusive) or a single seed, got ${JSON.stringify(text)}`);
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a;
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || b < a) throw new UsageError(`--seeds: ${text} is not a range A..B with A <= B`);
  return [a, b];
}

/** Parses a seed flag. */
export function parseSeed(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new UsageError(`--seed needs a non-negative integer, got ${JSON.stringify(text)}`);
  return n;
}
