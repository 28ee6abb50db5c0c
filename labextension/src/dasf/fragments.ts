/** Reassembly of fragmented replies (PROTOCOL.md §8): base64 chunks joined, decoded once. */

import { Properties, Prop, intProp } from './envelope';
import { DasfPayloadTooLargeError, DasfProtocolError } from './errors';

/** Upper bound of a reassembled payload in base64 characters (V8 strings stop near 2^29). */
export const DEFAULT_MAX_PAYLOAD_CHARS = 256 * 1024 * 1024;
/**
 * Upper bound of all incomplete payloads together (characters, plus
 * {@link FRAGMENT_OVERHEAD_CHARS} per fragment). Like the Python client (total = one reply),
 * but 256 Mi rather than 1 Gi: a whole reply is joined, decoded and parsed while its
 * fragments are still held, about four times its size, which must fit a tab's heap.
 */
export const DEFAULT_MAX_TOTAL_CHARS = 256 * 1024 * 1024;
/** Characters charged per stored fragment for its bookkeeping (many tiny fragments). */
export const FRAGMENT_OVERHEAD_CHARS = 128;

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

/** Told why an incomplete payload was dropped to keep the total bound. */
export type DropHandler = (reason: string) => void;

interface Partial {
  total: number;
  chunks: (string | undefined)[];
  received: number;
  chars: number;
  /** what this payload counts towards the total bound */
  charged: number;
  onDrop?: DropHandler;
}

/**
 * Collects the fragments of several replies at once, keyed by the caller. Memory is
 * bounded by `maxPayloadChars` per payload and `maxTotalChars` over all incomplete ones:
 * past the total, the oldest other incomplete payloads are dropped and their `onDrop`
 * told why (the newest may alone grow to `maxPayloadChars`).
 */
export class FragmentAssembler {
  /** in insertion order: the first entry is the oldest */
  private readonly partials = new Map<string, Partial>();
  private totalCharged = 0;

  constructor(
    private readonly maxPayloadChars: number = DEFAULT_MAX_PAYLOAD_CHARS,
    readonly maxTotalChars: number = DEFAULT_MAX_TOTAL_CHARS
  ) {
    if (!(maxTotalChars > 0)) {
      throw new RangeError(`maxTotalChars must be positive, got ${maxTotalChars}`);
    }
  }

  /** Number of replies still incomplete. */
  get size(): number {
    return this.partials.size;
  }

  /** Characters (plus per-fragment overhead) held by incomplete payloads. */
  get pendingChars(): number {
    return this.totalCharged;
  }

  /**
   * Add one chunk; return the joined base64 payload once all have arrived, else null.
   * `onDrop` (taken from the first chunk of a payload) is called, after this chunk is
   * stored, if the payload is dropped later to keep the total bound.
   */
  add(key: string, index: number, total: number, chunk: string, onDrop?: DropHandler): string | null {
    if (total === 1) {
      return chunk;
    }
    if (total > this.maxPayloadChars) {
      // every fragment carries at least one character, so this can never complete
      throw new DasfProtocolError(`${total} fragments exceed the payload limit`);
    }
    let partial = this.partials.get(key);
    if (partial === undefined) {
      partial = { total, chunks: new Array(total), received: 0, chars: 0, charged: 0, onDrop };
      this.partials.set(key, partial);
    } else if (partial.total !== total) {
      this.forget(key);
      throw new DasfProtocolError(
        `fragments disagree on their number (${partial.total} then ${total})`
      );
    }
    if (partial.chunks[index] !== undefined) {
      return null; // a redelivered fragment: the first copy counts
    }
    partial.chars += chunk.length;
    if (partial.chars > this.maxPayloadChars) {
      this.forget(key);
      throw new DasfPayloadTooLargeError(
        `fragmented payload exceeds the limit of ${this.maxPayloadChars} characters`
      );
    }
    partial.chunks[index] = chunk;
    partial.received += 1;
    const charge = chunk.length + FRAGMENT_OVERHEAD_CHARS;
    partial.charged += charge;
    this.totalCharged += charge;
    if (partial.received < total) {
      this.makeRoom(key);
      return null;
    }
    this.forget(key);
    return partial.chunks.join('');
  }

  /** Forget the fragments collected under `key`. */
  discard(key: string): void {
    this.forget(key);
  }

  private forget(key: string): Partial | undefined {
    const partial = this.partials.get(key);
    if (partial !== undefined) {
      this.partials.delete(key);
      this.totalCharged -= partial.charged;
    }
    return partial;
  }

  /** Drop the oldest payloads other than `keep` while the total is over its bound. */
  private makeRoom(keep: string): void {
    const dropped: Partial[] = [];
    for (const key of [...this.partials.keys()]) {
      if (this.totalCharged <= this.maxTotalChars) {
        break;
      }
      if (key !== keep) {
        dropped.push(this.forget(key)!);
      }
    }
    if (dropped.length === 0) {
      return;
    }
    const reason =
      `incomplete fragmented replies exceeded ${sizeText(this.maxTotalChars)} in total; ` +
      'the oldest incomplete one was dropped';
    for (const partial of dropped) {
      console.warn(
        `DASF: dropped an incomplete reply (${partial.received} of ${partial.total} ` +
          `fragments, ${partial.chars} characters): ${reason}`
      );
      partial.onDrop?.(reason);
    }
  }
}

/** A size limit for messages: MiB when it is at least one. */
function sizeText(chars: number): string {
  const mib = chars / (1024 * 1024);
  return chars >= 1024 * 1024 ? `${Number(mib.toPrecision(6))} MiB` : `${chars} characters`;
}
