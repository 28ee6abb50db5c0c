/** Types of a module's `api_info` reply (`ModuleAPIModel`, PROTOCOL.md §11). */

/** A JSON Schema object as pydantic produces it. */
export type JsonSchema = Record<string, any>;

/** One function or method. */
export interface FunctionApiInfo {
  name: string;
  rpc_schema: JsonSchema;
  return_schema: JsonSchema;
}

/** One class with its constructor schema and methods. */
export interface ClassApiInfo {
  name: string;
  rpc_schema: JsonSchema;
  methods: FunctionApiInfo[];
}

/** What a module offers. */
export interface ModuleApiInfo {
  classes: ClassApiInfo[];
  functions: FunctionApiInfo[];
  rpc_schema: JsonSchema;
}

/** The one-line summary of a member's documentation (first paragraph of its description). */
export function summary(schema: JsonSchema | undefined): string {
  const text = typeof schema?.description === 'string' ? schema.description : '';
  return text.split(/\n\s*\n/)[0].trim();
}
