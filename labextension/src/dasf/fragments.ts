/** Reassembly of fragmented replies (PROTOCOL.md §8): base64 chunks joined, decoded once. */

import { Properties, Prop, intProp } from './envelope';
import { DasfProtocolError } from './errors';

/** Upper bound of a reassembled payload in base64 characters (V8 strings stop near 2^29). */
export const DEFAULT_MAX_PAYLOAD_CHARS = 256 * 1024 * 1024;

/** `[index, total]` of a fragmented message, null if unfragmented; throws if malformed. */
export function fragmentIndex(properties: Properties): [number, number] | null {
  const hasIndex = Prop.fragment in properties;
  const hasTotal = Prop.numFragments in properties;
  if (!hasIndex && !hasTotal) {
    return null;
  }
  const index = intProp(properties, Prop.fragment);
  const total = intProp(properties, Prop.numFragments);
  if (index === undefined || total === undefined) {
    throw new DasfProtocolError('"fragment" and "num_fragments" must both be integers');
  }
  if (total < 1 || index < 0 || index >= total) {
    throw new DasfProtocolError(`fragment ${index} of ${total} is out of range`);
  }
  return [index, total];
}

interface Partial {
  total: number;
  chunks: (string | undefined)[];
  received: number;
  chars: number;
}

/** Collects the fragments of several replies at once, keyed by the caller. */
export class FragmentAssembler {
  private readonly partials = new Map<string, Partial>();

  constructor(private readonly maxPayloadChars: number = DEFAULT_MAX_PAYLOAD_CHARS) {}

  /** Number of replies still incomplete. */
  get size(): number {
    return this.partials.size;
  }

  /** Add one chunk; return the joined base64 payload once all have arrived, else null. */
  add(key: string, index: number, total: number, chunk: string): string | null {
    if (total === 1) {
      return chunk;
    }
    if (total > this.maxPayloadChars) {
      // every fragment carries at least one character, so this can never complete
      throw new DasfProtocolError(`${total} fragments exceed the payload limit`);
    }
    let partial = this.partials.get(key);
    if (partial === undefined) {
      partial = { total, chunks: new Array(total), received: 0, chars: 0 };
      this.partials.set(key, partial);
    } else if (partial.total !== total) {
      this.partials.delete(key);
      throw new DasfProtocolError(
        `fragments disagree on their number (${partial.total} then ${total})`
      );
    }
    if (partial.chunks[index] !== undefined) {
      return null; // a redelivered fragment: the first copy counts
    }
    partial.chars += chunk.length;
    if (partial.chars > this.maxPayloadChars) {
      this.partials.delete(key);
      throw new DasfProtocolError(
        `fragmented payload exceeds the limit of ${this.maxPayloadChars} characters`
      );
    }
    partial.chunks[index] = chunk;
    partial.received += 1;
    if (partial.received < total) {
      return null;
    }
    this.partials.delete(key);
    return partial.chunks.join('');
  }

  /** Forget the fragments collected under `key`. */
  discard(key: string): void {
    this.partials.delete(key);
  }
}
