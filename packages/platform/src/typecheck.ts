import type { z } from "zod";

/** `T` with every nested property and array readonly. */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * `true` when a zod schema's output and a documented interface describe the same shape (ignoring
 * readonly). Used as `const _check: SchemaMatches<typeof schema, Interface> = true;` so a field
 * added to one but not the other fails compilation.
 */
export type SchemaMatches<S extends z.ZodType, T> = [DeepReadonly<z.output<S>>] extends [DeepReadonly<T>]
  ? [DeepReadonly<T>] extends [DeepReadonly<z.output<S>>]
    ? true
    : false
  : false;
