/** Option schemas shared by the identity policies, with messages validation completes. */
import { z } from "zod";

// Messages start with "must": validation puts the value found in front of them.

/** An HTTP header name (RFC 9110 token). */
export { headerName } from "../policies/header_field_schemas.ts";

/** The name of an environment variable holding secrets. */
export const envVarName = z.string().regex(
  /^[A-Za-z_][A-Za-z0-9_]*$/,
  "must be an environment variable name (letters, digits and _, not starting with a digit)",
);

/**
 * Requires exactly one of two options that supply the same thing (`keys`/`keysEnv`). Runs even
 * when other keys have issues, so the whole list of problems is reported at once.
 */
export function exactlyOneOf<T extends object>(
  schema: z.ZodType<T>,
  inline: keyof T & string,
  fromEnv: keyof T & string,
  what: string,
): z.ZodType<T> {
  return schema.superRefine((value, ctx) => {
    const record = value as Record<string, unknown>;
    const hasInline = record[inline] !== undefined;
    const hasEnv = record[fromEnv] !== undefined;
    if (hasInline === hasEnv) {
      ctx.addIssue({
        code: "custom",
        message: hasInline
          ? `give either "${inline}" or "${fromEnv}", not both: ${what} come from one place`
          : `needs "${inline}" (hashed in the config) or "${fromEnv}" (an environment variable)`,
        input: value,
      });
    }
  }, {
    when: ({ value }) => typeof value === "object" && value !== null && !Array.isArray(value),
  });
}
