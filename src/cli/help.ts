/** Shared pieces of `--help` texts. */

/** An "Examples:" block for addHelpText. */
export const examples = (lines: string[]): string =>
  `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;

/** "1 job", "3 jobs". */
export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
