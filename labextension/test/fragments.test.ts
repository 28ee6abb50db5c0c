import { DasfProtocolError } from '../src/dasf/errors';
import { FragmentAssembler, fragmentIndex } from '../src/dasf/fragments';

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
});
