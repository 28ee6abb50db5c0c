import { callArguments, codeSnippet, formMagic, pythonLiteral, pythonName } from '../src/cells';

const addSchema = {
  title: 'FuncAdd',
  properties: {
    func_name: { const: 'add', type: 'string' },
    a: { type: 'integer', description: 'first number' },
    b: { type: 'integer', default: 1 },
    reporter: { is_reporter: true, default: null }
  },
  required: ['func_name', 'a']
};

describe('inserted cells', () => {
  test('the form magic names topic and member', () => {
    expect(formMagic({ topic: 'climate', path: 'add', schema: addSchema })).toBe(
      '%dasf form climate.add'
    );
    expect(formMagic({ topic: 'g', path: 'Greeter.greet', schema: {} })).toBe(
      '%dasf form g.Greeter.greet'
    );
  });

  test('call arguments: required as ..., defaults as Python literals, no reporters', () => {
    expect(callArguments(addSchema)).toBe('a=..., b=1');
  });

  test('a function snippet connects and calls', () => {
    const code = codeSnippet({ topic: 'my-climate', path: 'add', schema: addSchema }, 'ws://b/ws');
    expect(code).toBe(
      [
        'from dasf_jupyter.client import connect',
        '',
        'my_climate = connect("ws://b/ws").module("my-climate")',
        'result = my_climate.add(a=..., b=1)',
        'result'
      ].join('\n')
    );
  });

  test("with the Jupyter server's broker the snippet reads URL and token from the kernel", () => {
    const code = codeSnippet(
      { topic: 'my-climate', path: 'add', schema: addSchema },
      'ws://127.0.0.1:41234/ws',
      false,
      true
    );
    expect(code).not.toContain('41234');
    expect(code).toBe(
      [
        'import os',
        '',
        'from dasf_jupyter.client import connect',
        '',
        "# the Jupyter server's DASF broker",
        'my_climate = connect(os.environ["DASF_BROKER_URL"], os.environ.get("DASF_TOKEN"))' +
          '.module("my-climate")',
        'result = my_climate.add(a=..., b=1)',
        'result'
      ].join('\n')
    );
  });

  test('a method snippet constructs the class first; tokens come from the environment', () => {
    const code = codeSnippet(
      {
        topic: 'g',
        path: 'Greeter.greet',
        schema: { properties: { func_name: {}, times: { default: 1 } } },
        classSchema: { properties: { class_name: {}, name: {} }, required: ['name'] }
      },
      'ws://b/ws',
      true
    );
    expect(code).toContain('import os');
    expect(code).toContain('connect("ws://b/ws", os.environ.get("DASF_TOKEN"))');
    expect(code).toContain('instance = g.Greeter(name=...)');
    expect(code).toContain('result = instance.greet(times=1)');
  });

  test('JSON defaults become Python literals', () => {
    expect(pythonLiteral({ a: [true, null, 'x"y', 1.5] })).toBe('{"a": [True, None, "x\\"y", 1.5]}');
    expect(pythonName('2-topics')).toBe('_2_topics');
  });
});
