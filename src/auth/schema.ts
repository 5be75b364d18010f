// Contracts of the account and token endpoints: validation, types and OpenAPI in one place.
import { z } from 'zod';
import { isValidTimeZone } from '../time/zones.js';

export const timeZoneSchema = z
  .string()
  .refine(isValidTimeZone, { message: 'must be an IANA time zone such as Europe/Berlin' })
  .meta({ example: 'Europe/Berlin' });

export const emailSchema = z
  .email({ message: 'must be an email address' })
  .max(254)
  .transform((e) => e.trim());

export const passwordSchema = z
  .string()
  .min(8, { message: 'must be at least 8 characters' })
  .max(200, { message: 'must be at most 200 characters' });

export const signUpBody = z
  .object({
    email: emailSchema,
    password: passwordSchema,
    display_name: z.string().trim().min(1).max(100).optional(),
    time_zone: timeZoneSchema.default('UTC'),
  })
  .strict();
export type SignUpInput = z.infer<typeof signUpBody>;

export const logInBody = z.object({ email: emailSchema, password: z.string().min(1).max(200) }).strict();
export const refreshBody = z.object({ refresh_token: z.string().min(1).max(200) }).strict();

export const userSchema = z.object({
  id: z.uuid(),
  email: z.string(),
  display_name: z.string(),
  time_zone: z.string(),
  role: z.enum(['user', 'admin']),
  inbox_list_id: z.uuid(),
  created_at: z.iso.datetime(),
});
export type UserView = z.infer<typeof userSchema>;

export const updateMeBody = z
  .object({ display_name: z.string().trim().min(1).max(100).optional(), time_zone: timeZoneSchema.optional() })
  .strict();

export const sessionSchema = z.object({
  token_type: z.literal('Bearer'),
  access_token: z.string(),
  expires_in: z.number().int().meta({ description: 'Seconds until the access token expires' }),
  refresh_token: z.string(),
  user: userSchema,
});
export type SessionView = z.infer<typeof sessionSchema>;

export const createApiTokenBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    expires_in_days: z.number().int().min(1).max(3650).optional(),
  })
  .strict();

export const apiTokenSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string().meta({ description: 'First characters of the token, to recognise it' }),
  created_at: z.iso.datetime(),
  expires_at: z.iso.datetime().nullable(),
  last_used_at: z.iso.datetime().nullable(),
});
export const createdApiTokenSchema = apiTokenSchema.extend({
  token: z.string().meta({ description: 'The secret, shown only once' }),
});
