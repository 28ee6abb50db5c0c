import {
  decodeDelivery,
  decodePublishAck,
  encodeConsumerAck,
  encodePublish,
  intProp,
  requestTtl,
  stringProp
} from '../src/dasf/envelope';
import { DasfProtocolError } from '../src/dasf/errors';

describe('envelopes', () => {
  test('a publish frame has payload, properties and context', () => {
    const frame = JSON.parse(encodePublish('NQ==', { messageType: 'request' }, '7'));
    expect(frame).toEqual({ payload: 'NQ==', properties: { messageType: 'request' }, context: '7' });
  });

  test('a request may wait in the broker until shortly before its caller gives up', () => {
    expect(requestTtl(60_000)).toBe('59.000');
    expect(requestTtl(2_000)).toBe('1.800');
    expect(Number(requestTtl(1))).toBeGreaterThan(0);
  });

  test('a consumer ack carries only the message id', () => {
    expect(JSON.parse(encodeConsumerAck('abc'))).toEqual({ messageId: 'abc' });
  });

  test('a Django delivery decodes with messageId and publishTime', () => {
    const delivery = decodeDelivery(
      JSON.stringify({
        payload: '',
        properties: { messageType: 'pong', requestContext: 1 },
        context: 1,
        messageId: 'id-1',
        publishTime: '2024-05-01T12:00:00+00:00'
      })
    );
    expect(delivery.messageId).toBe('id-1');
    expect(delivery.publishTime).toBe('2024-05-01T12:00:00+00:00');
    expect(stringProp(delivery.properties, 'requestContext')).toBe('1');
  });

  test.each([
    ['not json', /not JSON/],
    ['[1, 2]', /not a JSON object/],
    ['{"properties": {}}', /payload/],
    ['{"payload": "", "properties": []}', /properties/],
    ['{"payload": 5, "properties": {}}', /payload/]
  ])('a malformed delivery %s is a protocol error', (text, message) => {
    expect(() => decodeDelivery(text)).toThrow(DasfProtocolError);
    expect(() => decodeDelivery(text)).toThrow(message);
  });

  test('a binary frame is a protocol error', () => {
    expect(() => decodeDelivery(new Uint8Array([1, 2]))).toThrow(/not a text frame/);
  });

  test('acks need a result string', () => {
    expect(decodePublishAck('{"result": "ok", "context": "3", "messageId": "m"}')).toEqual({
      result: 'ok',
      context: '3',
      messageId: 'm',
      errorMsg: undefined
    });
    expect(() => decodePublishAck('{"context": "3"}')).toThrow(DasfProtocolError);
  });

  test('integer properties are read from numbers and Pulsar-style strings', () => {
    expect(intProp({ fragment: 3 }, 'fragment')).toBe(3);
    expect(intProp({ fragment: '3' }, 'fragment')).toBe(3);
    expect(intProp({ fragment: '3.5' }, 'fragment')).toBeUndefined();
    expect(intProp({ fragment: '' }, 'fragment')).toBeUndefined();
    expect(intProp({}, 'fragment')).toBeUndefined();
    expect(stringProp({ a: { b: 1 } }, 'a')).toBeUndefined();
  });
});
