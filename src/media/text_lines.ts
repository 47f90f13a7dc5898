/**
 * Splitting a child process's byte stream into text lines as they arrive.
 *
 * @module
 */

/**
 * Yields the lines of `stream` (UTF-8) without their "\n" or "\r\n" terminators as soon as each
 * is complete. A line (or a multi-byte character) split across chunks is joined, and a last line
 * without a terminator is yielded at the end.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const strip = (line: string) => line.endsWith("\r") ? line.slice(0, -1) : line;
  let pending = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (pending + chunk).split("\n");
    pending = parts.pop()!;
    yield* parts.map(strip);
  }
  if (pending !== "") yield strip(pending);
}
