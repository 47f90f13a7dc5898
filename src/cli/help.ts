/** Shared pieces of `--help` texts. */

/** An "Examples:" block for addHelpText. */
export const examples = (lines: string[]): string =>
  `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
