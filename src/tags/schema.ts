// Contracts of the tag endpoints: the user's tags with their open-task counts, create,
// rename/recolor, delete, and adding or removing tags on one task.
import { z } from 'zod';
import { tagNameSchema } from '../tasks/schema.js';

const color = z
  .string()
  .regex(/^#[0-9a-fA-F]{6}$/, { message: 'must be a hex color such as #1e90ff' })
  .transform((c) => c.toLowerCase())
  .meta({ example: '#1e90ff' });

export const tagSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    color: z.string().nullable(),
    open_tasks: z.number().int().meta({ description: 'Open tasks you can see that carry this tag' }),
    created_at: z.iso.datetime(),
    version: z.number().int(),
  })
  .meta({ id: 'Tag' });
export type TagView = z.infer<typeof tagSchema>;

export const tagListSchema = z.object({ items: z.array(tagSchema) });

export const createTagBody = z.object({ name: tagNameSchema, color: color.nullish() }).strict();
export type CreateTagInput = z.infer<typeof createTagBody>;

export const updateTagBody = z
  .object({ name: tagNameSchema.optional(), color: color.nullish() })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field must be given' });
export type UpdateTagInput = z.infer<typeof updateTagBody>;

export const tagIdParams = z.object({ id: z.uuid({ message: 'must be a tag id (uuid)' }) });

export const addTaskTagsBody = z
  .object({ tags: z.array(tagNameSchema).min(1, { message: 'name at least one tag' }).max(50) })
  .strict();

export const taskTagParams = z.object({
  id: z.uuid({ message: 'must be a task id (uuid)' }),
  name: tagNameSchema,
});
