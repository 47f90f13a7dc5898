/**
 * A small validator over the `yaml` package's document tree, shared by config.yaml and policy
 * files so that both report problems the same way, on one line:
 *
 * ```text
 * <file>:<line>:<col>: <dotted.key>: <problem>
 * ```
 *
 * A file is described by a table of keys to {@link Reader}s; {@link parseYaml} checks YAML syntax,
 * unknown and duplicate keys (at the key), and hands every value to its reader, which reports
 * wrong types and impossible values at the value. Cross-field rules are left to the caller, who
 * reports them through {@link Section.at}. The same readers validate command-line values through
 * {@link Field.flag}, so a flag is checked exactly like the key it overrides.
 *
 * @module
 */
import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
} from "yaml";
import { ConfigError } from "../errors.ts";
import { closest } from "../util/suggest.ts";
import { type FileRead, readNamedFileSync, UnreadableFileError } from "../util/safe_open.ts";

interface Origin {
  file: string;
  doc: Document;
  lines: LineCounter;
  /** Offset in the text where this value (or, if absent, its parent) was written. */
  offset: number;
}

/**
 * One value under validation and where it came from: a position in a YAML file with its dotted
 * key path, or a command-line flag.
 */
export class Field {
  private constructor(
    /** Prefix of every message about this value: `<file>:<line>:<col>: <path>` or the flag. */
    readonly where: string,
    /** A scalar's value (string, number, boolean or null), or the YAML node of a collection. */
    readonly value: unknown,
    /** Dotted key path (`worker.end_by`, `transcode.audio_preserve_codecs[1]`); "" at the top. */
    readonly path: string,
    private readonly origin?: Origin,
  ) {}

  /** A value given on the command line; problems are reported as `<name>: <problem>`. */
  static flag(name: string, value: unknown): Field {
    return new Field(name, value, name);
  }

  /** The top level of a parsed document (an empty document is an empty mapping). */
  static document(file: string, doc: Document, lines: LineCounter): Field {
    return new Field("", null, "", { file, doc, lines, offset: 0 }).child("", doc.contents);
  }

  /**
   * The field of a collection's member: `segment` is a key (joined with a dot) or a list index.
   * `node` is the member's YAML node; when it is missing or empty (`key:` with nothing after it)
   * the position falls back to `fallbackOffset`, then to this field's own position.
   */
  child(segment: string | number, node: unknown, fallbackOffset?: number): Field {
    const path = typeof segment === "number"
      ? `${this.path}[${segment}]`
      : [this.path, segment].filter(Boolean).join(".");
    if (!this.origin) return new Field(path, node, path);
    const empty = isScalar(node) && node.value === null && node.source === "";
    const written = isNode(node) && !empty ? node : undefined;
    const offset = written?.range?.[0] ?? fallbackOffset ?? this.origin.offset;
    const origin = { ...this.origin, offset };
    const { line, col } = origin.lines.linePos(offset);
    const where = `${origin.file}:${line}:${col}` + (path ? `: ${path}` : "");
    const make = (value: unknown) => new Field(where, value, path, origin);
    if (!isAlias(node)) return make(isScalar(node) ? node.value : node ?? null);
    const target = node.resolve(origin.doc);
    if (!target) make(null).fail(`unknown alias *${node.source}`);
    return make(isScalar(target) ? target.value : target);
  }

  /** Throws a {@link ConfigError} `<where>: <problem>`. */
  fail(problem: string): never {
    throw new ConfigError(`${this.where}: ${problem}`);
  }
}

/** Validates one value and returns it converted; reports problems with {@link Field.fail}. */
export type Reader<T> = (field: Field) => T;

/** The keys a mapping may hold, each with the reader of its value. */
export type Spec = Record<string, Reader<unknown>>;

/** Validated values of the keys present in a mapping (absent keys are undefined). */
export type Values<S extends Spec> = { [K in keyof S]?: ReturnType<S[K]> };

/** A validated mapping. */
export interface Section<S extends Spec> {
  /** Values of the keys that were written, each already checked by its reader. */
  readonly values: Values<S>;
  /**
   * The field of `key`, for cross-field rules: where the key's value was written or, when the
   * key is absent, where the mapping is (so "required" errors point into the right section).
   */
  at(key: keyof S & string): Field;
}

/**
 * How a value is named in "expected ..., got <value>" messages. A missing key of JSON read back
 * (json_fields.ts) arrives as undefined: "nothing", as those readers say it.
 */
function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (isMap(value)) return "a mapping";
  if (isSeq(value)) return "a list";
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/** Integer readers' bounds. */
export interface IntegerRule {
  min?: number;
  max?: number;
  /** Video dimensions must be even for 4:2:0 chroma subsampling. */
  even?: boolean;
}

/** An integer, optionally bounded and even: "expected an integer >= 1, got 0". */
export function integer(rule: IntegerRule = {}): Reader<number> {
  const { min = -Infinity, max = Infinity, even = false } = rule;
  const bounds = min > -Infinity && max < Infinity
    ? ` from ${min} to ${max}`
    : min > -Infinity
    ? ` >= ${min}`
    : max < Infinity
    ? ` <= ${max}`
    : "";
  const expected = `${even ? "an even integer" : "an integer"}${bounds}`;
  return (field: Field) => {
    const v = field.value;
    if (
      typeof v !== "number" || !Number.isInteger(v) || v < min || v > max || (even && v % 2 !== 0)
    ) {
      field.fail(`expected ${expected}, got ${describe(v)}`);
    }
    return v;
  };
}

/**
 * A finite number greater than `above` and at most `max` (fractions allowed):
 * "expected a number > 0 and <= 3600, got 0".
 */
export function number(above: number, max = Infinity): Reader<number> {
  const expected = `a number > ${above}${max < Infinity ? ` and <= ${max}` : ""}`;
  return (field: Field) => {
    const v = field.value;
    if (typeof v !== "number" || !Number.isFinite(v) || v <= above || v > max) {
      field.fail(`expected ${expected}, got ${describe(v)}`);
    }
    return v;
  };
}

/** `true` or `false`. YAML 1.2 reads `yes`/`no`/`on`/`off` as strings, so they are refused. */
export function boolean(): Reader<boolean> {
  return (field: Field) => {
    if (typeof field.value !== "boolean") {
      field.fail(`expected true or false, got ${describe(field.value)}`);
    }
    return field.value;
  };
}

/**
 * One of `choices`, matched case-insensitively, or an alias of one (returned as the canonical
 * name). A near miss gets a suggestion: `"1080" is not a resolution (did you mean "1080p"?)`.
 * `noun` includes its article: "a resolution", "an audio codec".
 */
export function choice<T extends string>(
  noun: string,
  choices: readonly T[],
  aliases: Readonly<Record<string, T>> = {},
): Reader<T> {
  return (field: Field) => {
    const v = field.value;
    if (typeof v === "string" || typeof v === "number") {
      const key = String(v).trim().toLowerCase();
      const hit = choices.find((c) => c === key) ??
        (Object.hasOwn(aliases, key) ? aliases[key] : undefined);
      if (hit) return hit;
      const guess = closest(key, [...choices, ...Object.keys(aliases)]);
      if (guess) field.fail(`${describe(v)} is not ${noun} (did you mean "${guess}"?)`);
    }
    field.fail(`${describe(v)} is not ${noun} (expected one of ${choices.join(", ")})`);
  };
}

/** A value written as a string or a number and converted by `parse`, which throws an Error
 * saying why it refuses one (the units parsers, times of day). */
export function parsed<T>(noun: string, parse: (value: string | number) => T): Reader<T> {
  return (field: Field) => {
    const v = field.value;
    if (typeof v !== "string" && typeof v !== "number") {
      field.fail(`expected ${noun}, got ${describe(v)}`);
    }
    try {
      return parse(v);
    } catch (e) {
      field.fail(e instanceof Error ? e.message : String(e));
    }
  };
}

/** `null` (or `key:` with nothing after it), or what `reader` accepts. */
export function nullable<T>(reader: Reader<T>): Reader<T | null> {
  return (field: Field) => field.value === null ? null : reader(field);
}

/** A list whose items `item` reads; items are reported as `key[index]`. */
export function list<T>(item: Reader<T>): Reader<T[]> {
  return (field: Field) => {
    const seq = field.value;
    if (!isSeq(seq)) field.fail(`expected a list, got ${describe(seq)}`);
    return seq.items.map((node, i) => item(field.child(i, node)));
  };
}

/**
 * A mapping whose keys are those of `spec`. `key:` with nothing after it counts as an empty
 * mapping, so commenting out every key of a section is fine. Keys are checked in the order they
 * are written, so the first problem in the file is the one reported.
 */
export function section<S extends Spec>(spec: S): Reader<Section<S>> {
  const known = Object.keys(spec);
  return (field: Field) => {
    const map = field.value;
    if (map !== null && !isMap(map)) {
      field.fail(
        field.path
          ? `expected a mapping, got ${describe(map)}`
          : `the top level must be a mapping of keys, got ${describe(map)}`,
      );
    }
    const values: Record<string, unknown> = {};
    const fields = new Map<string, Field>();
    for (const pair of map?.items ?? []) {
      if (!isScalar(pair.key)) return field.child("", pair.key).fail("keys must be plain names");
      const name = String(pair.key.value);
      const key = field.child(name, pair.key);
      if (fields.has(name)) key.fail("duplicate key");
      if (!Object.hasOwn(spec, name)) {
        const guess = closest(name, known);
        key.fail(
          guess
            ? `unknown key (did you mean "${guess}"?)`
            : `unknown key (expected one of ${known.join(", ")})`,
        );
      }
      const child = field.child(name, pair.value, pair.key.range?.[0]);
      fields.set(name, child);
      values[name] = spec[name](child);
    }
    return {
      values: values as Values<S>,
      at: (name) => fields.get(name) ?? field.child(name, null),
    };
  };
}

/**
 * Parses `text` (from `file`, used in messages) and validates it against `spec`. Throws a
 * {@link ConfigError} for the first problem in the file: a YAML syntax error (with its line and
 * column), an unknown or duplicate key, or a value its reader refuses.
 */
export function parseYaml<S extends Spec>(text: string, file: string, spec: S): Section<S> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  // Duplicate keys are left to section(), which names the key path; unknown tags (warnings)
  // are refused too, since vpo never uses tags and a silently ignored one hides a typo.
  const syntax = [...doc.errors, ...doc.warnings]
    .filter((e) => e.code !== "DUPLICATE_KEY")
    .sort((a, b) => a.pos[0] - b.pos[0])[0];
  if (syntax) {
    const { line, col } = lines.linePos(syntax.pos[0]);
    throw new ConfigError(`${file}:${line}:${col}: invalid YAML: ${syntax.message}`);
  }
  return section(spec)(Field.document(file, doc, lines));
}

/** The largest config or policy file read: real ones are a few kilobytes. */
const MAX_YAML_BYTES = 4 * 1024 * 1024;

/**
 * Reads a YAML file's text, or null when it does not exist (each caller decides what that
 * means). Any other failure (a directory, a FIFO, no permission) is a {@link ConfigError}
 * `cannot read <what> <path>: <reason>`.
 */
export async function readYamlFile(path: string, what: string): Promise<string | null> {
  return (await readYamlFileInfo(path, what))?.text ?? null;
}

/** {@link readYamlFile} with the owner, mode and identity of the very file read. */
export function readYamlFileInfo(path: string, what: string): Promise<FileRead | null> {
  return new Promise((resolve) => {
    try {
      // A link to a regular file is fine (dotfile managers keep config and policy files that
      // way); a FIFO or device there is refused, never waited on.
      resolve(readNamedFileSync(path, MAX_YAML_BYTES));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return resolve(null);
      if (e instanceof UnreadableFileError) {
        throw new ConfigError(`cannot read ${what} ${path}: ${e.reason.replace(/; vpo.*$/, "")}`);
      }
      // node:fs says "Is a directory" as EISDIR after the path: keep the reason only.
      const reason = String(e instanceof Error ? e.message : e).replace(/^.*: /, "");
      throw new ConfigError(`cannot read ${what} ${path}: ${reason.toLowerCase()}`, { cause: e });
    }
  });
}
