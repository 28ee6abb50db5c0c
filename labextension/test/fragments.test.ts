import { DasfPayloadTooLargeError, DasfProtocolError } from '../src/dasf/errors';
import {
  DEFAULT_MAX_PAYLOAD_CHARS,
  DEFAULT_MAX_TOTAL_CHARS,
  FRAGMENT_OVERHEAD_CHARS,
  FragmentAssembler,
  fragmentIndex
} from '../src/dasf/fragments';

describe('fragments', () => {
  test('unfragmented messages have no index', () => {
    expect(fragmentIndex({ messageType: 'response' })).toBeNull();
  });

  test.each([
    [{ fragment: 0 }],
    [{ num_fragments: 2 }],
    [{ fragment: 'a', num_fragments: 2 }],
    [{ fragment: 2, num_fragments: 2 }],
    [{ fragment: -1, num_fragments: 2 }],
    [{ fragment: 0, num_fragments: 0 }]
  ])('malformed fragment properties %j are protocol errors', properties => {
    expect(() => fragmentIndex(properties)).toThrow(DasfProtocolError);
  });

  test('string indices (Pulsar) are accepted', () => {
    expect(fragmentIndex({ fragment: '1', num_fragments: '3' })).toEqual([1, 3]);
  });

  test('chunks arriving out of order are joined in index order', () => {
    const assembler = new FragmentAssembler();
    expect(assembler.add('1', 2, 3, 'c')).toBeNull();
    expect(assembler.add('1', 0, 3, 'a')).toBeNull();
    expect(assembler.add('1', 1, 3, 'b')).toBe('abc');
    expect(assembler.size).toBe(0);
  });

  test('replies under different keys do not mix', () => {
    const assembler = new FragmentAssembler();
    assembler.add('1', 0, 2, 'a');
    assembler.add('2', 0, 2, 'x');
    expect(assembler.add('2', 1, 2, 'y')).toBe('xy');
    expect(assembler.add('1', 1, 2, 'b')).toBe('ab');
  });

  test('a redelivered fragment is ignored', () => {
    const assembler = new FragmentAssembler();
    assembler.add('1', 0, 2, 'a');
    expect(assembler.add('1', 0, 2, 'Z')).toBeNull();
    expect(assembler.add('1', 1, 2, 'b')).toBe('ab');
  });

  test('fragments that disagree on their number are rejected', () => {
    const assembler = new FragmentAssembler();
    assembler.add('1', 0, 2, 'a');
    expect(() => assembler.add('1', 1, 3, 'b')).toThrow(/disagree/);
    expect(assembler.size).toBe(0);
  });

  test('a payload over the limit is rejected and forgotten', () => {
    const assembler = new FragmentAssembler(5);
    assembler.add('1', 0, 3, 'abc');
    expect(() => assembler.add('1', 1, 3, 'def')).toThrow(/limit/);
    expect(assembler.size).toBe(0);
    expect(() => assembler.add('2', 0, 1000, 'a')).toThrow(/exceed/);
  });

  test('a payload over the limit is a DasfPayloadTooLargeError (still a protocol error)', () => {
    const assembler = new FragmentAssembler(5);
    assembler.add('1', 0, 3, 'abc');
    expect(() => assembler.add('1', 1, 3, 'def')).toThrow(DasfPayloadTooLargeError);
  });

  test('the total bound drops the oldest other incomplete payloads and says why', () => {
    const chunk = 'x'.repeat(1000);
    const limit = 3 * (chunk.length + FRAGMENT_OVERHEAD_CHARS);
    const assembler = new FragmentAssembler(10_000, limit);
    const reasons = new Map<string, string>();
    for (const key of ['a', 'b', 'c']) {
      assembler.add(key, 0, 3, chunk, reason => reasons.set(key, reason));
    }
    expect(reasons.size).toBe(0); // exactly at the bound: nothing dropped
    assembler.add('d', 0, 3, chunk, reason => reasons.set('d', reason));
    expect([...reasons.keys()]).toEqual(['a']);
    expect(reasons.get('a')).toMatch(new RegExp(`exceeded ${limit} characters in total`));
    expect(reasons.get('a')).toMatch(/oldest incomplete one was dropped/);
    expect(assembler.size).toBe(3);
    expect(assembler.pendingChars).toBeLessThanOrEqual(limit);
    // the payload being added to is never the one dropped, even if it is the oldest
    expect(assembler.add('b', 1, 3, 'y')).toBeNull();
    expect([...reasons.keys()]).toEqual(['a', 'c']);
  });

  test('the newest payload alone may grow to the per-payload limit', () => {
    const assembler = new FragmentAssembler(100, 10);
    const dropped: string[] = [];
    assembler.add('old', 0, 2, 'a', () => dropped.push('old'));
    assembler.add('new', 0, 3, 'x'.repeat(40), () => dropped.push('new'));
    expect(dropped).toEqual(['old']);
    assembler.add('new', 1, 3, 'y'.repeat(40));
    expect(assembler.add('new', 2, 3, 'z')).toBe('x'.repeat(40) + 'y'.repeat(40) + 'z');
    expect(dropped).toEqual(['old']);
    expect(assembler.size).toBe(0);
    expect(assembler.pendingChars).toBe(0);
  });

  test('finished, discarded and rejected payloads give their room back', () => {
    const assembler = new FragmentAssembler(5);
    assembler.add('1', 0, 2, 'ab');
    assembler.add('2', 0, 2, 'cd');
    assembler.add('3', 0, 2, 'abc');
    expect(assembler.pendingChars).toBe(7 + 3 * FRAGMENT_OVERHEAD_CHARS);
    assembler.add('1', 1, 2, 'e');
    assembler.discard('2');
    expect(() => assembler.add('3', 1, 2, 'def')).toThrow(/limit/);
    expect(assembler.pendingChars).toBe(0);
  });

  test('the default total fits a browser tab and a whole reply', () => {
    expect(DEFAULT_MAX_TOTAL_CHARS).toBe(256 * 1024 * 1024);
    expect(DEFAULT_MAX_TOTAL_CHARS).toBeGreaterThanOrEqual(DEFAULT_MAX_PAYLOAD_CHARS);
    expect(new FragmentAssembler().maxTotalChars).toBe(DEFAULT_MAX_TOTAL_CHARS);
  });
});
