/** Text of the notebook cells that the sidebar inserts. */

import { JsonSchema } from './dasf/apiinfo';

/** A callable member of a module: a function, or a class method (`Class.method`). */
export interface MemberRef {
  topic: string;
  /** `func` or `Class.method`. */
  path: string;
  /** The call schema (`rpc_schema`) of the function or method. */
  schema: JsonSchema;
  /** For methods: the constructor schema of the class. */
  classSchema?: JsonSchema;
}

/** The `%dasf form` magic that renders a form for the member. */
export function formMagic(member: MemberRef): string {
  return `%dasf form ${member.topic}.${member.path}`;
}

/**
 * Python code that calls the member with the Python client.
 *
 * `fromServer`: the broker is the Jupyter server's, whose kernels inherit its URL and token as
 * `DASF_BROKER_URL` and `DASF_TOKEN`; the snippet reads them there instead of hard-coding a
 * port that changes with every server start.
 */
export function codeSnippet(
  member: MemberRef,
  brokerUrl: string,
  needsToken = false,
  fromServer = false
): string {
  const variable = pythonName(member.topic);
  // the token itself never goes into the notebook, only where to find it
  const token = needsToken || fromServer ? ', os.environ.get("DASF_TOKEN")' : '';
  const url = fromServer ? 'os.environ["DASF_BROKER_URL"]' : pythonString(brokerUrl);
  const lines = [
    ...(needsToken || fromServer ? ['import os', ''] : []),
    'from dasf_jupyter.client import connect',
    '',
    ...(fromServer ? ["# the Jupyter server's DASF broker"] : []),
    `${variable} = connect(${url}${token}).module(${pythonString(member.topic)})`
  ];
  const [first, second] = member.path.split('.');
  if (second === undefined) {
    lines.push(`result = ${variable}.${first}(${callArguments(member.schema)})`);
  } else {
    const args = callArguments(member.classSchema ?? {});
    lines.push(`instance = ${variable}.${first}(${args})`);
    lines.push(`result = instance.${second}(${callArguments(member.schema)})`);
  }
  lines.push('result');
  return lines.join('\n');
}

/** Keyword arguments for a call schema: defaults filled in, `...` where a value is required. */
export function callArguments(schema: JsonSchema): string {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set<string>(Array.isArray(schema.required) ? schema.required : []);
  const args: string[] = [];
  for (const [name, property] of Object.entries(properties)) {
    if (name === 'func_name' || name === 'class_name' || name === 'function') {
      continue; // discriminators, set by the client
    }
    if (property.is_reporter) {
      continue; // progress reporters are filled in by the backend
    }
    if (required.has(name) || !('default' in property)) {
      args.push(`${name}=...`);
    } else {
      args.push(`${name}=${pythonLiteral(property.default)}`);
    }
  }
  return args.join(', ');
}

/** A Python literal for a JSON value. */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) {
    return 'None';
  }
  if (value === true || value === false) {
    return value ? 'True' : 'False';
  }
  if (typeof value === 'string') {
    return pythonString(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(pythonLiteral).join(', ')}]`;
  }
  if (typeof value === 'object') {
    const items = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${pythonString(k)}: ${pythonLiteral(v)}`
    );
    return `{${items.join(', ')}}`;
  }
  return String(value);
}

/** A Python string literal (JSON escapes are valid Python escapes). */
function pythonString(text: string): string {
  return JSON.stringify(text);
}

/** A Python identifier for a topic name (`my-topic` → `my_topic`). */
export function pythonName(topic: string): string {
  const name = topic.replace(/\W/g, '_');
  return /^\d/.test(name) ? `_${name}` : name;
}
