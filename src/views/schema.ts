// Contracts of saved views: a named filter expression (docs/filters.md) with a sort, per user.
import { z } from 'zod';
import { orderSchema, sortSchema } from '../search/schema.js';

const name = z.string().trim().min(1, { message: 'must not be empty' }).max(100, { message: 'must be at most 100 characters' });
const filter = z
  .string()
  .max(2000, { message: 'must be at most 2000 characters' })
  .meta({ description: 'A filter expression (docs/filters.md); empty = every task', example: '(today | overdue) & #work' });

export const viewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    filter: z.string(),
    sort: sortSchema.nullable().meta({ description: 'null: the default (rank when searching, else created)' }),
    order: orderSchema.nullable().meta({ description: "null: the sort's natural order" }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
    version: z.number().int(),
  })
  .meta({ id: 'View' });
export type ViewView = z.infer<typeof viewSchema>;

export const viewListSchema = z.object({ items: z.array(viewSchema) });

export const createViewBody = z
  .object({ name, filter: filter.default(''), sort: sortSchema.nullish(), order: orderSchema.nullish() })
  .strict();
export type CreateViewInput = z.infer<typeof createViewBody>;

export const updateViewBody = z
  .object({ name: name.optional(), filter: filter.optional(), sort: sortSchema.nullish(), order: orderSchema.nullish() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field must be given' });
export type UpdateViewInput = z.infer<typeof updateViewBody>;

export const viewIdParams = z.object({ id: z.uuid({ message: 'must be a view id (uuid)' }) });
