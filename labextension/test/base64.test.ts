import {
  decodeJsonPayload,
  decodeTextPayload,
  encodeJsonPayload,
  encodeTextPayload
} from '../src/dasf/base64';
import { DasfProtocolError } from '../src/dasf/errors';

describe('UTF-8 safe base64 payloads', () => {
  test.each(['Grüße', '温度 🌡️ ≥ 3 K', '', 'plain ascii', 'x'.repeat(100_000) + 'ß'])(
    'text %# round-trips and matches the bytes Python would send',
    text => {
      const payload = encodeTextPayload(text);
      expect(payload).toBe(Buffer.from(text, 'utf-8').toString('base64'));
      expect(decodeTextPayload(payload)).toBe(text);
    }
  );

  test('a payload encoded by Python decodes to the same text', () => {
    // base64.b64encode("Grüße".encode()).decode() in Python
    expect(decodeTextPayload('R3LDvMOfZQ==')).toBe('Grüße');
  });

  test('JSON values round-trip', () => {
    const value = { func_name: 'greet', name: 'Jürgen', list: [1, 2.5, null, true] };
    expect(decodeJsonPayload(encodeJsonPayload(value))).toEqual(value);
  });

  test('invalid base64 is a protocol error', () => {
    expect(() => decodeTextPayload('not base64!!')).toThrow(DasfProtocolError);
  });

  test('invalid UTF-8 is a protocol error, not mojibake', () => {
    expect(() => decodeTextPayload(Buffer.from([0xff, 0xfe, 0x41]).toString('base64'))).toThrow(
      /UTF-8/
    );
  });

  test('non-JSON text is a protocol error', () => {
    expect(() => decodeJsonPayload(encodeTextPayload('error executing request'))).toThrow(
      DasfProtocolError
    );
  });
});
