import { readFileSync } from 'fs';

import { checkTopic, newResponseTopic, topicNameError } from '../src/dasf/urls';

// the Python table (tests/protocol/test_names.py) when pytest runs this suite, else a sample
type Case = [string, boolean];
const CASES: Case[] = process.env.DASF_TEST_NAME_CASES
  ? (JSON.parse(readFileSync(process.env.DASF_TEST_NAME_CASES, 'utf-8')) as Case[])
  : [
      ['a.b', true],
      ['x'.repeat(200), true],
      ['-x', false],
      ['a..b', false],
      ['ab\n', false],
      ['x'.repeat(201), false]
    ];

describe('topic names follow the rules of the Python client and the broker', () => {
  test.each(CASES)('%j valid: %s', (name, valid) => {
    expect(topicNameError(name) === null).toBe(valid);
    if (valid) {
      expect(checkTopic(name)).toBe(name);
    } else {
      expect(() => checkTopic(name)).toThrow(/invalid topic name/);
    }
  });

  test('a response topic of the longest topic is itself a valid name', () => {
    const response = newResponseTopic('x'.repeat(200));
    expect(topicNameError(response)).toBeNull();
  });
});
